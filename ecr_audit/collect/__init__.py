"""Read-only collection of one AWS account into a snapshot (boto3 at the edge, pure after it).

Each source is a module with ``get_*`` functions (API calls only), ``transform_*`` functions (pure
reshaping of the answers) and one ``collect_*`` that runs the calls through the coverage recorder;
:func:`collect_account` glues them. Only ``Get*``, ``List*``, ``Describe*`` and ``BatchGet*``
operations are ever sent (``tests/test_collect_moto.py::test_collector_sends_only_read_operations``
proves it), plus ``sts:AssumeRole`` into each member account when a whole organisation is
collected (:mod:`ecr_audit.collect.organization_wide`).
"""

from __future__ import annotations

from ecr_audit.collect.account import collect_account
from ecr_audit.collect.session import CollectionError, client_config, make_session

__all__ = ["CollectionError", "client_config", "collect_account", "make_session"]

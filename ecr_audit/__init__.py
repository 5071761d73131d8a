"""ecr-audit: who can use Amazon ECR in an AWS account, decided the way AWS decides.

The package follows the pipeline collect -> snapshot -> tables -> policy/effective -> findings ->
report; each stage is importable on its own.
"""

from __future__ import annotations

from ecr_audit._version import __version__

__all__ = ["__version__", "load"]


def load(path, expectations=None):  # noqa: ANN001 - thin re-export, typed in ecr_audit.audit
    """Load a snapshot (or AWS CLI authorization details) into an :class:`~ecr_audit.audit.Audit`;
    ``expectations``: an expectations file for its findings."""
    from ecr_audit.audit import load as _load

    return _load(path, expectations)

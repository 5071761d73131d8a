"""One module per finding type; :mod:`ecr_audit.findings.registry` finds them all.

A module defines its rule with :func:`ecr_audit.findings.registry.rule` and documents, in its
docstring, what fires it, what it groups by and the grouping key its finding ids hash.
"""

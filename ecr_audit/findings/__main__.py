"""``python -m ecr_audit.findings > docs/rules.md``: the rule table, written from the registry."""

from ecr_audit.findings.registry import rules_markdown

print(rules_markdown(), end="")

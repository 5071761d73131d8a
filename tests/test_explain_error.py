"""``explain`` from what the user holds: AccessDenied texts as AWS prints them, principals as STS,
IAM and the report write them, and image URIs; the output leads with the cause and its fix.

The message forms follow the IAM user guide's access-denied messages ("because no <policy type>
allows", "with an explicit deny in a <policy type>"), with the wrappers the AWS CLI, docker and the
ECR credential helper put around them.
"""

from __future__ import annotations

import io
import json

import pytest

from ecr_audit.access_denied import NotAnAccessDenied, parse_access_denied, principal_reference
from ecr_audit.cli import main
from ecr_audit.demo import DEMO_EXPECTATIONS

ACCOUNT = "123456789012"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/jenkins-legacy/build-42"
REPOSITORY = f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/legacy/monolith"
LOGIN = "ecr:GetAuthorizationToken"


@pytest.mark.parametrize("text, layer, explicit", [
    (f"User: {SESSION} is not authorized to perform: {LOGIN} on resource: * because no identity-based policy "
     f"allows the {LOGIN} action", "identity", False),
    (f"User: {SESSION} is not authorized to perform: {LOGIN} on resource: * with an explicit deny in a service "
     "control policy", "scp", True),
    (f"User: {SESSION} is not authorized to perform: ecr:BatchGetImage on resource: {REPOSITORY} with an explicit "
     "deny in a resource control policy", "rcp", True),
    (f"User: {SESSION} is not authorized to perform: {LOGIN} on resource: * with an explicit deny in a permissions "
     "boundary", "boundary", True),
    (f"User: {SESSION} is not authorized to perform: {LOGIN} on resource: * because no permissions boundary allows "
     f"the {LOGIN} action", "boundary", False),
    (f"User: {SESSION} is not authorized to perform: {LOGIN} on resource: * with an explicit deny in an "
     "identity-based policy", "identity", True),
    (f"User: {SESSION} is not authorized to perform: ecr:PutImage on resource: {REPOSITORY} because no "
     "resource-based policy allows the ecr:PutImage action", "resource", False),
    (f"User: {SESSION} is not authorized to perform: {LOGIN} on resource: * because no service control policy "
     f"allows the {LOGIN} action", "scp", False),
    (f"User: {SESSION} is not authorized to perform: {LOGIN} on resource: *", None, None),
    (f"User: {SESSION} is not authorized to perform: {LOGIN} on resource: * with an explicit deny", None, True),
])
def test_each_access_denied_form_gives_principal_action_resource_and_layer(text, layer, explicit) -> None:
    denied = parse_access_denied(text)

    assert denied.principal == SESSION
    assert denied.action in (LOGIN, "ecr:BatchGetImage", "ecr:PutImage")
    assert denied.resource in ("*", REPOSITORY)
    assert (denied.layer, denied.explicit) == (layer, explicit)


@pytest.mark.parametrize("wrapped", [
    # the AWS CLI
    "An error occurred (AccessDeniedException) when calling the GetAuthorizationToken operation: {message}",
    # docker push / pull
    "denied: {message}",
    # the Amazon ECR Docker credential helper, through docker
    "error getting credentials - err: exit status 1, out: `operation error ECR: GetAuthorizationToken, https "
    "response error StatusCode: 400, RequestID: 5e1b, api error AccessDeniedException: {message}`",
    # a JSON log line with escaped quotes and line breaks
    '{{"error": "{message}\\n\\tstatus code: 400, request id: 5e1b"}}',
])
def test_tool_wrappers_around_the_message_are_ignored(wrapped) -> None:
    message = (f"User: {SESSION} is not authorized to perform: {LOGIN} on resource: * because no identity-based "
               f"policy allows the {LOGIN} action")

    denied = parse_access_denied(wrapped.format(message=message))

    assert (denied.principal, denied.action, denied.resource, denied.layer) == (SESSION, LOGIN, "*", "identity")


def test_a_newer_message_naming_the_denying_policy_keeps_its_arn() -> None:
    policy = f"arn:aws:iam::{ACCOUNT}:policy/security/DenyProdImageOverwrite"
    denied = parse_access_denied(f"User: {SESSION} is not authorized to perform: ecr:PutImage on resource: "
                                 f"{REPOSITORY} with an explicit deny in an identity-based policy: {policy}")

    assert denied.policy_arn == policy and denied.explicit


def test_text_without_a_denial_is_refused() -> None:
    with pytest.raises(NotAnAccessDenied):
        parse_access_denied("Error response from daemon: login attempt failed with status: 400 Bad Request")


@pytest.mark.parametrize("written, kind, name, path", [
    (SESSION, "role", "jenkins-legacy", None),
    (f"arn:aws:iam::{ACCOUNT}:role/jenkins-legacy", "role", "jenkins-legacy", None),
    (f"arn:aws:iam::{ACCOUNT}:role/ci/jenkins-legacy", "role", "jenkins-legacy", "/ci/"),
    ("role/ci/jenkins-legacy", "role", "jenkins-legacy", "/ci/"),
    ("user/alice.nguyen", "user", "alice.nguyen", None),
    ("jenkins-legacy", None, "jenkins-legacy", None),
])
def test_principal_forms(written, kind, name, path) -> None:
    reference = principal_reference(written)

    assert (reference.kind, reference.name, reference.path) == (kind, name, path)


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

"""AccessDenied texts as AWS prints them, and principals as STS, IAM and the report write them
(:mod:`ecr_audit.access_denied`).

The message forms follow the IAM user guide's access-denied messages ("because no <policy type>
allows", "with an explicit deny in a <policy type>"), with the wrappers the AWS CLI, docker and the
ECR credential helper put around them.
"""

from __future__ import annotations

import pytest

from ecr_audit.access_denied import NotAnAccessDenied, parse_access_denied, principal_reference

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

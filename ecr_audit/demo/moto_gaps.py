"""What the demo organisation needs from moto 5.2 beyond its API, kept in one module.

Everything else in the demo is created through boto3 over HTTP, as in a real account. These
reach into moto's in-process objects, which works only because :func:`ecr_audit.demo.server.moto_server`
runs the emulator in this process; each is kept to one place so it is easy to drop when moto grows
the feature or the speed.

1. **Delegated administration of AWS Organizations.** In AWS the management account can delegate
   Organizations read actions (``ListParents``, ``ListPoliciesForTarget``, ``DescribePolicy``, ...) to a
   member account with a resource-based delegation policy (``organizations:PutResourcePolicy``). That
   is how an audit run from a member account sees the SCPs and RCPs above it. moto has neither the
   operation nor the delegation; :func:`install` adds ``PutResourcePolicy``/``DescribeResourcePolicy``
   and answers a member account's *read* calls from the management account's organisation when,
   and only when, the stored delegation policy allows that account that action.
2. **Backdated user activity.** IAM has no API to set when a user was created or last used its
   password or keys, yet "a user unused for 90 days" is a finding the demo must show.
   :func:`backdate_user_activity` is the one function that rewrites those timestamps.
3. **Speed.** moto keeps one IAM backend per account *and partition* and, with
   ``MOTO_IAM_LOAD_MANAGED_POLICIES``, builds all ~1,580 AWS managed policies in each; finding which
   account an access key belongs to creates every partition's backend of every account, about a
   second per account. :func:`install` makes only the ``aws`` partition load them: nothing here
   uses the China, GovCloud or ISO partitions.
4. **Authorization details as AWS returns them.** ``GetAccountAuthorizationDetails`` in AWS lists
   the AWS managed policies in use in the account; moto lists all ~1,580, which makes the call
   (serialising and parsing every document) most of a demo collection's time. Inside
   :func:`authorization_details_as_aws`, moto lists only those attached or used as a permissions
   boundary. It is opt-in because the collector's own tests want moto's full list, to prove that
   the collector drops unused policies itself.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fnmatch
import json
import threading
from typing import Any, Iterator

_install_lock = threading.Lock()
_INSTALLED_MARK = "_ecr_audit_moto_gaps_installed"
#: attribute on the management account's OrganizationsBackend that holds the delegation policy
_DELEGATION_ATTRIBUTE = "_ecr_audit_resource_policy"
#: only these may be delegated here: the emulation never lets a member account change the organisation
_READ_ONLY_PREFIXES = ("Describe", "List")
_AWS_POLICY_PREFIX = "arn:aws:iam::aws:policy/"
#: how many authorization_details_as_aws() blocks are open (the server's threads read it)
_authorization_details_as_aws_depth = 0


def install() -> None:
    """Teach moto's Organizations the delegation policy; load AWS managed policies once per account.

    Idempotent, and process-wide: moto's classes are patched, so every server in this process
    behaves the same.
    """
    from moto.iam.models import IAMBackend
    from moto.organizations.responses import OrganizationsResponse

    with _install_lock:
        if getattr(OrganizationsResponse, _INSTALLED_MARK, False):
            return
        load_aws_policies = IAMBackend._init_aws_policies

        def _init_aws_policies_in_aws_partition_only(backend: Any) -> list[Any]:
            return load_aws_policies(backend) if backend.partition == "aws" else []

        IAMBackend._init_aws_policies = _init_aws_policies_in_aws_partition_only
        IAMBackend.get_account_authorization_details = _listing_only_used_aws_policies(
            IAMBackend.get_account_authorization_details)
        own_backend = OrganizationsResponse.organizations_backend.fget
        OrganizationsResponse.organizations_backend = property(_delegating_backend(own_backend))
        OrganizationsResponse.put_resource_policy = _put_resource_policy
        OrganizationsResponse.describe_resource_policy = _describe_resource_policy
        setattr(OrganizationsResponse, _INSTALLED_MARK, True)


@contextlib.contextmanager
def authorization_details_as_aws() -> Iterator[None]:
    """While open, moto's GetAccountAuthorizationDetails leaves out unused AWS managed policies."""
    global _authorization_details_as_aws_depth
    with _install_lock:
        _authorization_details_as_aws_depth += 1
    try:
        yield
    finally:
        with _install_lock:
            _authorization_details_as_aws_depth -= 1


def _listing_only_used_aws_policies(get_details: Any) -> Any:
    def get_account_authorization_details(backend: Any, policy_filter: list[str]) -> dict[str, Any]:
        details = get_details(backend, policy_filter)
        if _authorization_details_as_aws_depth:
            boundaries = {entity.permissions_boundary_arn for entity in backend.roles.values()}
            details["managed_policies"] = [
                policy for policy in details["managed_policies"]
                if not policy.arn.startswith(_AWS_POLICY_PREFIX)
                or policy.attachment_count > 0 or policy.arn in boundaries
            ]
        return details

    return get_account_authorization_details


def _delegating_backend(own_backend: Any) -> Any:
    def organizations_backend(response: Any) -> Any:
        from moto.organizations.models import organizations_backends

        backend = own_backend(response)
        if backend.org is not None:  # the management account answers for itself
            return backend
        management = organizations_backends.master_accounts.get(response.current_account)
        if management is None:
            return backend
        management_backend = organizations_backends[management[0]][management[1]]
        action = response._get_action()
        if management_backend.org is not None and _delegation_allows(
            getattr(management_backend, _DELEGATION_ATTRIBUTE, None), response.current_account, action
        ):
            return management_backend
        return backend

    return organizations_backend


def _delegation_allows(policy: dict[str, Any] | None, account_id: str, action: str) -> bool:
    """Does the delegation policy allow this member account this read action?

    Deliberately narrow: Allow statements naming the account (id or ``:root`` ARN) and an action
    pattern; anything else in the policy grants nothing here.
    """
    if not policy or not action.startswith(_READ_ONLY_PREFIXES):
        return False
    wanted = f"organizations:{action}".lower()
    for statement in _as_list(policy.get("Statement")):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        principals = _as_list(principal.get("AWS")) if isinstance(principal, dict) else []
        if account_id not in principals and f"arn:aws:iam::{account_id}:root" not in principals:
            continue
        if any(fnmatch.fnmatchcase(wanted, str(pattern).lower())
               for pattern in _as_list(statement.get("Action"))):
            return True
    return False


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _resource_policy_response(backend: Any) -> str:
    stored = getattr(backend, _DELEGATION_ATTRIBUTE, None)
    if stored is None:
        from moto.organizations.exceptions import OrganizationsClientError

        raise OrganizationsClientError("ResourcePolicyNotFoundException",
                                       "The organization has no resource-based delegation policy.")
    org = backend.org
    policy_id = "rp-" + org.id.split("-", 1)[-1][:8]
    return json.dumps({"ResourcePolicy": {
        "ResourcePolicySummary": {
            "Id": policy_id,
            "Arn": f"arn:aws:organizations::{org.master_account_id}:resourcepolicy/{org.id}/{policy_id}",
        },
        "Content": json.dumps(stored),
    }})


def _put_resource_policy(response: Any) -> str:
    from moto.organizations.exceptions import AWSOrganizationsNotInUseException

    backend = response.organizations_backend
    if backend.org is None:
        raise AWSOrganizationsNotInUseException
    setattr(backend, _DELEGATION_ATTRIBUTE, json.loads(response._get_param("Content")))
    return _resource_policy_response(backend)


def _describe_resource_policy(response: Any) -> str:
    from moto.organizations.exceptions import AWSOrganizationsNotInUseException

    backend = response.organizations_backend
    if backend.org is None:
        raise AWSOrganizationsNotInUseException
    return _resource_policy_response(backend)


def backdate_user_activity(
    account_id: str,
    user_name: str,
    *,
    created_days_ago: int,
    password_last_used_days_ago: int | None,
    access_keys_last_used_days_ago: int | None,
    last_used_service: str = "ecr",
    last_used_region: str = "eu-west-1",
) -> None:
    """Move a user's creation and last-use times into the past (moto keeps them in memory only).

    Rewrites the user's ``CreateDate``, ``PasswordLastUsed`` and, for each access key, its
    ``CreateDate`` and last use (``None`` = never used). These are exactly the fields that
    ``ListUsers``, ``ListAccessKeys`` and ``GetAccessKeyLastUsed`` report.
    """
    from moto.iam.models import AccessKeyLastUsed, iam_backends

    now = _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)  # moto keeps naive UTC times
    user = iam_backends[account_id]["global"].get_user(user_name)
    user.create_date = now - _dt.timedelta(days=created_days_ago)
    user.password_last_used = (None if password_last_used_days_ago is None
                               else now - _dt.timedelta(days=password_last_used_days_ago))
    for key in user.access_keys:
        key.create_date = user.create_date
        key.last_used = (None if access_keys_last_used_days_ago is None else AccessKeyLastUsed(
            timestamp=now - _dt.timedelta(days=access_keys_last_used_days_ago),
            service=last_used_service, region=last_used_region))

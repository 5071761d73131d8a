"""Changes an engineer is about to make, applied to a copy of a snapshot: what-if, before deploying.

Each change is a small frozen dataclass naming what IAM or ECR would be asked to do
(:class:`AttachPolicy`, :class:`DetachPolicy`, :class:`PutInlinePolicy`, :class:`DeleteInlinePolicy`,
:class:`SetBoundary`, :class:`AddToGroup`, :class:`SetRepositoryPolicy`,
:class:`DeleteRepositoryPolicy`). :func:`apply_changes` applies them in order to a copy of a
snapshot dict (``docs/snapshot.md``; its ``iam`` part has the shape of IAM's
GetAccountAuthorizationDetails) and says which principals and repositories they can affect, so that
only those are evaluated again (:mod:`ecr_audit.whatif.incremental`).

The copy is copy-on-write: only the lists and entities a change touches are copied; everything
else is the same object as in the original, which is also how the next build of the tables knows
what it need not parse again (``build_tables(reuse=...)``).

A change that makes no sense is refused with :class:`ChangeError` (one line, naming the change),
as AWS would refuse it: an unknown user, role, group, policy or repository (with the close
matches), a document the policy engine cannot read (:func:`ecr_audit.policy.parse_policy`), an
identity policy with a ``Principal`` or a resource policy without one, a policy already attached or
not attached, an inline policy that is not there, a document over the size AWS accepts.

Sizes, as AWS documents them:

- IAM (IAM User Guide, "IAM and AWS STS quotas, name requirements, and character limits"): a managed
  policy holds at most 6,144 characters; the inline policies of one identity together at most
  2,048 characters for a user, 10,240 for a role and 5,120 for a group; "IAM doesn't count white
  space when calculating the size of a policy against these limits".
- ECR (Amazon ECR API Reference, SetRepositoryPolicy): ``policyText`` has "Length Constraints:
  Minimum length of 0. Maximum length of 10240": the text as sent, white space included.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Union

from ecr_audit.aws_managed_policies import aws_managed_policies
from ecr_audit.effective.names import close_matches
from ecr_audit.policy import PolicyParseError, parse_policy
from ecr_audit.tables.policies import inline_policy_id, is_aws_managed_arn, repository_policy_id

__all__ = ["ChangeError", "PolicyDocument", "Change", "AttachPolicy", "DetachPolicy", "PutInlinePolicy",
           "DeleteInlinePolicy", "SetBoundary", "AddToGroup", "SetRepositoryPolicy", "DeleteRepositoryPolicy",
           "Applied", "apply_changes", "MANAGED_POLICY_LIMIT", "INLINE_POLICY_LIMITS", "REPOSITORY_POLICY_LIMIT",
           "GROUPS_PER_USER_LIMIT"]

#: characters (white space not counted) of a managed policy document
MANAGED_POLICY_LIMIT = 6_144
#: characters (white space not counted) of all the inline policies of one identity, by its kind
INLINE_POLICY_LIMITS = {"user": 2_048, "role": 10_240, "group": 5_120}
#: characters of a repository policy's text, white space included (SetRepositoryPolicy policyText)
REPOSITORY_POLICY_LIMIT = 10_240
#: groups an IAM user can be a member of (IAM quotas, not adjustable)
GROUPS_PER_USER_LIMIT = 10

_ENTITY_LISTS = {"user": "UserDetailList", "role": "RoleDetailList", "group": "GroupDetailList"}
_NAME_KEYS = {"user": "UserName", "role": "RoleName", "group": "GroupName"}
_INLINE_LISTS = {"user": "UserPolicyList", "role": "RolePolicyList", "group": "GroupPolicyList"}


class ChangeError(ValueError):
    """A change that cannot be applied; the message (one line) names the change and the problem."""


@dataclass(frozen=True)
class PolicyDocument:
    """A policy document given as such (from a file): a dict, or its JSON text as written.

    ``name`` names the customer managed policy it becomes when attached or set as a boundary."""

    name: str
    document: Union[dict, str] = field(repr=False)

    def parsed(self) -> dict:
        """The document as a dict (JSON text is read here; a bad one is a :class:`ChangeError`)."""
        if isinstance(self.document, dict):
            return self.document
        try:
            value = json.loads(self.document)
        except json.JSONDecodeError as error:
            raise ChangeError(f"policy {self.name!r} is not valid JSON: {error}") from None
        if not isinstance(value, dict):
            raise ChangeError(f"policy {self.name!r} is not a JSON object")
        return value

    def text(self) -> str:
        return self.document if isinstance(self.document, str) else json.dumps(self.document, indent=2)


PolicySource = Union[str, PolicyDocument]


@dataclass(frozen=True)
class AttachPolicy:
    """Attach a managed policy (an ARN: the snapshot's, or AWS managed from the catalogue), or a new
    customer managed policy made of a document, to a user, role or group."""

    principal: str
    policy: PolicySource

    def describe(self) -> str:
        return f"attach {_source_words(self.policy)} to {self.principal}"


@dataclass(frozen=True)
class DetachPolicy:
    principal: str
    policy_arn: str

    def describe(self) -> str:
        return f"detach {self.policy_arn} from {self.principal}"


@dataclass(frozen=True)
class PutInlinePolicy:
    """Add an inline policy to a user, role or group, or replace the one of that name."""

    principal: str
    name: str
    document: Union[dict, str] = field(repr=False)

    def describe(self) -> str:
        return f"put inline policy {self.name!r} on {self.principal}"


@dataclass(frozen=True)
class DeleteInlinePolicy:
    principal: str
    name: str

    def describe(self) -> str:
        return f"delete inline policy {self.name!r} of {self.principal}"


@dataclass(frozen=True)
class SetBoundary:
    """Set (or replace) the permissions boundary of a user or role."""

    principal: str
    policy: PolicySource

    def describe(self) -> str:
        return f"set the permissions boundary of {self.principal} to {_source_words(self.policy)}"


@dataclass(frozen=True)
class AddToGroup:
    user: str
    group: str

    def describe(self) -> str:
        return f"add {self.user} to group {self.group}"


@dataclass(frozen=True)
class SetRepositoryPolicy:
    """Set (or replace) a repository's policy: name, ``<region>/<name>``, URI or ARN."""

    repository: str
    document: Union[dict, str] = field(repr=False)

    def describe(self) -> str:
        return f"set the repository policy of {self.repository}"


@dataclass(frozen=True)
class DeleteRepositoryPolicy:
    repository: str

    def describe(self) -> str:
        return f"delete the repository policy of {self.repository}"


Change = Union[AttachPolicy, DetachPolicy, PutInlinePolicy, DeleteInlinePolicy, SetBoundary, AddToGroup,
               SetRepositoryPolicy, DeleteRepositoryPolicy]


@dataclass(frozen=True)
class Applied:
    """A snapshot with changes applied, and what they can affect."""

    snapshot: dict[str, Any]
    changes: tuple[Change, ...]
    #: the users and roles whose own policies (direct, inline, group, boundary) changed
    principals: frozenset[str]
    #: the repositories whose policy changed
    repositories: frozenset[str]


def _source_words(source: PolicySource) -> str:
    return source if isinstance(source, str) else f"new policy {source.name!r}"


def apply_changes(snapshot: dict[str, Any], changes: Iterable[Change]) -> Applied:
    """``snapshot`` with ``changes`` applied in order (``snapshot`` itself is not modified).

    Raises :class:`ChangeError` for the first change that cannot be applied."""
    changes = tuple(changes)
    working = _Working(snapshot)
    for change in changes:
        try:
            _APPLY[type(change)](working, change)
        except ChangeError as error:
            raise ChangeError(f"{change.describe()}: {error}") from None
    principals = set(working.principals)
    members = working.members()
    for group in working.groups:
        principals.update(members.get(group, ()))
    return Applied(working.snapshot, changes, frozenset(principals), frozenset(working.repositories))


# --- the copy-on-write snapshot --------------------------------------------------------------------

class _Working:
    """The snapshot being changed: containers are copied on their first change, the rest is shared."""

    def __init__(self, snapshot: dict[str, Any]) -> None:
        self.snapshot = dict(snapshot)
        if snapshot.get("iam") is None:
            raise ChangeError("the snapshot has no IAM data (not collected)")
        self._iam: dict[str, Any] | None = None
        self.account_id = str((snapshot.get("account") or {}).get("id", ""))
        self.partition = (snapshot.get("account") or {}).get("partition") or "aws"
        self._copied: set[int] = set()
        self.principals: set[str] = set()
        self.groups: set[str] = set()
        self.repositories: set[str] = set()
        self._ecr_copied = False

    @property
    def iam(self) -> dict[str, Any]:
        """The snapshot's IAM part, copied (and its entity and policy lists) on first use: a change
        to repositories alone leaves the snapshot's own, which ``build_tables(reuse=)`` then
        recognises as unchanged (the tables read from it are the previous ones)."""
        if self._iam is None:
            self._iam = dict(self.snapshot["iam"])
            self.snapshot["iam"] = self._iam
            for key in (*_ENTITY_LISTS.values(), "Policies"):
                self._iam[key] = list(self._iam.get(key) or ())
        return self._iam

    # IAM entities -----------------------------------------------------------------------------
    def entity(self, given: str, kinds: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
        """(kind, a private copy of the entity) for a name or ARN among ``kinds``."""
        found = []
        for kind in kinds:
            entities = self.iam[_ENTITY_LISTS[kind]]
            for index, entity in enumerate(entities):
                if given in (entity.get("Arn"), entity.get(_NAME_KEYS[kind])):
                    found.append((kind, index))
        if len(found) > 1:
            raise ChangeError(f"{given!r} is ambiguous: "
                              + ", ".join(self.iam[_ENTITY_LISTS[k]][i]["Arn"] for k, i in found) + "; give the ARN")
        if not found:
            for kind in set(_ENTITY_LISTS) - set(kinds):
                if any(given in (entity.get("Arn"), entity.get(_NAME_KEYS[kind]))
                       for entity in self.iam[_ENTITY_LISTS[kind]]):
                    raise ChangeError(f"{given!r} is a {kind}; this change takes a {_either(kinds)}")
            names = [entity.get(key) for kind in kinds for entity in self.iam[_ENTITY_LISTS[kind]]
                     for key in (_NAME_KEYS[kind], "Arn")]
            raise ChangeError(f"unknown {_either(kinds)} {given!r}{_did_you_mean(given, names)}")
        kind, index = found[0]
        return kind, self._own(self.iam[_ENTITY_LISTS[kind]], index)

    def _own(self, items: list[Any], index: int) -> Any:
        item = items[index]
        if id(item) not in self._copied:
            item = copy.deepcopy(item)
            items[index] = item
            self._copied.add(id(item))
        return item

    def touched(self, kind: str, entity: dict[str, Any]) -> None:
        """Record whose policies changed: a user or role, or every member of a group."""
        if kind == "group":
            self.groups.add(entity["GroupName"])
        else:
            self.principals.add(entity["Arn"])

    def members(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for user in self.snapshot["iam"].get("UserDetailList") or ():
            for group in user.get("GroupList") or ():
                found.setdefault(group, []).append(user["Arn"])
        return found

    # managed policies -------------------------------------------------------------------------
    def managed_policy(self, source: PolicySource) -> str:
        """The ARN of ``source``: the snapshot's policy, an AWS managed one added from the catalogue,
        or a new customer managed policy made of a document."""
        policies = self.iam["Policies"]
        by_arn = {policy.get("Arn"): index for index, policy in enumerate(policies)}
        if isinstance(source, PolicyDocument):
            arn = f"arn:{self.partition}:iam::{self.account_id}:policy/{source.name}"
            document = _checked(source.parsed(), arn, identity=True)
            _check_size(document, MANAGED_POLICY_LIMIT, f"managed policy {source.name!r}")
            if arn in by_arn:
                raise ChangeError(f"a customer managed policy named {source.name!r} already exists ({arn}); "
                                  "name the file differently, or attach the existing policy by its ARN")
            policies.append({
                "PolicyName": source.name, "PolicyId": f"WHATIF{source.name.upper()}", "Arn": arn, "Path": "/",
                "DefaultVersionId": "v1", "AttachmentCount": 0, "PermissionsBoundaryUsageCount": 0,
                "IsAttachable": True,
                "PolicyVersionList": [{"Document": document, "VersionId": "v1", "IsDefaultVersion": True}],
            })
            return arn
        arn = source
        if arn in by_arn:
            return arn
        if is_aws_managed_arn(arn):
            name = arn.rsplit("/", 1)[-1]
            catalogue = aws_managed_policies()
            data = catalogue.get(name)
            expected = f"arn:{self.partition}:iam::aws:policy{data['Path']}{name}" if data else None
            if data is None or expected != arn:
                suggestions = [f"arn:{self.partition}:iam::aws:policy{catalogue[match]['Path']}{match}"
                               for match in close_matches(name, list(catalogue), count=3)]
                raise ChangeError(f"AWS has no managed policy {arn}{_did_you_mean(arn, suggestions, close=False)}")
            policies.append({
                "PolicyName": name, "Arn": arn, "Path": data["Path"], "DefaultVersionId": data["DefaultVersionId"],
                "AttachmentCount": 0, "PermissionsBoundaryUsageCount": 0, "IsAttachable": True,
                "PolicyVersionList": [{"Document": copy.deepcopy(data["Document"]),
                                       "VersionId": data["DefaultVersionId"], "IsDefaultVersion": True}],
            })
            return arn
        known = [policy.get("Arn") for policy in policies if not is_aws_managed_arn(policy.get("Arn") or "")]
        raise ChangeError(f"no customer managed policy {arn} in the snapshot{_did_you_mean(arn, known)}")

    def count(self, arn: str, key: str, delta: int) -> None:
        """Keep ``AttachmentCount`` / ``PermissionsBoundaryUsageCount`` what IAM would report."""
        policies = self.iam["Policies"]
        for index, policy in enumerate(policies):
            if policy.get("Arn") == arn:
                policy = policies[index] = dict(policy)
                policy[key] = max(0, int(policy.get(key) or 0) + delta)
                return

    # repositories -------------------------------------------------------------------------------
    def repository(self, given: str) -> dict[str, Any]:
        """A private copy of the repository ``given`` names (ARN, URI, ``<region>/<name>`` or name)."""
        ecr = self.snapshot.get("ecr") or {}
        text = given.split(".amazonaws.com/", 1)[1] if ".amazonaws.com/" in given else given
        found = []
        for region, registry in ecr.items():
            for index, repository in enumerate((registry or {}).get("repositories") or ()):
                names = (repository.get("repositoryArn"), repository.get("repositoryUri"),
                         f"{region}/{repository.get('repositoryName')}")
                if given in names or text == repository.get("repositoryName"):
                    found.append((region, index))
        if len(found) > 1:
            raise ChangeError(f"repository {given!r} is in more than one region: "
                              + ", ".join(f"{region}/{text}" for region, _ in found) + "; give the region or ARN")
        if not found:
            located = [(repository.get("repositoryName"), f"{region}/{repository.get('repositoryName')}")
                       for region, registry in ecr.items() for repository in (registry or {}).get("repositories") or ()]
            close = set(close_matches(text.rsplit("/", 1)[-1] if text.count("/") and text.split("/")[0] in ecr else text,
                               [name for name, _ in located]))
            suggestions = [full for name, full in located if name in close]
            raise ChangeError(f"unknown repository {given!r}{_did_you_mean(text, suggestions, close=False)}")
        region, index = found[0]
        if not self._ecr_copied:
            self.snapshot["ecr"] = dict(ecr)
            self._ecr_copied = True
        registry = self.snapshot["ecr"][region]
        if id(registry) not in self._copied:
            registry = dict(registry)
            registry["repositories"] = list(registry["repositories"])
            self.snapshot["ecr"][region] = registry
            self._copied.add(id(registry))
        repository = self._own(registry["repositories"], index)
        self.repositories.add(repository["repositoryArn"])
        return repository


def _either(kinds: tuple[str, ...]) -> str:
    return kinds[0] if len(kinds) == 1 else f"{', '.join(kinds[:-1])} or {kinds[-1]}"


def _did_you_mean(given: str, names: Iterable[str | None], close: bool = True) -> str:
    names = [name for name in dict.fromkeys(names) if name]
    names = close_matches(given, names, count=3) if close else names
    return f"; did you mean: {', '.join(names)}?" if names else ""


def _size(document: dict) -> int:
    """Characters of a document as IAM counts them: white space not counted."""
    return sum(1 for character in json.dumps(document, separators=(",", ":"), ensure_ascii=False)
               if not character.isspace())


def _check_size(document: dict, limit: int, what: str) -> None:
    size = _size(document)
    if size > limit:
        raise ChangeError(f"{what} is {size:,} characters (white space not counted), over IAM's limit of {limit:,}")


def _checked(document: Any, policy_id: str, *, identity: bool) -> dict:
    """The document, read by the policy engine as the audit will read it; refused when it cannot be,
    or when it has (identity) or lacks (resource) a Principal element."""
    if isinstance(document, str):
        document = PolicyDocument(policy_id, document).parsed()
    try:
        policy = parse_policy(document, policy_id)
    except PolicyParseError as error:
        raise ChangeError(f"the policy cannot be read: {error}") from None
    for statement in policy.statements:
        has_principal = "Principal" in statement.raw or "NotPrincipal" in statement.raw
        if identity and has_principal:
            raise ChangeError(f"statement {statement.index} has a Principal element, which an identity policy "
                              "cannot have (IAM refuses it: MalformedPolicyDocument)")
        if not identity and not has_principal:
            raise ChangeError(f"statement {statement.index} has no Principal element, which a repository policy "
                              "needs (ECR refuses it)")
    return document


# --- one function per change ------------------------------------------------------------------------

def _attach(working: _Working, change: AttachPolicy) -> None:
    kind, entity = working.entity(change.principal, ("user", "role", "group"))
    arn = working.managed_policy(change.policy)
    attached = entity.setdefault("AttachedManagedPolicies", [])
    if any(item.get("PolicyArn") == arn for item in attached):
        raise ChangeError(f"{arn} is already attached")
    attached.append({"PolicyName": arn.rsplit("/", 1)[-1], "PolicyArn": arn})
    working.count(arn, "AttachmentCount", 1)
    working.touched(kind, entity)


def _detach(working: _Working, change: DetachPolicy) -> None:
    kind, entity = working.entity(change.principal, ("user", "role", "group"))
    attached = entity.get("AttachedManagedPolicies") or []
    kept = [item for item in attached if item.get("PolicyArn") != change.policy_arn]
    if len(kept) == len(attached):
        names = [item.get("PolicyArn") for item in attached]
        raise ChangeError(f"{change.policy_arn} is not attached to it"
                          + (f" (attached: {', '.join(names)})" if names else " (it has no managed policy)"))
    entity["AttachedManagedPolicies"] = kept
    working.count(change.policy_arn, "AttachmentCount", -1)
    working.touched(kind, entity)


def _inline_size(entity: dict[str, Any], kind: str) -> int:
    return sum(_size(item.get("PolicyDocument") or {}) for item in entity.get(_INLINE_LISTS[kind]) or ())


def _put_inline(working: _Working, change: PutInlinePolicy) -> None:
    kind, entity = working.entity(change.principal, ("user", "role", "group"))
    policy_id = inline_policy_id(entity["Arn"], change.name)
    document = _checked(change.document, policy_id, identity=True)
    policies = [item for item in entity.get(_INLINE_LISTS[kind]) or () if item.get("PolicyName") != change.name]
    policies.append({"PolicyName": change.name, "PolicyDocument": document})
    entity[_INLINE_LISTS[kind]] = policies
    size, limit = _inline_size(entity, kind), INLINE_POLICY_LIMITS[kind]
    if size > limit:
        raise ChangeError(f"the inline policies of {kind} {entity[_NAME_KEYS[kind]]} would be {size:,} characters "
                          f"(white space not counted), over IAM's limit of {limit:,} for a {kind}")
    working.touched(kind, entity)


def _delete_inline(working: _Working, change: DeleteInlinePolicy) -> None:
    kind, entity = working.entity(change.principal, ("user", "role", "group"))
    policies = entity.get(_INLINE_LISTS[kind]) or []
    kept = [item for item in policies if item.get("PolicyName") != change.name]
    if len(kept) == len(policies):
        names = [item.get("PolicyName") for item in policies]
        raise ChangeError(f"it has no inline policy {change.name!r}{_did_you_mean(change.name, names)}"
                          if names else "it has no inline policy")
    entity[_INLINE_LISTS[kind]] = kept
    working.touched(kind, entity)


def _set_boundary(working: _Working, change: SetBoundary) -> None:
    kind, entity = working.entity(change.principal, ("user", "role"))
    arn = working.managed_policy(change.policy)
    previous = (entity.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    if previous == arn:
        raise ChangeError(f"{arn} is already its permissions boundary")
    if previous:
        working.count(previous, "PermissionsBoundaryUsageCount", -1)
    entity["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn}
    working.count(arn, "PermissionsBoundaryUsageCount", 1)
    working.touched(kind, entity)


def _add_to_group(working: _Working, change: AddToGroup) -> None:
    _, group = working.entity(change.group, ("group",))
    kind, user = working.entity(change.user, ("user",))
    groups = user.setdefault("GroupList", [])
    if group["GroupName"] in groups:
        raise ChangeError(f"{user['UserName']} is already a member of {group['GroupName']}")
    if len(groups) >= GROUPS_PER_USER_LIMIT:
        raise ChangeError(f"{user['UserName']} is already in {len(groups)} groups, IAM's limit per user")
    groups.append(group["GroupName"])
    working.touched(kind, user)


def _set_repository_policy(working: _Working, change: SetRepositoryPolicy) -> None:
    repository = working.repository(change.repository)
    text = change.document if isinstance(change.document, str) else json.dumps(change.document, indent=2)
    _checked(text, repository_policy_id(repository["repositoryArn"]), identity=False)
    if len(text) > REPOSITORY_POLICY_LIMIT:
        raise ChangeError(f"the policy text is {len(text):,} characters, over ECR's limit of "
                          f"{REPOSITORY_POLICY_LIMIT:,} (SetRepositoryPolicy policyText)")
    repository["policyText"] = text


def _delete_repository_policy(working: _Working, change: DeleteRepositoryPolicy) -> None:
    repository = working.repository(change.repository)
    if repository.get("policyText") is None:
        raise ChangeError("it has no repository policy")
    repository["policyText"] = None


_APPLY = {
    AttachPolicy: _attach, DetachPolicy: _detach, PutInlinePolicy: _put_inline, DeleteInlinePolicy: _delete_inline,
    SetBoundary: _set_boundary, AddToGroup: _add_to_group, SetRepositoryPolicy: _set_repository_policy,
    DeleteRepositoryPolicy: _delete_repository_policy,
}

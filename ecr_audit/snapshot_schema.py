"""The JSON Schema of the fields a snapshot's readers use, checked before any of them is used.

:func:`ecr_audit.snapshot.read_snapshot` validates every document against :data:`SNAPSHOT_SCHEMA`,
so a damaged or hand-made file (a user without ``Arn``, ``levels`` as a string, a tag that is a
number) fails there with the path of the bad field, not as a ``KeyError`` in a table builder.
The schema names what the tables, the engine and the report read, with the types they read it
as; everything else AWS returns is kept and passed through unchecked (``additionalProperties``
is allowed throughout), and policy documents are checked by the policy parser, which reports a bad
one as an unreadable policy with its name.
"""

from __future__ import annotations

from typing import Any

from ecr_audit.input_limits import quote

_STR = {"type": "string"}
_STR_OR_NULL = {"type": ["string", "null"]}
_STRINGS = {"type": "array", "items": _STR}
_DOCUMENT = {"type": ["object", "string"]}  # IAM documents decoded, or their text (AWS CLI output)
_TAGS = {"type": "array", "items": {"type": "object", "required": ["Key"],
                                    "properties": {"Key": _STR, "Value": _STR}}}
_ATTACHED = {"type": "array", "items": {"type": "object", "required": ["PolicyArn"],
                                        "properties": {"PolicyArn": _STR, "PolicyName": _STR}}}


def _inline(document_key: str = "PolicyDocument") -> dict[str, Any]:
    return {"type": "array", "items": {"type": "object", "required": ["PolicyName", document_key],
                                       "properties": {"PolicyName": _STR, document_key: _DOCUMENT}}}


_BOUNDARY = {"type": ["object", "null"], "properties": {"PermissionsBoundaryArn": _STR}}
_ENTITY = {"Arn": _STR, "Path": _STR, "CreateDate": _STR_OR_NULL, "Tags": _TAGS,
           "AttachedManagedPolicies": _ATTACHED, "PermissionsBoundary": _BOUNDARY}
_USER = {"type": "object", "required": ["UserName", "Arn"],
         "properties": {**_ENTITY, "UserName": _STR, "UserId": _STR, "GroupList": _STRINGS,
                        "UserPolicyList": _inline()}}
_ROLE = {"type": "object", "required": ["RoleName", "Arn"],
         "properties": {**_ENTITY, "RoleName": _STR, "RoleId": _STR, "RolePolicyList": _inline(),
                        "AssumeRolePolicyDocument": _DOCUMENT,
                        "RoleLastUsed": {"type": "object", "properties": {"LastUsedDate": _STR_OR_NULL}}}}
_GROUP = {"type": "object", "required": ["GroupName", "Arn"],
          "properties": {**_ENTITY, "GroupName": _STR, "GroupId": _STR, "GroupPolicyList": _inline()}}
_POLICY = {"type": "object", "required": ["Arn"],
           "properties": {"Arn": _STR, "PolicyName": _STR, "DefaultVersionId": _STR,
                          "AttachmentCount": {"type": "integer"},
                          "PolicyVersionList": {"type": "array", "items": {
                              "type": "object", "properties": {"Document": _DOCUMENT, "VersionId": _STR,
                                                               "IsDefaultVersion": {"type": "boolean"}}}}}}
IAM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"UserDetailList": {"type": "array", "items": _USER},
                   "RoleDetailList": {"type": "array", "items": _ROLE},
                   "GroupDetailList": {"type": "array", "items": _GROUP},
                   "Policies": {"type": "array", "items": _POLICY}},
}
_REPOSITORY = {"type": "object", "required": ["repositoryName", "repositoryArn"],
               "properties": {"repositoryName": _STR, "repositoryArn": _STR, "registryId": _STR,
                              "repositoryUri": _STR, "createdAt": _STR_OR_NULL,
                              "imageTagMutability": _STR_OR_NULL,
                              "tags": {"anyOf": [_TAGS, {"type": "null"}]},
                              "policyText": _STR_OR_NULL, "lifecyclePolicyText": _STR_OR_NULL}}
_REGION = {"type": ["object", "null"],
           "properties": {"registry_id": _STR_OR_NULL,
                          "repositories": {"type": ["array", "null"], "items": _REPOSITORY},
                          "registry_policy_text": _STR_OR_NULL, "registry_policy_scope": _STR_OR_NULL,
                          "replication_configuration": {"type": ["object", "null"]}}}
_ORG_POLICIES = {"type": ["array", "null"], "items": {
    "type": "object", "properties": {"id": _STR_OR_NULL, "name": _STR_OR_NULL, "arn": _STR_OR_NULL,
                                     "aws_managed": {"type": "boolean"}, "content": _STR_OR_NULL}}}
_LEVEL = {"type": "object", "required": ["id", "type"],
          "properties": {"id": _STR, "type": {"enum": ["ROOT", "ORGANIZATIONAL_UNIT", "ACCOUNT"]},
                         "name": _STR_OR_NULL, "scps": _ORG_POLICIES, "rcps": _ORG_POLICIES}}
_GAP = {"type": "object", "required": ["service", "operation", "error_code"],
        "properties": {"service": _STR, "operation": _STR, "region": _STR_OR_NULL, "resource": _STR_OR_NULL,
                       "error_code": _STR, "message": _STR_OR_NULL}}
_ACCESS_KEY = {"type": "object", "properties": {"AccessKeyId": _STR_OR_NULL, "Status": _STR_OR_NULL,
                                                "CreateDate": _STR_OR_NULL, "LastUsedDate": _STR_OR_NULL,
                                                "ServiceName": _STR_OR_NULL}}

SNAPSHOT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["schema_version", "collected_at", "account", "regions", "iam", "ecr", "coverage"],
    "properties": {
        "schema_version": {"type": "integer"},
        "collected_at": _STR_OR_NULL,
        "source": _STR,
        "account": {"type": "object", "required": ["id"],
                    "properties": {"id": {"type": "string", "minLength": 1}, "aliases": _STRINGS,
                                   "partition": _STR}},
        "caller": {"type": ["object", "null"], "properties": {"Arn": _STR_OR_NULL, "Account": _STR_OR_NULL}},
        "regions": _STRINGS,
        "iam": {"anyOf": [IAM_SCHEMA, {"type": "null"}]},
        "iam_activity": {"type": ["object", "null"], "properties": {"users": {
            "type": "object", "additionalProperties": {"type": "object", "properties": {
                "PasswordLastUsed": _STR_OR_NULL,
                "AccessKeys": {"type": ["array", "null"], "items": _ACCESS_KEY}}}}}},
        "ecr": {"type": ["object", "null"], "additionalProperties": _REGION},
        "organization": {"type": ["object", "null"],
                         "properties": {"id": _STR_OR_NULL, "management_account_id": _STR_OR_NULL,
                                        "feature_set": _STR_OR_NULL,
                                        "levels": {"type": ["array", "null"], "items": _LEVEL}}},
        "coverage": {"type": "array", "items": _GAP},
    },
}


def _validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(SNAPSHOT_SCHEMA)


def schema_problem(document: Any, schema: dict[str, Any] | None = None) -> str | None:
    """The first way ``document`` breaks the schema, as ``field path: problem``; ``None`` if none."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    validator = _validator() if schema is None else Draft202012Validator(schema)
    error = best_match(validator.iter_errors(document))
    if error is None:
        return None
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path)
    where = where.lstrip(".") or "the document"
    if error.validator == "required":
        problem = error.message.split(" is a required property")[0] + " is missing"
    elif error.validator in ("type", "anyOf"):
        problem = f"must be {_expected(error.schema)}, found {quote(error.instance, 40)}"
    else:
        problem = f"{error.validator} check failed for {quote(error.instance, 40)}"
    return f"{where}: {problem}"


def _expected(schema: dict[str, Any]) -> str:
    kinds = schema.get("type") or [kind for option in schema.get("anyOf", ()) for kind in
                                   ([option.get("type")] if isinstance(option.get("type"), str) else option.get("type") or [])]
    kinds = [kinds] if isinstance(kinds, str) else list(dict.fromkeys(kinds))
    return " or ".join(kinds) if kinds else "as documented"

"""The JSON Schema of the fields a snapshot's readers use, checked before any of them is used.

Validated with fastjsonschema (compiled to Python once per process): on a large account's snapshot
(5,000 roles, 1,500 repositories) it costs about 0.2 s where an interpreting validator such as
jsonschema costs about 2 s, and every command reads a snapshot.

:func:`ecr_audit.snapshot.read_snapshot` validates every document against :data:`SNAPSHOT_SCHEMA`,
so a damaged or hand-made file (a user without ``Arn``, ``levels`` as a string, a tag that is a
number) fails there with the path of the bad field, not as a ``KeyError`` in a table builder.
The schema names what the tables, the engine and the report read, with the types they read it
as; everything else AWS returns is kept and passed through unchecked (``additionalProperties``
is allowed throughout), and policy documents are checked by the policy parser, which reports a bad
one as an unreadable policy with its name.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Callable

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
                              "tags": {**_TAGS, "type": ["array", "null"]},
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
    "$schema": "http://json-schema.org/draft-07/schema#",
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
        "iam": {**IAM_SCHEMA, "type": ["object", "null"]},
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


@functools.lru_cache(maxsize=None)
def _compiled(schema_key: str) -> Callable[[Any], Any]:
    import fastjsonschema

    return fastjsonschema.compile(_SCHEMAS[schema_key])


def schema_problem(document: Any, schema: str = "snapshot") -> str | None:
    """The first way ``document`` breaks the schema (``"snapshot"`` or ``"iam"``), as ``field path:
    problem`` with a bounded quote of the value; ``None`` if it fits.

    fastjsonschema compiles the schema to Python once: validating a large account's snapshot
    takes a tenth of what an interpreting validator takes, and a snapshot is read by every command.
    """
    from fastjsonschema import JsonSchemaValueException

    try:
        _compiled(schema)(document)
    except JsonSchemaValueException as error:
        path = error.path[1:] if error.path and error.path[0] == "data" else list(error.path or ())
        where = "".join(f"[{part}]" if str(part).isdigit() else f".{part}" for part in path).lstrip(".")
        problem = error.message
        if problem.startswith(error.name or "\0"):
            problem = problem[len(error.name):].strip()
        if error.rule == "required":
            missing = [key for key in error.rule_definition if not isinstance(error.value, dict) or key not in error.value]
            problem = f"{', '.join(missing)} is missing"
        elif error.rule == "type":
            problem = f"{problem}, found {_shown(error.value)}"
        return f"{where or 'the document'}: {problem}"
    return None


def _shown(value: Any) -> str:
    """A bounded prefix of a value as JSON would show it (``42``, ``{"id": "p-1"}``, ``'text'``)."""
    if isinstance(value, str):
        return quote(value, 40)
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:40] + "..."


_SCHEMAS = {"snapshot": SNAPSHOT_SCHEMA, "iam": IAM_SCHEMA}

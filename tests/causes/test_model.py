"""A fix's JSON is the edits as ``json.dumps(..., indent=2)`` writes them, however it is assembled."""

from __future__ import annotations

import json

from ecr_audit.causes.model import ATTACH_MANAGED, PUT_INLINE, SET_DOCUMENT, Edit, Fix


def _reference(fix: Fix) -> str:
    return json.dumps([edit.to_dict() for edit in fix.edits], indent=2)


def test_a_fix_json_is_what_the_indenting_encoder_writes_for_its_edits():
    shared = {"Version": "2012-10-17", "Statement": [
        {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Effect": "Deny", "Action": ["ecr:PutImage"], "Resource": ["arn:aws:ecr:eu-west-1:1:repository/a\\nb"],
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}, "Bool": {"aws:SecureTransport": False},
                       "NumericLessThan": {"aws:MultiFactorAuthAge": 3600.5}, "Null": {}}}]}
    fixes = [
        Fix("inline-grant", "", tuple(Edit(PUT_INLINE, f"arn:aws:iam::1:role/r{n}", shared, "EcrLoginFix") for n in range(3))),
        Fix("attach-managed", "", (Edit(ATTACH_MANAGED, "arn:aws:iam::1:role/é", None, "AmazonEC2ContainerRegistryPullOnly"),)),
        Fix("correct-spelling", "", (Edit(SET_DOCUMENT, "policy-1", {}), Edit(SET_DOCUMENT, "policy-2", {"Statement": []}),
                                     Edit(SET_DOCUMENT, "policy-3", dict(shared, Statement=[]), "named \"x\"\t"))),
    ]

    for fix in fixes:
        assert fix.to_json() == _reference(fix)
        assert fix.edits_json == _reference(fix)
    assert Fix("none", "No fix.").to_json() is None

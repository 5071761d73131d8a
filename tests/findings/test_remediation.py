"""Remediation documents: whole policies, as the JSON text a user pastes."""

from __future__ import annotations

import json

from ecr_audit.findings.remediation import POLICY_VERSION, login_statement, policy_json, statement


def test_a_remediation_document_is_the_indented_json_of_a_whole_policy_each_time_it_is_asked():
    pull = statement("Allow", ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], ["arn:aws:ecr:eu-west-1:1:repository/a"],
                     statement_sid="Pull", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}})
    expected = json.dumps({"Version": POLICY_VERSION, "Statement": [login_statement(), pull]}, indent=2)

    assert policy_json(login_statement(), pull) == expected
    assert policy_json(login_statement(), pull) == expected  # the second time from the cache, unchanged
    assert json.loads(policy_json(pull))["Statement"] == [pull]

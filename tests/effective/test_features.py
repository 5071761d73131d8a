"""Statement features over every repository must say what the engine's own matcher says."""

from __future__ import annotations

import pytest

from benchmarks.synthetic import generate_account
from ecr_audit.audit import Audit
from ecr_audit.effective.account import AccountModel
from ecr_audit.effective.features import Lookups, TargetFeatures
from ecr_audit.policy import parse_policy
from support.effective import SMALL_GENERATED

_TRI = {False: 0, True: 1, None: 2}


@pytest.fixture(scope="module")
def model() -> AccountModel:
    return Audit.from_snapshot(generate_account(**{**SMALL_GENERATED, "repositories": 40})).account_model


@pytest.mark.parametrize("resources", [
    ["arn:aws:ecr:us-east-1:*:repository/*"],  # a short prefix: the whole-list scan
    ["arn:aws:ecr:eu-west-1:111122223333:repository/p*"],  # a long prefix: the narrowed range
    ["arn:aws:ecr:us-east-1:111122223333:repository/?????/*", "arn:aws:ecr:eu-west-1:*"],  # both at once
    ["arn:aws:ecr:us-east-1:111122223333:repository/nothing-here*"],  # an empty range
    ["arn:aws:ecr:*:111122223333:repository/*a*"],
])
@pytest.mark.parametrize("negated", [False, True])
def test_resource_scans_agree_with_the_engine_on_every_repository(model, resources, negated) -> None:
    arns = [repository.arn for repository in model.repositories]
    # patterns built from the account's own ARNs, so that the narrow ones match something
    resources = [pattern.replace("111122223333", model.account_id) for pattern in resources]
    resources.append(arns[0][:len(arns[0]) - 2] + "*")
    element = "NotResource" if negated else "Resource"
    statement = parse_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "ecr:BatchGetImage", element: resources}]}, "test").statements[0]
    features = TargetFeatures(model, Lookups(model))
    expected = [_TRI[statement.resources.match(arn, None, False, False)] for arn in arns]
    # the fast scan itself (its spot checks against the engine would hide a wrong answer)
    scanned = features._scanned_mask(statement)
    assert scanned is not None and scanned.tolist() == expected
    assert features._resource_mask(statement, wildcard=False).tolist() == expected
    assert 0 < sum(expected) or negated

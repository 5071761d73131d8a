"""The incremental what-if equals a full re-evaluation, on random changes of generated accounts.

``Audit.with_changes`` re-evaluates only the principals and repositories a change can affect and
splices them into the previous frames; here every cell of ``grouped_permissions``, every row of
``capabilities`` and every finding (id, severity, message...; re-found by the rules only where
the frames changed, see ``ecr_audit.findings.incremental``) must equal those of the changed snapshot evaluated from
scratch. Accounts come from ``benchmarks.synthetic.generate_account`` at a small size (organisation,
boundaries, groups, repository and registry policies included), changes from a seeded random
generator, so a failure names the seed that reproduces it.
"""

from __future__ import annotations

import json
import random

import pytest

from benchmarks.synthetic import generate_account
from ecr_audit.audit import Audit
from ecr_audit.expectations import parse_expectations
from ecr_audit.findings.registry import all_rules
from support.whatif import capability_rows, grouped_cells
from ecr_audit.whatif import (AddToGroup, AttachPolicy, ChangeError, DeleteInlinePolicy, DeleteRepositoryPolicy,
                              DetachPolicy, PolicyDocument, PutInlinePolicy, SetBoundary, SetRepositoryPolicy)

PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
PUSH = ["ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload", "ecr:PutImage"]
ACTION_SETS = [["ecr:GetAuthorizationToken"], PULL, PUSH, ["ecr:*"], ["ecr:SetRepositoryPolicy", "ecr:DeleteRepository"],
               ["ecr:DescribeImages", "ecr:ListImages"], ["ecr:List*", "ecr:BatchGetImage"]]
AWS_MANAGED = ["arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser",
               "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
               "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess"]
SEEDS = range(4)
#: entries whose principals a change can add or take away (``with_ecr_access``, groups), and one
#: whose selection a change can empty (a finding of no principal): with a file, the expectation
#: rules run on the whole account
EXPECTATIONS = parse_expectations({"expectations": [
    {"name": "users with access pull", "principals": {"types": ["user"], "with_ecr_access": True},
     "must": ["pull"], "must_on": "any"},
    {"name": "roles never administer policies", "principals": {"types": ["role"]}, "must_not": ["policy_admin"]},
    {"name": "one role with access logs in", "principals": {"names": ["*-1"], "types": ["role"],
                                                            "with_ecr_access": True}, "must": ["login"]},
]})
CHANGE_SETS_PER_ACCOUNT = 4


def _account(seed: int) -> dict:
    return generate_account(roles=30, users=14, groups=5, managed_policies=25, repositories=16,
                            repository_policies=5, seed=seed)


def _identity_document(rng: random.Random, repositories: list[str]) -> dict:
    statements = []
    for _ in range(rng.randint(1, 3)):
        actions = rng.choice(ACTION_SETS)
        resource = "*" if actions == ACTION_SETS[0] or rng.random() < 0.3 else rng.sample(
            repositories, k=min(len(repositories), rng.randint(1, 3)))
        statement = {"Effect": "Deny" if rng.random() < 0.15 else "Allow", "Action": actions, "Resource": resource}
        if rng.random() < 0.2:
            statement["Condition"] = {"StringEquals": {"aws:PrincipalTag/team": rng.choice(["platform", "payments"])}}
        statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}


def _repository_document(rng: random.Random, account_id: str, principals: list[str]) -> str:
    grantee = rng.choice(["*", f"arn:aws:iam::{account_id}:root", rng.choice(principals), "arn:aws:iam::999988887777:root"])
    statement = {"Sid": "WhatIf", "Effect": "Deny" if rng.random() < 0.15 else "Allow", "Principal": {"AWS": grantee},
                 "Action": rng.choice(ACTION_SETS[1:])}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _random_change(rng: random.Random, snapshot: dict):
    iam = snapshot["iam"]
    users = [entity["Arn"] for entity in iam["UserDetailList"]]
    roles = [entity["Arn"] for entity in iam["RoleDetailList"] if "/aws-service-role/" not in entity["Arn"]]
    groups = [entity["GroupName"] for entity in iam["GroupDetailList"]]
    customer = [policy["Arn"] for policy in iam["Policies"] if ":aws:policy/" not in policy["Arn"]]
    repositories = [r["repositoryArn"] for registry in snapshot["ecr"].values() for r in registry["repositories"]]
    principal = rng.choice(users + roles)
    kind = rng.randrange(10)
    if kind == 0:
        return AttachPolicy(rng.choice(users + roles + groups), rng.choice(customer + AWS_MANAGED))
    if kind == 1:
        return AttachPolicy(principal, PolicyDocument(f"whatif-{rng.randrange(10**6)}",
                                                      _identity_document(rng, repositories)))
    if kind == 2:
        entity = next(e for key in ("UserDetailList", "RoleDetailList") for e in iam[key] if e["Arn"] == principal)
        attached = [item["PolicyArn"] for item in entity.get("AttachedManagedPolicies") or ()]
        return DetachPolicy(principal, rng.choice(attached)) if attached else None
    if kind == 3:
        return PutInlinePolicy(rng.choice(users + roles + groups), f"whatif{rng.randrange(100)}",
                               _identity_document(rng, repositories))
    if kind == 4:
        entity = next(e for key in ("UserDetailList", "RoleDetailList") for e in iam[key] if e["Arn"] == principal)
        inline = [item["PolicyName"] for key in ("UserPolicyList", "RolePolicyList") for item in entity.get(key) or ()]
        return DeleteInlinePolicy(principal, rng.choice(inline)) if inline else None
    if kind == 5:
        return SetBoundary(principal, rng.choice(customer + AWS_MANAGED))
    if kind == 6:
        return AddToGroup(rng.choice(users), rng.choice(groups))
    if kind in (7, 8):
        return SetRepositoryPolicy(rng.choice(repositories),
                                   _repository_document(rng, snapshot["account"]["id"], users + roles))
    with_policy = [r["repositoryArn"] for registry in snapshot["ecr"].values() for r in registry["repositories"]
                   if r.get("policyText")]
    return DeleteRepositoryPolicy(rng.choice(with_policy)) if with_policy else None


def _records(findings) -> list[dict]:
    """Every column of every finding (ids, severities, messages, remediations, causes), in order."""
    return findings.to_dict("records")


@pytest.fixture(scope="module", params=[(seed, with_file) for seed in SEEDS for with_file in (False, True)],
                ids=lambda param: f"seed{param[0]}{'-expectations' if param[1] else ''}")
def base(request) -> tuple[int, Audit]:
    seed, with_file = request.param
    audit = Audit.from_snapshot(_account(seed))
    if with_file:
        audit = audit.with_expectations(EXPECTATIONS)
    audit.findings  # the previous frames the changes are spliced into
    return seed, audit


@pytest.mark.slow
def test_incremental_what_if_equals_a_full_re_evaluation(base) -> None:
    seed, audit = base
    rng = random.Random(f"whatif-{seed}")
    tried = 0
    for _ in range(CHANGE_SETS_PER_ACCOUNT):
        changes = []
        for _ in range(rng.randint(1, 3)):
            change = _random_change(rng, audit.snapshot)
            if change is not None:
                changes.append(change)
        try:
            changed = audit.with_changes(*changes)
        except ChangeError:  # already attached, over a size limit...: AWS would refuse it too
            continue
        tried += 1
        full = Audit.from_snapshot(changed.snapshot).with_expectations(audit.expectations)
        described = f"seed {seed}: " + "; ".join(change.describe() for change in changes)
        assert grouped_cells(changed) == grouped_cells(full), described
        assert capability_rows(changed) == capability_rows(full), described
        assert changed.changed_from is not None  # the rules ran again only where the frames changed
        assert _records(changed.rule_findings) == _records(full.rule_findings), described
        assert _records(changed.findings) == _records(full.findings), described
    assert tried


@pytest.mark.slow
def test_repository_policy_changes_re_find_only_principals_whose_read_cells_differ(base) -> None:
    """A repository policy naming the account adds its statement to every principal's cells on the
    repository; the rules run again only for those whose held, denied or blocked cells differ, and
    the findings still equal those of a full re-evaluation."""
    seed, audit = base
    rng = random.Random(f"whatif-repository-{seed}")
    repositories = list(audit.repositories["repository_arn"])
    principals = list(audit.principals["principal_arn"])
    documents = [json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "AccountPull", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{audit.account_id}:root"},
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:PutImage"]}]})]
    documents += [_repository_document(rng, audit.account_id, principals) for _ in range(4)]
    for document in documents:
        repository = rng.choice(repositories)
        changed = audit.with_changes(SetRepositoryPolicy(repository, document))
        full = Audit.from_snapshot(changed.snapshot).with_expectations(audit.expectations)
        described = f"seed {seed}: {repository} {document}"
        assert grouped_cells(changed) == grouped_cells(full), described
        assert capability_rows(changed) == capability_rows(full), described
        assert _records(changed.rule_findings) == _records(full.rule_findings), described
        assert _records(changed.findings) == _records(full.findings), described
        assert changed.changed_from[2] <= changed.changed_from[1], described
    holders = audit.capabilities["repository_arn"].astype(str).value_counts()
    least_held = min(repositories, key=lambda arn: (holders.get(arn, 0), arn))  # not a base image all pull
    account_wide = audit.with_changes(SetRepositoryPolicy(least_held, documents[0]))
    assert len(account_wide.changed_from[1]) < len(principals)
    # a statement naming the account allows nothing the identity side did not: no cell becomes or
    # stops being held, so the capability actions it does not name are not evaluated again
    assert account_wide.capabilities is audit.capabilities and not account_wide.changed_from[2]
    # its statement joins the allowing statements of every principal there, which no rule reads (it
    # grants nothing by itself): on the repository most principals pull, the rules run again only
    # for those with a cell that changed otherwise (one a Deny now meets, say)
    without_policy = list(audit.repositories.loc[~audit.repositories["has_policy"].astype(bool), "repository_arn"])
    most_held = max(without_policy, key=lambda arn: (holders.get(arn, 0), arn))
    everyone_pulls = audit.with_changes(SetRepositoryPolicy(most_held, documents[0]))
    holding = set(audit.capabilities.loc[(audit.capabilities["repository_arn"] == most_held).to_numpy()
                                         & audit.capabilities["level"].isin(["full", "partial", "conditional"]).to_numpy(),
                                         "principal_arn"].astype(str))
    assert len(everyone_pulls.changed_from[1] & holding) < len(holding)
    assert _records(everyone_pulls.rule_findings) == _records(audit.rule_findings)


def _kinds_of(bits: int) -> set[str]:
    from ecr_audit.findings.registry import CELL_KINDS

    return {kind for index, kind in enumerate(CELL_KINDS) if bits & (1 << index)}


def test_a_cell_changes_for_a_kind_only_in_what_the_rules_of_that_kind_read() -> None:
    """``denied`` is whether the cell is an explicit deny; ``cancelled`` its granting statements,
    denying statements and deciding layer; ``held`` any value but statements naming only the
    account. A statement naming the account that a Deny now meets is a deny and nothing else."""
    import numpy as np
    import pandas as pd

    from ecr_audit.whatif import incremental

    def index(values: list) -> pd.Index:
        return pd.Index(values, dtype=object, tupleize_cols=False)

    categories = {"decision": index(["allowed", "explicit_deny", "implicit_deny"]),
                  "deciding_layer": index(["boundary", "identity"]),
                  "allowing": index([("scp#0", "repo#0:Account"), ("scp#0", "grant#0"),
                                     ("scp#0", "grant#0", "repo#0:Account")]),
                  "denying": index([("boundary#1",), ("boundary#2",)]),
                  "blocked_by": index(["boundary", "identity"])}
    nan = np.nan
    # per cell: (decision, deciding_layer, allowing, denying, blocked_by) before, then after
    sides = {
        "account statement meets a Deny": ((nan,) * 5, (1, 0, 0, 0, -1)),
        "grant cancelled alike, account statement added": ((1, 1, 1, 0, -1), (1, 1, 2, 0, 1)),
        "grant cancelled by another Deny": ((1, 1, 1, 0, -1), (1, 1, 1, 1, -1)),
        "grant taken away": ((0, 1, 1, -1, -1), (nan,) * 5),
        "blocked by the boundary now": ((2, 1, 1, -1, -1), (2, 0, 1, -1, 0)),
    }
    values = ["decision", "deciding_layer", "allowing", "denying", "blocked_by"]
    columns: dict[str, list] = {"principal_arn": list(range(len(sides)))}
    for position, name in enumerate(values):
        columns[name] = [float(old[position]) for old, _ in sides.values()]
        columns[f"{name}_new"] = [float(new[position]) for _, new in sides.values()]
    cells = pd.DataFrame(columns)
    grants = (lambda ids: {item for item in ids if item.startswith("grant")},) * 2
    kinds = incremental._changed_kinds(cells, categories, values, frozenset({"repo#0:Account"}), grants)
    assert {label: _kinds_of(int(bits)) for label, bits in zip(sides, kinds)} == {
        "account statement meets a Deny": {"denied"},
        "grant cancelled alike, account statement added": set(),
        "grant cancelled by another Deny": {"cancelled"},
        "grant taken away": {"held"},
        "blocked by the boundary now": {"blocked"},
    }


def test_an_account_statement_meeting_a_deny_re_runs_only_the_rules_reading_denies(monkeypatch) -> None:
    """The large account's case, small: a repository policy naming the account for pull and push
    makes explicit denies where a Deny meets PutImage, which grant nothing; only the rules that
    read which cells are explicit denies (``Rule.reads``) run again, and the findings still equal
    those of a full re-evaluation."""
    from ecr_audit.findings import incremental as finding_incremental
    from ecr_audit.findings.registry import cell_kinds_read

    audit = Audit.from_snapshot(_account(0))
    audit.findings
    repository = audit.repositories["repository_arn"].iloc[0]
    document = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "AccountPull", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{audit.account_id}:root"},
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:PutImage"]}]})
    ran: list[str] = []
    finding_rows = finding_incremental.finding_rows
    monkeypatch.setattr(finding_incremental, "finding_rows",
                        lambda context, rules: ran.extend(each.id for each in rules) or finding_rows(context, rules))
    changed = audit.with_changes(SetRepositoryPolicy(repository, document))
    kinds = {kind for kind, principals in changed.changed_from[3].items() if principals}
    assert kinds == {"denied"}
    full = Audit.from_snapshot(changed.snapshot)
    assert _records(changed.rule_findings) == _records(full.rule_findings)
    principal_rules = {each.id: each for each in all_rules() if each.scope != "account"}
    assert {rule_id for rule_id in ran if rule_id in principal_rules} == {
        rule_id for rule_id, each in principal_rules.items() if "denied" in cell_kinds_read(each)}
    assert "allow-cancelled-by-deny" not in ran

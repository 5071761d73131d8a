"""The views: where access comes from (granted or public only), per principal, per repository, and
the grouped principals x repositories matrix, from hand-built frames on the small fixture."""

from __future__ import annotations

import pandas as pd

from ecr_audit.arns import short_arn

from ecr_audit.report.data import summarize
from ecr_audit.report.views import grants, grouped_matrix, principal_view, repository_statements
from support.report_data import (ACCOUNT, ALICE, BOB, CAROL, PLAIN, PUSH_WEB, WEB, capability, frames, permission,
                                 tables)  # noqa: F401 - tables is a fixture

PUBLIC = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/web#policy#0:Anyone"
SCP = "arn:aws:organizations::999988887777:policy/o-1/service_control_policy/p-1#0"
KINDS = pd.DataFrame({"statement_id": [PUBLIC, SCP, PUSH_WEB], "policy_id": ["r", "s", "i"],
                      "policy_kind": ["repository", "scp", "inline"]})


def test_a_principal_whose_every_allow_is_open_to_everyone_is_public_only_not_granted(tables):
    audit = frames(tables, permissions=[
        permission(ALICE, "ecr:BatchGetImage", WEB, allowing=(SCP, PUBLIC)),
        permission(BOB, "ecr:BatchGetImage", WEB, allowing=(SCP, PUBLIC)),
        permission(BOB, "ecr:PutImage", WEB, allowing=(SCP, PUSH_WEB)),
    ])

    found = grants(audit.grouped_permissions, KINDS, frozenset({PUBLIC}))

    assert found.granted == {BOB} and found.public_only == {ALICE}
    summary = summarize(audit, audit.findings, grant=found)
    assert (summary.principals_with_access, summary.principals_public_only) == (1, 1)


def test_organisation_policies_let_through_but_are_never_named_as_granting(tables):
    audit = frames(tables, permissions=[permission(BOB, "ecr:PutImage", WEB, allowing=(SCP, PUSH_WEB))])

    found = grants(audit.grouped_permissions, KINDS, frozenset())

    assert found.by_principal == {BOB: {"push": {PUSH_WEB}}}
    assert repository_statements([WEB, PLAIN], found, {PUSH_WEB: "push-web (inline) #0"}) == [
        ["push: push-web (inline) #0"], []]


def test_the_per_principal_view_names_the_principals_own_statements_before_public_ones(tables):
    audit = frames(tables, permissions=[permission(BOB, "ecr:BatchGetImage", WEB, allowing=(PUBLIC,)),
                                        permission(BOB, "ecr:BatchGetImage", PLAIN, allowing=(PUSH_WEB,))])
    found = grants(audit.grouped_permissions, KINDS, frozenset({PUBLIC}))
    matrix = pd.DataFrame([{"principal": "user/ops/bob", "type": "user", "login": "no", "pull": [2, 0, 0],
                            "push": [0, 0, 0], "policy_admin": [0, 0, 0], "repository_admin": [0, 1, 0],
                            "last_used": "never"}])

    view = principal_view(matrix, found, ACCOUNT, {PUSH_WEB: "push-web (inline) #0"}, repository_count=2)

    row = view.iloc[0]
    assert (row["pull"], row["administer"]) == ("every repository (2)", "1 only under conditions")
    assert row["granted_by"] == ["pull: push-web (inline) #0"]


def test_principals_with_the_same_access_share_one_matrix_row_and_repositories_alike_one_column(tables):
    audit = frames(tables, capabilities=[
        capability(ALICE, WEB, "pull"), capability(ALICE, PLAIN, "pull"),
        capability(BOB, WEB, "pull"), capability(BOB, PLAIN, "pull"),
        capability(CAROL, WEB, "push"), capability(CAROL, PLAIN, "repository_admin", "conditional"),
    ])

    matrix = grouped_matrix(audit.capabilities, audit.repositories, {ALICE: "yes", BOB: "yes"}, {ALICE, BOB, CAROL},
                            ACCOUNT)

    assert matrix.principals == 3 and matrix.row_groups == 2
    assert matrix.row_names[0] == ["user/alice", "user/ops/bob"] and matrix.row_login == [2, 0]
    # web and plain differ (carol), the other three repositories are reached by nobody: one column
    assert matrix.column_groups == 3
    columns = {tuple(names): position for position, names in enumerate(matrix.column_names)}
    web, plain = columns[("web (eu-west-1)",)], columns[("plain (eu-west-1)",)]
    assert (matrix.cells[0][web], matrix.cells[0][plain]) == (1, 1)       # pull, pull
    assert (matrix.cells[1][web], matrix.cells[1][plain]) == (2, 3 * 4)   # push; administer only under conditions


def test_grants_and_the_matrix_equal_a_row_by_row_reading_of_the_demo_account():
    """The code-level computation (keys hashed per chunk, levels assigned strongest last) gives what
    reading every row in Python gives, on the demo account."""
    import ecr_audit
    from ecr_audit.findings.grants import EVERYONE
    from ecr_audit.report.data import login_levels
    from ecr_audit.report.views import GROUP_ACTIONS, MATRIX_CAPABILITIES, ORGANISATION_KINDS, public_statement_ids
    from support.paths import REPO

    audit = ecr_audit.load(REPO / "examples" / "demo-snapshot.json.gz")
    public = public_statement_ids(audit.findings, EVERYONE)
    found = grants(audit.grouped_permissions, audit.statements, public)

    kinds = dict(zip(audit.statements["statement_id"], audit.statements["policy_kind"]))
    group_of = {action: group for group, actions in GROUP_ACTIONS.items() for action in actions}
    granted, reached, by_principal = set(), set(), {}
    for row in audit.grouped_permissions.to_dict("records"):
        if row["decision"] not in ("allowed", "conditional"):
            continue
        granting = [s for s in row["allowing"] if kinds.get(s) not in ORGANISATION_KINDS]
        reached.add(row["principal_arn"])
        if any(s not in public for s in granting):
            granted.add(row["principal_arn"])
        if row["action"] in group_of and granting:
            by_principal.setdefault(row["principal_arn"], {}).setdefault(group_of[row["action"]], set()).update(granting)
    assert found.granted == granted and found.public_only == reached - granted
    assert found.by_principal == by_principal

    matrix = grouped_matrix(audit.capabilities, audit.repositories, login_levels(audit.grouped_permissions),
                            found.granted, audit.account_id)
    strongest: dict[tuple[str, str], int] = {}
    for row in audit.capabilities.to_dict("records"):
        rank = MATRIX_CAPABILITIES.get(row["capability"], 0)
        if rank and row["level"] == "full" and row["principal_arn"] in found.granted:
            key = (short_arn(row["principal_arn"], audit.account_id), row["repository_arn"])
            strongest[key] = max(strongest.get(key, 0), rank)
    names = dict(zip(audit.repositories["repository_arn"],
                     (f"{n} ({r})" for n, r in zip(audit.repositories["name"], audit.repositories["region"]))))
    for (principal, repository), rank in strongest.items():
        row = next(i for i, members in enumerate(matrix.row_names) if principal in members)
        column = next(j for j, members in enumerate(matrix.column_names) if names[repository] in members)
        assert matrix.cells[row][column] % 4 == rank
    assert sum(len(members) for members in matrix.row_names) == len(found.granted)

"""What the report says, from hand-built evaluated frames on the small fixture's tables.

The evaluated frames (``permissions``, ``capabilities``, ``findings``) are written here with their
contract columns, so each test states exactly which cells it is about; the tables come from
``tests/fixtures/snapshot_small.json``."""

from __future__ import annotations

import copy
import json

import pandas as pd
import pytest

from ecr_audit.arns import short_arn
from ecr_audit.audit import Audit
from ecr_audit.findings.registry import rules_by_id
from ecr_audit.report.data import (LIST_LIMIT, Namer, build_report, capability_matrix, compare_baseline, conflicts,
                                   findings_view, layer_label, missing_actions, repository_access, summarize)
from ecr_audit.report.gaps import GENERIC_CONSEQUENCE, coverage_gaps
from ecr_audit.snapshot import read_snapshot
from support.report_data import (ACCOUNT, ALICE, BOB, BOUNDARY, CAROL, CI, DEPLOY_ALLOW, DEPLOY_DENY, ECS, OU, PLAIN,
                                 PRIVATE, PUSH_WEB, SMALL, WEB, suppressed, audit_side, capability, finding, frames,
                                 permission, tables)  # noqa: F401 - tables is a fixture


def test_short_arn_drops_the_audited_account_and_keeps_other_accounts_whole():
    assert short_arn(CI, ACCOUNT) == "role/ci/ci-deployer"
    assert short_arn(WEB, ACCOUNT) == "web (eu-west-1)"
    assert short_arn("arn:aws:iam::444455556666:root", ACCOUNT) == "arn:aws:iam::444455556666:root"
    assert short_arn("*", ACCOUNT) == "* (account-wide)"


def test_organisation_layers_are_named_by_their_level():
    assert layer_label(f"scp:{OU}", {OU: "prod"}) == f"SCP at prod ({OU})"
    assert layer_label("rcp:r-1", {}) == "RCP at r-1"
    assert layer_label("boundary", {}) == "permissions boundary"


def test_principals_with_access_counts_allowed_and_conditional_only_apart(tables):
    audit = frames(tables, permissions=[
        permission(ALICE, "ecr:GetAuthorizationToken"),
        permission(ALICE, "ecr:BatchGetImage", WEB, "conditional"),
        permission(BOB, "ecr:BatchGetImage", WEB, "conditional"),
        permission(CAROL, "ecr:PutImage", WEB, "explicit_deny"),
    ])

    summary = summarize(audit, audit.findings)

    assert (summary.principals, summary.users, summary.roles) == (6, 3, 3)
    assert summary.principals_with_access == 1
    assert summary.principals_conditional_only == 1
    assert summary.repositories == 5


def test_findings_below_the_minimum_severity_are_left_out_of_the_table_but_counted(tables):
    audit = frames(tables, findings=[finding("public-repository", "critical", repositories=(WEB,)),
                                     finding("missing-login", "high", principals=(ECS,)),
                                     finding("conditional-access", "low", principals=(ALICE,))])

    report = build_report(audit, min_severity="high")

    assert report.findings["rule"].tolist() == ["public-repository", "missing-login"]
    assert report.summary.findings_by_severity == {"critical": 1, "high": 1, "medium": 0, "low": 1, "info": 0}
    assert report.summary.findings_total == 3


def test_an_unknown_minimum_severity_is_refused(tables):
    with pytest.raises(ValueError, match="severe"):
        build_report(frames(tables), min_severity="severe")


def test_finding_cells_cap_long_lists_say_every_repository_and_name_statements_readably(tables):
    many = tuple(f"arn:aws:iam::{ACCOUNT}:role/r{i:03d}" for i in range(300))
    every = tuple(tables.repositories["repository_arn"])
    audit = frames(tables, findings=[finding("broad-write-access", principals=many, repositories=every,
                                             statements=(PUSH_WEB,)),
                                     finding("partial-capability", principals=many[:3], repositories=every[:2])])

    view = findings_view(audit.findings, namer=Namer(ACCOUNT, every), policies=tables.policies,
                         statements=tables.statements, min_severity="info")

    broad, partial = view.iloc[0], view.iloc[1]
    assert broad["principals"][:2] == ["role/r000", "role/r001"]
    assert len(broad["principals"]) == LIST_LIMIT + 1
    assert broad["principals"][-1] == f"... and {300 - LIST_LIMIT} more (300 in total)"
    assert broad["repositories"] == [f"every repository ({len(every)})"]
    assert broad["statements"] == ["push-web (inline) #0"]
    assert partial["principals"] == ["role/r000", "role/r001", "role/r002"]
    assert partial["repositories"] == ["web (eu-west-1)", "team/broken (eu-west-1)"]


def test_missing_actions_name_the_layer_that_refuses_each_action(tables):
    audit = frames(
        tables,
        permissions=[
            permission(CI, "ecr:PutImage", WEB, "implicit_deny", blocked_by="boundary", layer="boundary"),
            permission(CI, "ecr:UploadLayerPart", WEB, "implicit_deny", blocked_by=f"scp:{OU}", layer=f"scp:{OU}"),
            permission(CI, "ecr:CompleteLayerUpload", WEB, "explicit_deny", layer="identity",
                       denying=(DEPLOY_DENY,), blocked_by="identity"),
            # same action on another repository: not the finding's, must not leak into it
            permission(CI, "ecr:InitiateLayerUpload", PLAIN, "implicit_deny", blocked_by="boundary"),
        ],
        findings=[finding("partial-capability", principals=(CI,), repositories=(WEB,),
                          actions=("ecr:CompleteLayerUpload", "ecr:InitiateLayerUpload", "ecr:PutImage",
                                   "ecr:UploadLayerPart"), remediation='{"Statement": []}')],
    )

    frame = missing_actions(audit, audit.findings, {OU: "prod"})

    row = frame.iloc[0]
    assert row["principals"] == ["role/ci/ci-deployer"] and row["repositories"] == ["web (eu-west-1)"]
    assert row["blocked_at"] == [
        "ecr:CompleteLayerUpload: explicitly denied by the identity policies",
        "ecr:InitiateLayerUpload: no policy allows it",
        "ecr:PutImage: allowed by identity or resource policy, but the permissions boundary does not allow it",
        f"ecr:UploadLayerPart: allowed by identity or resource policy, but the SCP at prod ({OU}) does not allow it",
    ]
    assert row["fix"] == '{"Statement": []}'


def test_each_refusal_says_on_how_many_of_the_findings_repositories_it_holds(tables):
    audit = frames(
        tables,
        permissions=[permission(CI, "ecr:PutImage", WEB, "implicit_deny", blocked_by="boundary", layer="boundary")],
        findings=[finding("partial-capability", principals=(CI,), repositories=(WEB, PLAIN),
                          actions=("ecr:PutImage",))],
    )

    frame = missing_actions(audit, audit.findings, {})

    assert frame.loc[0, "blocked_at"] == [
        "ecr:PutImage: allowed by identity or resource policy, but the permissions boundary does not allow it "
        "(on 1 of 2); no policy allows it (on 1 of 2)"]


def test_missing_login_is_looked_up_on_the_account_wide_resource(tables):
    audit = frames(
        tables,
        permissions=[permission(ECS, "ecr:GetAuthorizationToken", "*", "explicit_deny", layer=f"scp:{OU}",
                                blocked_by=f"scp:{OU}")],
        findings=[finding("missing-login", principals=(ECS,), repositories=(WEB,),
                          actions=("ecr:GetAuthorizationToken",))],
    )

    frame = missing_actions(audit, audit.findings, {OU: "prod"})

    assert frame.loc[0, "blocked_at"] == [f"ecr:GetAuthorizationToken: explicitly denied by the SCP at prod ({OU})"]


def test_an_allow_cancelled_by_a_deny_quotes_both_statements_as_written(tables):
    audit = frames(tables, findings=[finding("allow-cancelled-by-deny", "medium", principals=(CI,),
                                             repositories=(WEB,), actions=("ecr:PutImage",),
                                             statements=(DEPLOY_ALLOW, DEPLOY_DENY))])

    row = conflicts(audit, audit.findings).iloc[0]

    documents = tables.policies.set_index("policy_id")["document"]
    statements = documents[f"arn:aws:iam::{ACCOUNT}:role/ci/ci-deployer/inline/deploy"]["Statement"]
    assert row["allow"] == f"deploy (inline), statement #0:Dup:\n{json.dumps(statements[0], indent=2)}"
    assert row["block"] == f"deploy (inline), statement #2:\n{json.dumps(statements[2], indent=2)}"
    assert row["blocked_by"] == ["deploy (inline)"]


def test_an_allow_blocked_by_a_boundary_quotes_the_boundary_that_does_not_allow_it(tables):
    audit = frames(tables, findings=[finding("allow-blocked-by-boundary", "medium", principals=(ALICE,),
                                             repositories=(WEB,), actions=("ecr:PutImage",),
                                             statements=(PUSH_WEB,), policies=(BOUNDARY, PUSH_WEB.split("#")[0]),
                                             layer="boundary")])

    row = conflicts(audit, audit.findings).iloc[0]

    boundary = tables.policies.set_index("policy_id")["document"][BOUNDARY]
    assert row["blocked_by"] == ["ecr-boundary (managed)"]
    assert row["block"] == ("No statement of the permissions boundary allows these actions. Its policies:\n\n"
                            f"ecr-boundary (managed):\n{json.dumps(boundary, indent=2)}")
    assert row["allow"].startswith("push-web (inline), statement #0:\n")


def test_capability_matrix_counts_repositories_per_level_and_reads_login_from_permissions(tables):
    audit = frames(
        tables,
        permissions=[permission(ALICE, "ecr:GetAuthorizationToken"),
                     permission(BOB, "ecr:GetAuthorizationToken", decision="conditional")],
        capabilities=[capability(ALICE, WEB, "pull"), capability(ALICE, PLAIN, "pull"),
                      capability(ALICE, PRIVATE, "pull", "conditional"), capability(ALICE, WEB, "push", "partial"),
                      capability(BOB, WEB, "policy_admin")],
    )

    matrix = capability_matrix(audit).set_index("principal")

    assert matrix.loc["user/alice", "pull"] == [2, 1, 0]
    assert matrix.loc["user/alice", "push"] == [0, 0, 1]
    assert matrix.loc["user/alice", "login"] == "yes"
    assert matrix.loc["user/ops/bob", "login"] == "conditional"
    assert matrix.loc["user/ops/bob", "policy_admin"] == [1, 0, 0]
    assert "user/carol" not in matrix.index  # no ECR access at all: not a row


def test_repositories_open_to_everyone_or_other_accounts_come_first(tables):
    audit = frames(
        tables,
        capabilities=[capability(ALICE, PLAIN, "pull"), capability(BOB, PLAIN, "pull", "conditional"),
                      capability(BOB, PLAIN, "repository_admin")],
        findings=[finding("cross-account-access", "medium", repositories=(PLAIN,), grantee="444455556666",
                          message="Account 444455556666 has ECR access: repository policy ... allows pull."),
                  finding("public-repository", "critical", repositories=(WEB,), grantee="*")],
    )

    frame = repository_access(audit, audit.findings)

    assert frame["repository"].tolist()[:2] == ["web", "plain"]
    assert frame["exposure"].tolist()[:2] == ["public", "cross-account: Account 444455556666"]
    # GetRepositoryPolicy was denied on 'private': its exposure is unknown, not "private"
    assert frame.set_index("repository").loc["private", "exposure"].startswith("unknown")
    plain = frame.set_index("repository").loc["plain"]
    assert plain["pull"] == ["user/alice", "user/ops/bob (conditional)"]
    assert (plain["pull_count"], plain["admin_count"]) == (2, 1)


def test_a_repository_cell_names_a_dozen_principals_and_counts_the_rest(tables):
    many = [f"arn:aws:iam::{ACCOUNT}:role/r{i:02d}" for i in range(30)]
    audit = frames(tables, capabilities=[capability(arn, WEB, "pull") for arn in many])

    cell = repository_access(audit, audit.findings).set_index("repository").loc["web"]

    assert cell["pull_count"] == 30
    assert cell["pull"][-1] == "... and 18 more (see the access matrix)"
    assert len(cell["pull"]) == 13


def test_the_baseline_comparison_keeps_the_diffs_order_and_first_rows_and_counts_the_rest(tables):
    from ecr_audit.diff import AccessChange, AuditDiff, FindingChange, PrincipalChange

    appeared = tuple(FindingChange(id=f"id{i}", rule="missing-login", severity="high", title="Cannot log in",
                                   principal_arn=ECS, repository_arn=None, principals=(ECS,), repositories=(WEB,),
                                   message=f"message {i}") for i in range(3))
    changed = (FindingChange(id="idc", rule="cross-account-access", severity="high", title="Cross", principal_arn=None,
                             repository_arn=WEB, principals=(), repositories=(WEB,), message="m",
                             old_severity="medium"),)
    gained = tuple(AccessChange(principal_arn=CI if i == 0 else ALICE, repository_arn=WEB, capability=capability,
                                old_level="none", new_level="full", resolves=("id2",) if i == 0 else ())
                   for i, capability in enumerate(("push", "pull", "lifecycle_admin", "policy_admin",
                                                   "repository_admin")))
    lost = (AccessChange(principal_arn=BOB, repository_arn=PLAIN, capability="push", old_level="full",
                         new_level="partial", missing_actions=("ecr:PutImage",)),)
    diff = AuditDiff(old=audit_side(collected_at="2026-10-01T00:00:00+00:00"), new=audit_side(),
                     findings_appeared=appeared, findings_severity_changed=changed, findings_unchanged=7,
                     access_gained=gained, access_lost=lost,
                     principals_added=(PrincipalChange(CI, "role", "ci-deployer"),))

    comparison = compare_baseline(diff, Namer(ACCOUNT, [WEB, PLAIN]), limit=2, accepted={"id1": "accepted risk (x)"})

    assert comparison.counts["findings_appeared"] == 3 and comparison.counts["access_gained"] == 5
    assert comparison.findings_appeared["id"].tolist() == ["id0", "id1"] and comparison.hidden("findings_appeared") == 1
    assert comparison.findings_appeared["accepted"].tolist() == ["", "accepted risk (x)"]
    assert comparison.findings_appeared.loc[0, "principals"] == ["role/ecsTaskExecutionRole"]
    assert comparison.findings_severity_changed.loc[0, "change"] == "medium -> high"
    gained_rows = comparison.access_gained
    assert len(gained_rows) == 2 and comparison.hidden("access_gained") == 3
    assert gained_rows.iloc[0].tolist() == ["role/ci/ci-deployer", "web (eu-west-1)", "push", "none -> full", "",
                                            "resolves finding id2"]
    assert comparison.access_lost.iloc[0][["change", "detail"]].tolist() == ["full -> partial",
                                                                            "missing ecr:PutImage"]
    assert comparison.principals_added == ("role/ci/ci-deployer (no ECR access)",) and comparison.same_account
    assert comparison.summary == diff.summary() and comparison.summary.startswith("1 new principal (role/ci/ci-deployer)")
    assert not comparison.is_empty


def test_the_report_compares_with_a_baseline_through_the_diff(tables):
    before = frames(tables, capabilities=[capability(BOB, PLAIN, "push"), capability(ALICE, WEB, "pull")],
                    findings=[finding("stale-write-access", "medium", principals=(BOB,), id="gone")])
    after = frames(tables, capabilities=[capability(ALICE, WEB, "pull"), capability(ALICE, WEB, "push")],
                   findings=[finding("public-repository", "critical", repositories=(WEB,), id="new")])

    comparison = build_report(after, baseline_audit=before).baseline

    assert comparison.findings_appeared["id"].tolist() == ["new"]
    assert comparison.findings_resolved["id"].tolist() == ["gone"]
    assert comparison.access_gained[["principal", "capability"]].values.tolist() == [["user/alice", "push"]]
    assert comparison.access_lost[["principal", "capability", "change"]].values.tolist() == \
        [["user/ops/bob", "push", "full -> none"]]
    assert comparison.counts["findings_unchanged"] == 0


def test_suppressed_findings_leave_the_main_tables_and_counts_and_are_listed_as_accepted_risks(tables):
    rows = [finding("missing-login", "high", principals=(ECS,), actions=("ecr:GetAuthorizationToken",), id="login"),
            finding("allow-cancelled-by-deny", "low", principals=(CI,), repositories=(WEB,),
                    actions=("ecr:PutImage",), statements=(DEPLOY_ALLOW, DEPLOY_DENY), id="cancel"),
            finding("public-repository", "critical", repositories=(WEB,), id="open")]
    result = suppressed(tables, rows, [
        {"rule": "missing-login", "reason": "being fixed", "owner": "ops", "expires": "2026-12-05"},
        {"rule": "allow-cancelled-by-deny", "reason": "deny is the point", "owner": "sec", "expires": "2027-06-01"},
        {"rule": "public-repository", "reason": "was accepted", "owner": "oss", "expires": "2026-01-01"},
        {"rule": "stale-write-access", "reason": "nobody", "owner": "ops", "expires": "2027-01-01"},
    ])
    audit = frames(tables, findings=result.kept.to_dict("records"))

    report = build_report(audit, suppression=result, suppressions="accepted.yml", rules=rules_by_id())

    assert report.findings["id"].tolist() == ["open"]
    assert report.summary.findings_total == 1
    assert report.missing_actions.empty and report.conflicts.empty
    accepted = report.accepted
    assert accepted.source == "accepted.yml" and accepted.as_of == "2026-11-29"
    assert accepted.findings[["id", "reason", "owner", "expires", "days_left"]].values.tolist() == [
        ["login", "being fixed", "ops", "2026-12-05", 6], ["cancel", "deny is the point", "sec", "2027-06-01", 184]]
    [expired] = accepted.expired
    assert expired.startswith("suppressions[2] of accepted.yml (oss, 'was accepted') expired on 2026-01-01")
    [unused] = accepted.unused
    assert unused.startswith("suppressions[3] of accepted.yml (ops, 'nobody') matches no finding")
    # the glossary still explains the rules of accepted findings
    assert set(report.rules) == {"missing-login", "allow-cancelled-by-deny", "public-repository"}


def test_every_coverage_gap_says_what_the_report_cannot_vouch_for(tables):
    coverage = pd.DataFrame([
        {"service": "ecr", "operation": "GetRepositoryPolicy", "region": "eu-west-1", "resource": PRIVATE,
         "error_code": "AccessDeniedException", "message": "denied"},
        {"service": "ecr", "operation": "SomethingNew", "region": None, "resource": None,
         "error_code": "Boom", "message": None},
        {"service": "ecr", "operation": "DescribeRepositories", "region": "ap-east-1", "resource": None,
         "error_code": "RegionNotEnabled", "message": "not enabled"},
    ])

    gaps = coverage_gaps(coverage, tables.policies)

    assert gaps.loc[0, "consequence"].startswith("that repository's policy")
    assert gaps.loc[0, "where"] == f"eu-west-1 / {PRIVATE}"
    assert gaps.loc[1, "consequence"] == GENERIC_CONSEQUENCE
    assert gaps.loc[2, "consequence"].startswith("that region")
    # the fixture's three unreadable policies are gaps too, each naming its problem
    unreadable = gaps.iloc[3:]
    assert len(unreadable) == tables.policies["parse_error"].notna().sum() == 3
    assert any("team/broken" in error for error in unreadable["error"])


def test_an_iam_only_snapshot_is_reported_as_such(tables):
    snapshot = copy.deepcopy(tables.snapshot)
    snapshot["ecr"] = None
    iam_only = Audit.from_snapshot(snapshot)
    audit = frames(iam_only, permissions=[permission(ALICE, "ecr:GetAuthorizationToken")])

    report = build_report(audit)

    assert not report.facts.ecr_collected and report.facts.iam_collected
    assert report.repository_access.empty
    assert report.capability_matrix["principal"].tolist() == ["user/alice"]


def test_row_masks_are_the_same_on_categorical_and_plain_columns_for_few_and_many_values(monkeypatch):
    from ecr_audit import frames

    monkeypatch.setattr(frames, "CHUNK_ROWS", 7)  # several chunks on a small frame
    values = [f"v{i % 9}" for i in range(50)] + [None]
    plain, categorical = pd.Series(values, dtype=object), pd.Series(values, dtype="category")
    for wanted in (["v1"], ["v1", "v2", "v3", "v4", "v5", "v6"], ["absent"]):
        expected = plain.isin(wanted).to_numpy()
        assert (frames.isin(plain, wanted) == expected).all()
        assert (frames.isin(categorical, wanted) == expected).all()


def test_principals_with_access_separates_outright_from_conditional_only(tables, monkeypatch):
    from ecr_audit.report import data

    monkeypatch.setattr(data, "CHUNK_ROWS", 2)
    rows = [permission(ALICE, "ecr:BatchGetImage", WEB, "conditional"), permission(BOB, "a", WEB, "implicit_deny"),
            permission(ALICE, "ecr:PutImage", WEB, "allowed"), permission(CAROL, "a", WEB, "conditional")]
    frame = pd.DataFrame(rows).astype({"principal_arn": "category", "decision": "category"})

    access = data.principals_with_access(frame)

    assert access.allowed == {ALICE} and access.conditional_only == {CAROL}


def test_long_messages_are_clipped_saying_where_the_whole_text_is(tables):
    from ecr_audit.report.data import TEXT_LIMIT

    audit = frames(tables, findings=[finding("conditional-access", message="x" * (TEXT_LIMIT + 500))])

    view = build_report(audit).findings

    assert view.loc[0, "message"].startswith("x" * TEXT_LIMIT + " ... (500 more characters")
    assert "ecr-audit findings" in view.loc[0, "message"]


def test_an_organisation_level_quotes_the_one_statement_that_leaves_the_actions_out_and_where_it_is_attached():
    import ecr_audit
    from support.paths import REPO

    audit = ecr_audit.load(REPO / "examples" / "demo-snapshot.json.gz")
    blocked = audit.findings[audit.findings["rule"] == "allow-blocked-by-org-policy"]

    row = conflicts(audit, blocked).iloc[0]

    assert row["blocked_by"] == ["WorkloadsGuardrails (scp) at OU 'Workloads' (ou-kb6o-qixkx5e1)"]
    assert row["block"].startswith("WorkloadsGuardrails (scp), statement #0:AllowAllButRegistrySettings, attached at "
                                   "OU 'Workloads' (ou-kb6o-qixkx5e1): its NotAction leaves these actions out")
    assert row["block"].count('"Sid"') == 1  # one statement, not the level's three policies


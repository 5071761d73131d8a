"""``diff_audits`` and ``ecr-audit diff`` on small hand-built accounts, evaluated by the real engine.

Each test states two versions of one account (a policy attached, detached, narrowed, a repository
policy added...) and checks what the diff says appeared, went or changed.
"""

from __future__ import annotations

import copy
import datetime as dt
import json

import pandas as pd
import pytest

from ecr_audit.cli import build_parser, main
from ecr_audit.diff import AuditDiff, diff_audits
from ecr_audit.snapshot import write_snapshot
from ecr_audit.audit import Audit
from support.findings import (COLLECTED_AT, allow, policy, repo_arn, repository, role, role_arn, snapshot,
                                   user)

LOGIN = "ecr:GetAuthorizationToken"
PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
PUSH = ["ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload", "ecr:PutImage"]
OPEN_TO_EVERYONE = policy({"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": PULL})
FROM_THE_OFFICE = {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}


def grants(*statements: dict) -> dict:
    return {"ecr": policy(*statements)}


def account(builder_grants: dict | None = None, *, extra_roles: tuple = (), web_policy: dict | None = None,
            repositories: tuple[str, ...] = ("web", "api")) -> dict:
    """Role ``builder`` (login + pull on web by default) and the repositories; the rest as given."""
    if builder_grants is None:
        builder_grants = grants(allow(LOGIN), allow(PULL, repo_arn("web")))
    return snapshot(roles=[role("builder", inline=builder_grants), *extra_roles],
                    repositories=[repository(name, policy_document=web_policy if name == "web" else None)
                                  for name in repositories])


def diff_of(old: dict, new: dict) -> AuditDiff:
    return diff_audits(Audit.from_snapshot(old), Audit.from_snapshot(new))


def access(changes, capability: str | None = None) -> set[tuple]:
    return {(item.principal_arn, item.repository_arn, item.capability, item.old_level, item.new_level)
            for item in changes if capability is None or item.capability == capability}


BUILDER = role_arn("builder")
WEB = repo_arn("web")


# --- nothing changed ------------------------------------------------------------------------------

def test_a_snapshot_diffed_with_itself_is_empty_and_every_finding_is_unchanged() -> None:
    document = account(web_policy=OPEN_TO_EVERYONE)
    old, new = Audit.from_snapshot(document), Audit.from_snapshot(copy.deepcopy(document))
    diff = diff_audits(old, new)
    assert diff.is_empty and not diff.warnings
    assert len(old.findings) > 0 and diff.findings_unchanged == len(old.findings)
    assert "No changes" in diff.to_text()


def test_an_unrelated_change_keeps_every_finding_id_unchanged() -> None:
    old = account(web_policy=OPEN_TO_EVERYONE)
    idle = role("idle", inline={"s3": policy(allow("s3:GetObject"))})
    new = account(web_policy=OPEN_TO_EVERYONE, extra_roles=(idle,))
    diff = diff_of(old, new)
    assert not diff.findings_appeared and not diff.findings_resolved and not diff.findings_severity_changed
    assert diff.findings_unchanged == len(Audit.from_snapshot(old).findings)
    assert [item.principal_arn for item in diff.principals_added] == [role_arn("idle")]
    # the open repository reaches the new role too: that access is the new role's, not a change of anyone's
    assert not (diff.access_gained + diff.access_lost + diff.access_changed)
    assert diff.principals_added[0].access and {item.repository_arn for item in diff.principals_added[0].access} == {WEB}


# --- access -------------------------------------------------------------------------------------

def test_granting_push_is_access_gained_from_none_to_full() -> None:
    new = account(grants(allow(LOGIN), allow(PULL, WEB), allow(PUSH, WEB)))
    diff = diff_of(account(), new)
    assert access(diff.access_gained) == {(BUILDER, WEB, "push", "none", "full")}
    assert not diff.access_lost


def test_detaching_the_grant_is_access_lost_from_full_to_none() -> None:
    diff = diff_of(account(), account(grants(allow("s3:ListBucket"))))
    assert (BUILDER, WEB, "pull", "full", "none") in access(diff.access_lost)
    assert (BUILDER, "*", "login", "full", "none") in access(diff.access_lost)
    assert not diff.access_gained


def test_losing_one_action_is_access_lost_to_partial_naming_the_missing_action() -> None:
    new = account(grants(allow(LOGIN), allow("ecr:BatchGetImage", WEB)))
    diff = diff_of(account(), new)
    [lost] = [item for item in diff.access_lost if item.capability == "pull"]
    assert (lost.old_level, lost.new_level) == ("full", "partial")
    assert lost.missing_actions == ("ecr:GetDownloadUrlForLayer",)


def test_full_to_conditional_is_a_level_change_not_a_loss() -> None:
    new = account(grants(allow(LOGIN), allow(PULL, WEB, Condition=FROM_THE_OFFICE)))
    diff = diff_of(account(), new)
    assert access(diff.access_changed, "pull") == {(BUILDER, WEB, "pull", "full", "conditional")}
    assert not access(diff.access_lost, "pull")
    [changed] = [item for item in diff.access_changed if item.capability == "pull"]
    assert set(changed.conditional_actions) == set(PULL)


def test_conditional_to_full_is_access_gained() -> None:
    old = account(grants(allow(LOGIN), allow(PULL, WEB, Condition=FROM_THE_OFFICE)))
    diff = diff_of(old, account())
    assert access(diff.access_gained, "pull") == {(BUILDER, WEB, "pull", "conditional", "full")}


def test_access_of_a_new_principal_is_listed_with_it_first_and_not_again_as_gained() -> None:
    pusher = role("pusher", inline=grants(allow(LOGIN), allow(PUSH, WEB, Condition=FROM_THE_OFFICE)))
    diff = diff_of(account(), account(extra_roles=(pusher,)))
    [added] = diff.principals_added
    assert (role_arn("pusher"), WEB, "push", "none", "conditional") in access(added.access)
    assert not diff.access_gained and not diff.access_changed
    text = diff.to_text()
    assert text.index("Principals: 1 added") < text.index("Findings:") < text.index("Access of principals in both")
    line = next(line for line in text.splitlines() if "+ role/pusher" in line)
    assert "push (conditional) on 1 repository: web (eu-west-1)" in line and "login (full)" in line


def test_access_is_sorted_writes_first_then_principal_and_repository() -> None:
    other = role("another", inline=grants(allow(LOGIN), allow(PULL, [WEB, repo_arn("api")])))
    new = account(grants(allow(LOGIN), allow(PULL, WEB), allow(PUSH, WEB)), extra_roles=(other,))
    gained = diff_of(account(), new).access_gained
    keys = [(item.capability != "push", item.principal_arn, item.repository_arn) for item in gained]
    assert keys == sorted(keys) and gained[0].capability == "push"


# --- findings -----------------------------------------------------------------------------------

def test_a_repository_policy_open_to_everyone_appears_as_a_critical_finding() -> None:
    old, new = Audit.from_snapshot(account()), Audit.from_snapshot(account(web_policy=OPEN_TO_EVERYONE))
    diff = diff_audits(old, new)
    public = [item for item in diff.findings_appeared if item.rule == "public-repository"]
    assert len(public) == 1 and public[0].severity == "critical" and public[0].repository_arn == WEB
    assert public[0].id in set(new.findings["id"]) and public[0].id not in set(old.findings["id"])
    assert not diff.findings_resolved


def test_removing_the_open_policy_resolves_the_finding() -> None:
    diff = diff_of(account(web_policy=OPEN_TO_EVERYONE), account())
    assert [item.rule for item in diff.findings_resolved if item.rule == "public-repository"] == ["public-repository"]
    assert not any(item.rule == "public-repository" for item in diff.findings_appeared)


def test_a_rule_whose_severity_changed_is_reported_with_both_severities() -> None:
    document = account(web_policy=OPEN_TO_EVERYONE)
    old, new = Audit.from_snapshot(document), Audit.from_snapshot(document)
    findings = new.findings.copy()  # as a newer tool version that rates the rule lower would find it
    findings.loc[findings["rule"] == "public-repository", "severity"] = "high"
    new.findings = findings
    diff = diff_audits(old, new)
    [changed] = diff.findings_severity_changed
    assert (changed.rule, changed.old_severity, changed.severity) == ("public-repository", "critical", "high")
    assert not diff.findings_appeared and not diff.findings_resolved
    assert diff.findings_unchanged == len(old.findings) - 1


def test_appeared_findings_are_sorted_highest_severity_first() -> None:
    half_push = role("half-pusher", inline=grants(allow(LOGIN), allow(PUSH[1:], WEB)))
    no_login = role("no-login", services=["ecs-tasks.amazonaws.com"], inline=grants(allow(PULL, WEB)))
    new = account(web_policy=OPEN_TO_EVERYONE, extra_roles=(half_push, no_login))
    appeared = diff_of(account(), new).findings_appeared
    severities = [item.severity for item in appeared]
    assert {"critical", "high", "medium"} <= set(severities)
    order = ["critical", "high", "medium", "low", "info"]
    assert [order.index(severity) for severity in severities] == sorted(order.index(s) for s in severities)


# --- principals, repositories, warnings ----------------------------------------------------------

def test_principals_and_repositories_added_and_removed() -> None:
    old = snapshot(users=[user("leaver")], repositories=[repository("web"), repository("legacy")])
    new = snapshot(users=[user("joiner")], repositories=[repository("web"), repository("fresh")])
    diff = diff_of(old, new)
    assert [(item.name, item.principal_type) for item in diff.principals_added] == [("joiner", "user")]
    assert [item.name for item in diff.principals_removed] == ["leaver"]
    assert [item.repository_arn for item in diff.repositories_added] == [repo_arn("fresh")]
    assert [(item.name, item.region) for item in diff.repositories_removed] == [("legacy", "eu-west-1")]


def test_snapshots_of_different_accounts_are_compared_with_a_warning() -> None:
    old, new = account(), account()
    new["account"] = {**new["account"], "id": "999988887777"}
    diff = diff_of(old, new)
    assert any("different accounts" in warning and "999988887777" in warning for warning in diff.warnings)
    assert diff.old.account_id != diff.new.account_id
    assert "warning: the snapshots are of different accounts" in diff.to_text()


def test_the_same_account_gives_no_account_warning() -> None:
    assert not any("different accounts" in warning for warning in diff_of(account(), account()).warnings)


def test_a_new_snapshot_older_than_the_old_one_is_warned_about() -> None:
    old = account()
    new = snapshot(roles=[role("builder")], collected_at=COLLECTED_AT - dt.timedelta(days=30))
    assert any("wrong way round" in warning for warning in diff_of(old, new).warnings)
    assert not any("wrong way round" in warning for warning in diff_of(new, old).warnings)


def test_coverage_gaps_only_the_new_snapshot_has_are_warned_about_and_shared_ones_are_not() -> None:
    gap = {"service": "ecr", "operation": "DescribeRepositories", "region": "eu-west-1", "resource": None,
           "error_code": "AccessDeniedException", "message": "not authorized (request 1)"}
    old, new = account(), account()
    new["coverage"] = [gap]
    [warning] = diff_of(old, new).warnings
    assert "new snapshot has 1 coverage gap" in warning and "ecr:DescribeRepositories in eu-west-1" in warning
    assert "removed or lost" in warning
    old["coverage"] = [{**gap, "message": "not authorized (request 2)"}]
    assert not diff_of(old, new).warnings


# --- output -------------------------------------------------------------------------------------

def test_to_dict_is_json_with_every_section_and_counts() -> None:
    new = account(grants(allow(LOGIN), allow(PULL, WEB), allow(PUSH, WEB)), web_policy=OPEN_TO_EVERYONE)
    diff = diff_of(account(), new)
    data = json.loads(json.dumps(diff.to_dict()))
    assert set(data) == {"old", "new", "warnings", "counts", "findings", "access", "principals", "repositories",
                         "causes", "summary"}
    assert set(data["findings"]) == {"appeared", "resolved", "severity_changed", "unchanged"}
    assert set(data["access"]) == {"gained", "lost", "changed"}
    assert data["counts"]["access_gained"] == len(data["access"]["gained"]) == len(diff.access_gained)
    assert data["old"]["collected_at"] == COLLECTED_AT.isoformat()
    push = next(item for item in data["access"]["gained"] if item["capability"] == "push")
    assert push == {"principal_arn": BUILDER, "repository_arn": WEB, "capability": "push", "old_level": "none",
                    "new_level": "full", "missing_actions": [], "conditional_actions": [], "regions": [],
                    "resolves": []}


def test_text_has_sections_with_counts_and_one_line_per_item_naming_rule_and_severity() -> None:
    new = account(grants(allow(LOGIN), allow(PULL, WEB), allow(PUSH, WEB)), web_policy=OPEN_TO_EVERYONE)
    diff = diff_of(account(), new)
    text = diff.to_text()
    assert f"Findings: {len(diff.findings_appeared)} appeared, 0 resolved" in text
    assert f"login once per principal): {len(diff.access_gained)} gained" in text
    public = next(item for item in diff.findings_appeared if item.rule == "public-repository")
    [line] = [line for line in text.splitlines() if public.id in line]
    assert line.lstrip().startswith("+ [critical] public-repository") and "web (eu-west-1)" in line
    assert "+ role/builder  web (eu-west-1)  push: none -> full" in text


def test_text_limit_cuts_each_section_and_says_how_many_more() -> None:
    new = account(grants(allow(LOGIN), allow(PULL, WEB), allow(PUSH, [WEB, repo_arn("api")])))
    diff = diff_of(account(), new)
    assert len(diff.access_gained) == 2
    text = diff.to_text(limit=1)
    assert f"... and {len(diff.access_gained) - 1} more" in text
    assert sum(" -> full" in line for line in text.splitlines()) == 1


# --- the command ----------------------------------------------------------------------------------

@pytest.fixture()
def snapshot_files(tmp_path):
    old = write_snapshot(account(), tmp_path / "old.json.gz")
    new = write_snapshot(account(grants(allow(LOGIN), allow(PULL, WEB), allow(PUSH, WEB)),
                                 web_policy=OPEN_TO_EVERYONE), tmp_path / "new.json")
    return old, new


def test_cli_json_is_the_diff_dict(snapshot_files, capsys) -> None:
    old, new = snapshot_files
    assert main(["diff", str(old), str(new), "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == diff_audits(Audit.from_snapshot(account()), Audit.from_snapshot(
        account(grants(allow(LOGIN), allow(PULL, WEB), allow(PUSH, WEB)), web_policy=OPEN_TO_EVERYONE))).to_dict()
    assert any(item["rule"] == "public-repository" for item in printed["findings"]["appeared"])


def test_cli_text_exits_0_and_prints_the_sections(snapshot_files, capsys) -> None:
    old, new = snapshot_files
    assert main(["diff", str(old), str(new)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ecr-audit diff") and "Findings: " in out and "push: none -> full" in out


def test_cli_diff_of_a_file_with_itself_says_no_changes(snapshot_files, capsys) -> None:
    _, new = snapshot_files
    assert main(["diff", str(new), str(new), "--format", "json"]) == 0
    counts = json.loads(capsys.readouterr().out)["counts"]
    assert counts["findings_unchanged"] > 0
    assert all(value == 0 for name, value in counts.items() if name != "findings_unchanged")


@pytest.mark.parametrize("broken", ["old", "new"])
def test_cli_a_bad_snapshot_exits_2_naming_the_file(snapshot_files, tmp_path, capsys, broken: str) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text("{not json")
    old, new = snapshot_files
    arguments = [str(bad), str(new)] if broken == "old" else [str(old), str(bad)]
    assert main(["diff", *arguments]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("ecr-audit diff: ") and str(bad) in captured.err and "is not JSON" in captured.err


def test_cli_a_missing_snapshot_exits_2_naming_it(snapshot_files, tmp_path, capsys) -> None:
    old, _ = snapshot_files
    missing = tmp_path / "nowhere.json"
    assert main(["diff", str(old), str(missing)]) == 2
    assert f"{missing}: no such file" in capsys.readouterr().err


def test_cli_expectations_apply_to_both_snapshots(snapshot_files, tmp_path, capsys) -> None:
    path = tmp_path / "expectations.yml"
    path.write_text("expectations:\n  - name: builder pushes\n    principals: {names: [builder]}\n"
                    "    must: [push]\n    repositories: {names: [api]}\n")
    old, new = snapshot_files
    assert main(["diff", str(old), str(new), "--expectations", str(path), "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    everywhere = [item for section in ("appeared", "resolved", "severity_changed")
                  for item in printed["findings"][section] if item["rule"] == "expectation-unmet"]
    assert everywhere == []  # unmet in both: unchanged, not appeared
    assert main(["findings", str(new), "--expectations", str(path)]) == 0
    assert any(row["rule"] == "expectation-unmet" for row in json.loads(capsys.readouterr().out))


def test_cli_a_bad_expectations_file_exits_2_naming_it(snapshot_files, tmp_path, capsys) -> None:
    path = tmp_path / "expectations.yml"
    path.write_text("expectations:\n  - name: typo\n    principals: {names: [builder]}\n    must: [puhs]\n")
    old, new = snapshot_files
    assert main(["diff", str(old), str(new), "--expectations", str(path)]) == 2
    assert f"{path}: expectations[0] ('typo')" in capsys.readouterr().err


def test_cli_different_accounts_warn_and_still_exit_0(tmp_path, capsys) -> None:
    other = account()
    other["account"] = {**other["account"], "id": "999988887777"}
    old = write_snapshot(account(), tmp_path / "old.json")
    new = write_snapshot(other, tmp_path / "new.json")
    assert main(["diff", str(old), str(new)]) == 0
    assert "\nwarning: the snapshots are of different accounts" in capsys.readouterr().out
    assert main(["diff", str(old), str(new), "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert "ecr-audit diff: warning: the snapshots are of different accounts" in captured.err
    assert any("different accounts" in warning for warning in json.loads(captured.out)["warnings"])


def test_cli_limit_0_lists_every_line_and_a_negative_limit_exits_2(tmp_path, capsys) -> None:
    old = write_snapshot(account(), tmp_path / "old.json")
    new = write_snapshot(account(grants(allow(LOGIN), allow(PULL, WEB), allow(PUSH, [WEB, repo_arn("api")]))),
                         tmp_path / "new.json")
    assert main(["diff", str(old), str(new), "--limit", "1"]) == 0
    assert "... and 1 more" in capsys.readouterr().out
    assert main(["diff", str(old), str(new), "--limit", "0"]) == 0
    out = capsys.readouterr().out
    assert "more (" not in out and out.count("push: none -> full") == 2
    assert main(["diff", str(old), str(new), "--limit", "-1"]) == 2
    assert "--limit must be 0 (all) or more" in capsys.readouterr().err


def test_cli_arguments() -> None:
    parsed = build_parser().parse_args(["diff", "a.json", "b.json"])
    assert (str(parsed.old), str(parsed.new), parsed.format, parsed.expectations) == ("a.json", "b.json", "text", None)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["diff", "a.json"])
    with pytest.raises(SystemExit):
        build_parser().parse_args(["diff", "a.json", "b.json", "--format", "csv"])


# --- the comparison itself ------------------------------------------------------------------------

def _mixed_change() -> tuple[Audit, Audit]:
    """Gains, losses and level changes together: push granted, pull put under a condition on web,
    a role removed and one added."""
    leaver = role("leaver", inline=grants(allow(LOGIN), allow(PULL, [WEB, repo_arn("api")])))
    joiner = role("joiner", inline=grants(allow(LOGIN), allow(PUSH[1:], repo_arn("api"))))
    old = account(extra_roles=(leaver,))
    new = account(grants(allow(LOGIN), allow(PULL, WEB, Condition=FROM_THE_OFFICE), allow(PUSH, WEB)),
                  extra_roles=(joiner,))
    return Audit.from_snapshot(old), Audit.from_snapshot(new)


def test_the_sparse_comparison_for_huge_accounts_agrees_with_the_dense_one(monkeypatch) -> None:
    import ecr_audit.diff

    old, new = _mixed_change()
    dense = diff_audits(old, new)
    assert dense.access_gained and dense.access_changed and dense.principals_removed[0].access
    monkeypatch.setattr(ecr_audit.diff, "DENSE_CELLS", 0)
    assert diff_audits(old, new) == dense


def test_capability_tables_as_plain_objects_give_the_same_diff() -> None:
    old, new = _mixed_change()
    categorical = diff_audits(old, new)
    old.capabilities, new.capabilities = old.capabilities.astype(object), new.capabilities.astype(object)
    assert diff_audits(old, new) == categorical


@pytest.mark.parametrize("dense_cells", [0, 1 << 20], ids=["sparse", "dense"])
def test_a_stored_none_row_is_the_same_as_a_missing_one(monkeypatch, dense_cells: int) -> None:
    import ecr_audit.diff

    monkeypatch.setattr(ecr_audit.diff, "DENSE_CELLS", dense_cells)
    old, new = Audit.from_snapshot(account()), Audit.from_snapshot(account())
    capabilities = new.capabilities.astype(object)
    extra = capabilities.iloc[:1].copy()
    extra["capability"], extra["level"] = "repository_admin", "none"
    new.capabilities = pd.concat([capabilities, extra], ignore_index=True)
    assert diff_audits(old, new).is_empty


# --- what a reader acts on ---------------------------------------------------------------------------

def test_login_is_counted_once_per_principal_not_per_repository() -> None:
    old = account(grants(allow(PULL, [WEB, repo_arn("api")])))
    new = account(grants(allow(LOGIN), allow(PULL, [WEB, repo_arn("api")])))
    diff = diff_of(old, new)
    logins = [item for item in diff.access_gained if item.capability == "login"]
    assert [(item.repository_arn, item.regions) for item in logins] == [("*", ("eu-west-1",))]
    assert access(diff.access_gained, "pull") == {(BUILDER, WEB, "pull", "partial", "full"),
                                                  (BUILDER, repo_arn("api"), "pull", "partial", "full")}


def test_gained_access_that_resolves_a_finding_says_which() -> None:
    diff = diff_of(account(grants(allow(PULL, WEB))), account(grants(allow(LOGIN), allow(PULL, WEB))))
    [missing_login] = [item for item in diff.findings_resolved if item.rule == "missing-login"]
    [login] = [item for item in diff.access_gained if item.capability == "login"]
    assert login.resolves == (missing_login.id,)
    assert f"resolves missing-login {missing_login.id}" in diff.to_text()
    partial = account(grants(allow(LOGIN), allow(PULL, WEB), allow(PUSH[1:], WEB)))
    fixed = diff_of(partial, account(grants(allow(LOGIN), allow(PULL, WEB), allow(PUSH, WEB))))
    [push] = [item for item in fixed.access_gained if item.capability == "push"]
    assert [item.rule for item in fixed.findings_resolved if item.id in push.resolves] == ["partial-capability"]


def test_the_one_line_delta_names_new_principals_access_and_findings() -> None:
    joiner = role("joiner", inline=grants(allow(LOGIN), allow(PULL, WEB)))
    new = account(grants(allow(LOGIN), allow(PULL, WEB), allow(PUSH, WEB)), extra_roles=(joiner,),
                  web_policy=OPEN_TO_EVERYONE)
    diff = diff_of(account(), new)
    assert diff.summary() == (f"1 new principal (role/joiner); access: {len(diff.access_gained)} gained, 0 lost, "
                              f"{len(diff.access_changed)} changed; findings: 0 resolved, "
                              f"{len(diff.findings_appeared)} new")
    assert f"Delta: {diff.summary()}" in diff.to_text().splitlines()


def test_causes_are_diffed_by_id_and_said_to_be_unavailable_without_them() -> None:
    old, new = Audit.from_snapshot(account()), Audit.from_snapshot(account(grants(allow(LOGIN))))
    old.findings, new.findings  # noqa: B018 - their cause column is made before the causes are replaced here
    old.unverified_causes = old.causes = None  # an audit without the causes stage
    diff = diff_audits(old, new)
    assert not diff.causes_available and "Causes: not available" in diff.to_text()
    old.unverified_causes = pd.DataFrame({"id": ["c1", "c2"], "title": ["one", "two"]})
    new.unverified_causes = pd.DataFrame({"id": ["c2", "c3"], "title": ["two", "three"]})
    diff = diff_audits(old, new)
    assert diff.causes_available
    assert [(item.id, item.title) for item in diff.causes_appeared] == [("c3", "three")]
    assert [item.id for item in diff.causes_resolved] == ["c1"]
    assert "causes" not in new.__dict__  # comparing causes by id verifies no fix

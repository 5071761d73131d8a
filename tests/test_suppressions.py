"""The suppressions file: what it accepts, when an entry expires, which entries are unused, and the
errors that name the file and the entry. Findings are hand-built rows with the table's columns."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from fixtures import SMALL_SNAPSHOT

import ecr_audit
from ecr_audit.findings.model import FINDING_COLUMNS
from ecr_audit.suppressions import (SUPPRESSED_COLUMNS, SuppressionsError, apply_suppressions, load_suppressions,
                                    parse_suppressions)

ACCOUNT = "111122223333"
CI = f"arn:aws:iam::{ACCOUNT}:role/ci/ci-deployer"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/admin"
WEB_EU = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/team/web"
WEB_US = f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/team/web"
OTHER = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/other"
TODAY = dt.date(2026, 11, 29)
LATER = dt.date(2099, 1, 1)
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "suppressions.yml"


def finding(id: str, rule: str = "cross-account-access", severity: str = "medium", *, principals: tuple = (),
            repositories: tuple = ()) -> dict:
    return {"id": id, "rule": rule, "severity": severity, "category": "exposure", "title": rule,
            "message": f"finding {id}", "grantee": None, "capability": None, "layer": None,
            "principal_arn": principals[0] if len(principals) == 1 else None,
            "repository_arn": repositories[0] if len(repositories) == 1 else None,
            "principals": principals, "repositories": repositories, "actions": (), "policies": (), "statements": (),
            "remediation": "fix it"}


def frame(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=[column.name for column in FINDING_COLUMNS])


def entry(expires: dt.date = LATER, **selects) -> dict:
    return {**selects, "reason": "accepted", "owner": "platform", "expires": expires}


def split(findings: pd.DataFrame, *entries: dict, today: dt.date = TODAY):
    return apply_suppressions(findings, parse_suppressions(list(entries), "accepted.yml"), today)


FINDINGS = frame(
    finding("a" * 16, principals=(CI,), repositories=(WEB_EU,)),
    finding("b" * 16, principals=(CI, ADMIN), repositories=(WEB_EU, WEB_US)),
    finding("c" * 16, "public-repository", "critical", repositories=(WEB_EU, WEB_US)),
    finding("d" * 16, "public-repository", "critical", repositories=(OTHER,)),
    finding("e" * 16, "missing-login", "high", principals=(ADMIN,)),
)


def kept_ids(result) -> list[str]:
    return result.kept["id"].tolist()


# --- matching -------------------------------------------------------------------------------------

def test_an_id_entry_suppresses_that_finding_only():
    result = split(FINDINGS, entry(id="e" * 16))

    assert result.suppressed["id"].tolist() == ["e" * 16]
    assert kept_ids(result) == ["a" * 16, "b" * 16, "c" * 16, "d" * 16]


def test_a_rule_entry_without_globs_suppresses_every_finding_of_the_rule():
    result = split(FINDINGS, entry(rule="public-repository"))

    assert result.suppressed["id"].tolist() == ["c" * 16, "d" * 16]


def test_a_principal_glob_matches_the_arn_or_the_name_in_it():
    by_name = split(FINDINGS, entry(rule="cross-account-access", principal="ci-*"))
    by_arn = split(FINDINGS, entry(rule="cross-account-access", principal="arn:aws:iam::*:role/ci/*"))

    assert by_name.suppressed["id"].tolist() == by_arn.suppressed["id"].tolist() == ["a" * 16]


def test_a_glob_must_match_every_principal_a_finding_covers_so_it_never_hides_another_grant():
    narrow = split(FINDINGS, entry(rule="cross-account-access", principal="ci-deployer"))
    both = split(FINDINGS, entry(rule="cross-account-access", principal=["ci-deployer", "admin"]))

    assert "b" * 16 in kept_ids(narrow)  # covers ci-deployer and admin: not accepted for ci-deployer alone
    assert both.suppressed["id"].tolist() == ["a" * 16, "b" * 16]


def test_a_principal_glob_never_matches_a_finding_that_covers_no_principal():
    result = split(FINDINGS, entry(rule="public-repository", principal="*"))

    assert result.suppressed.empty and len(result.unused) == 1


def test_a_repository_glob_on_the_name_matches_the_repository_in_every_region():
    result = split(FINDINGS, entry(rule="public-repository", repository="team/*"))

    assert result.suppressed["id"].tolist() == ["c" * 16]
    assert "d" * 16 in kept_ids(result)


def test_the_first_entry_in_force_suppresses_and_its_reason_owner_and_expiry_are_on_the_row():
    findings = frame(finding("a" * 16, principals=(CI,)))
    result = apply_suppressions(findings, parse_suppressions([
        {"id": "a" * 16, "reason": "first", "owner": "alice", "expires": "2030-01-31"},
        {"rule": "cross-account-access", "reason": "second", "owner": "bob", "expires": "2031-01-31"},
    ], "accepted.yml"), TODAY)

    assert list(result.suppressed.columns) == [column.name for column in SUPPRESSED_COLUMNS]
    row = result.suppressed.iloc[0]
    assert (row["suppression"], row["reason"], row["owner"], row["expires"]) == \
        ("suppressions[0]", "first", "alice", "2030-01-31")
    assert result.kept.empty and not result.unused  # the second matched too: it is not stale


# --- expiry ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("today", "suppressed"), [(dt.date(2026, 12, 30), True), (dt.date(2026, 12, 31), False),
                                                   (dt.date(2027, 1, 1), False)])
def test_an_entry_is_in_force_before_its_expiry_day_and_expired_from_that_day_on(today, suppressed):
    result = split(FINDINGS, entry(dt.date(2026, 12, 31), id="e" * 16), today=today)

    assert (len(result.suppressed) == 1) is suppressed
    assert bool(result.expired) is not suppressed


def test_an_expired_entry_suppresses_nothing_and_says_which_findings_count_again():
    result = split(FINDINGS, entry(dt.date(2026, 1, 31), rule="public-repository"))

    assert result.suppressed.empty and len(result.kept) == len(FINDINGS)
    [expired] = result.expired
    assert expired.finding_ids == ("c" * 16, "d" * 16)
    assert expired.message().startswith("suppressions[0] of accepted.yml (platform, 'accepted') expired on "
                                        "2026-01-31: 2 findings it matches count again")
    assert not result.unused


def test_an_expired_entry_gives_way_to_a_later_entry_in_force():
    result = split(FINDINGS, entry(dt.date(2026, 1, 31), id="e" * 16), entry(rule="missing-login"))

    assert result.suppressed["suppression"].tolist() == ["suppressions[1]"]
    [expired] = result.expired
    assert expired.finding_ids == ()  # nothing came back: the later entry accepts it
    assert "accepted by another entry still in force" in expired.message()
    assert "count again" not in expired.message()


def test_entries_that_match_no_finding_are_reported_unused_even_when_expired():
    result = split(FINDINGS, entry(id="f" * 16), entry(dt.date(2020, 1, 1), rule="stale-write-access"),
                   entry(rule="missing-login"))

    assert [item.index for item in result.unused] == [0, 1]
    messages = result.unused_messages()
    assert messages[0] == ("suppressions[0] of accepted.yml (platform, 'accepted') matches no finding "
                           f"(finding {'f' * 16}): remove it, or correct what it selects")
    assert "and expired on 2020-01-01" in messages[1]
    assert result.warnings() == messages


def test_without_suppressions_every_finding_is_kept():
    result = apply_suppressions(FINDINGS, None, TODAY)

    assert kept_ids(result) == FINDINGS["id"].tolist() and result.suppressed.empty
    assert list(result.suppressed.columns) == [column.name for column in SUPPRESSED_COLUMNS]


# --- the file -------------------------------------------------------------------------------------

def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "accepted.yml"
    path.write_text(text)
    return path


def test_dates_are_read_quoted_or_not_and_text_is_tidied(tmp_path):
    path = write(tmp_path, "- rule: missing-login\n  principal: [ci-*, deploy]\n  reason: '  two\n    lines '\n"
                           "  owner: ' team '\n  expires: 2027-03-31\n"
                           "- id: 0123456789abcdef\n  reason: r\n  owner: o\n  expires: '2027-04-01'\n")

    first, second = load_suppressions(path).entries

    assert (first.rule, first.principals, first.reason, first.owner, first.expires) == \
        ("missing-login", ("ci-*", "deploy"), "two lines", "team", dt.date(2027, 3, 31))
    assert (second.finding_id, second.expires) == ("0123456789abcdef", dt.date(2027, 4, 1))


BASE = "  reason: r\n  owner: o\n  expires: 2027-01-01\n"


@pytest.mark.parametrize(("text", "problem"), [
    ("- rule: missing-logins\n" + BASE, "suppressions[0] (rule 'missing-logins'): unknown rule 'missing-logins'"),
    ("- rule: missing-login\n  owner: o\n  expires: 2027-01-01\n",
     "suppressions[0] (rule 'missing-login'): 'reason' is required"),
    ("- rule: missing-login\n  reason: r\n  expires: 2027-01-01\n",
     "suppressions[0] (rule 'missing-login'): 'owner' is required"),
    ("- rule: missing-login\n  reason: r\n  owner: o\n",
     "suppressions[0] (rule 'missing-login'): 'expires' is required"),
    ("- rule: missing-login\n  reason: r\n  owner: o\n  expires: 31/12/2027\n",
     "'expires' must be a date written YYYY-MM-DD, not '31/12/2027'"),
    ("- rule: missing-login\n  reason: r\n  owner: o\n  expires: 2027-02-30\n",
     "holds a date that does not exist (day is out of range for month); write dates as YYYY-MM-DD"),
    ("- rule: missing-login\n  reason: r\n  owner: o\n  expires: '2027-02-30'\n",
     "'expires' must be a date written YYYY-MM-DD, not '2027-02-30'"),
    ("- rule: missing-login\n  reason: r\n  owner: o\n  expires: 2027-01-01 10:00:00\n",
     "'expires' must be a date (YYYY-MM-DD) without a time"),
    ("- rule: missing-login\n  principals: [x]\n" + BASE,
     "unknown key(s) 'principals' (known: id, rule, principal, repository, reason, owner, expires)"),
    ("- id: 0123456789abcdef\n  rule: missing-login\n" + BASE, "give either 'id' (one finding) or 'rule'"),
    ("- principal: x\n" + BASE, "suppressions[0]: give either 'id' (one finding) or 'rule' (with optional"),
    ("- id: 0123456789abcdef\n  principal: ci-*\n" + BASE, "'principal' only go with 'rule'"),
    ("- id: not-a-finding\n" + BASE, "'id' must be a finding id, 16 lower-case hex digits"),
    ("- rule: missing-login\n  reason: ''\n  owner: o\n  expires: 2027-01-01\n",
     "'reason' must be a non-empty string, not a string"),
    ("- rule: missing-login\n  principal: []\n" + BASE, "'principal' must be a non-empty glob or a non-empty list"),
    ("- rule: missing-login\n" + BASE + "- just text\n", "suppressions[1]: is a string; expected a mapping"),
    ("suppressions:\n  - rule: missing-login\n", "top level is a mapping; expected a list of entries"),
    ("", "is empty; expected a list of suppressions (write [] for none)"),
    ("- rule: [unclosed\n", "is not valid YAML at line 2"),
])
def test_a_bad_file_is_refused_naming_the_file_the_entry_and_the_problem(tmp_path, text, problem):
    path = write(tmp_path, text)

    with pytest.raises(SuppressionsError) as raised:
        load_suppressions(path)

    assert str(raised.value).startswith(f"{path}: ")
    assert problem in str(raised.value)


def test_a_missing_file_is_named():
    with pytest.raises(SuppressionsError, match="nowhere.yml: no such file"):
        load_suppressions("nowhere.yml")


def test_an_empty_list_suppresses_nothing(tmp_path):
    assert load_suppressions(write(tmp_path, "[]\n")).entries == ()


def test_the_example_file_is_valid():
    entries = load_suppressions(EXAMPLE).entries

    assert len(entries) >= 4 and {entry.finding_id is None for entry in entries} == {True, False}


# --- the audit ------------------------------------------------------------------------------------

def test_an_audit_with_suppressions_leaves_them_out_of_findings_and_lists_them_apart(tmp_path):
    audit = ecr_audit.load(SMALL_SNAPSHOT)
    every = audit.findings
    assert len(every) > 1
    chosen = every.iloc[0]
    path = write(tmp_path, f"- id: {chosen['id']}\n  reason: known\n  owner: platform\n  expires: 2099-01-01\n")

    accepted = audit.with_suppressions(path)

    assert chosen["id"] not in set(accepted.findings["id"])
    assert len(accepted.findings) == len(every) - 1
    assert accepted.suppressed_findings[["id", "reason", "owner", "expires"]].values.tolist() == \
        [[chosen["id"], "known", "platform", "2099-01-01"]]
    assert accepted.unsuppressed_findings is every  # shared, not recomputed
    assert len(audit.findings) == len(every)  # the original audit is unchanged
    assert len(accepted.with_suppressions(None).findings) == len(every)
    # expectations change the findings: the suppressions apply to the new ones
    assert chosen["id"] not in set(accepted.with_expectations(None).findings["id"])


def test_an_audit_judges_expiry_on_the_day_it_is_given(tmp_path):
    audit = ecr_audit.load(SMALL_SNAPSHOT)
    chosen = audit.findings.iloc[0]["id"]
    path = write(tmp_path, f"- id: {chosen}\n  reason: known\n  owner: platform\n  expires: 2027-01-01\n")

    before = audit.with_suppressions(path, today=dt.date(2026, 12, 31))
    after = audit.with_suppressions(path, today=dt.date(2027, 1, 1))

    assert chosen not in set(before.findings["id"]) and chosen in set(after.findings["id"])
    assert [item.finding_ids for item in after.suppression_result.expired] == [(chosen,)]

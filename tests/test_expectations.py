"""The expectations file (format, validation errors naming file/entry/problem), selectors, the
built-in expectation, and the two rules that report unmet and exceeded expectations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecr_audit.effective.capabilities import LOGIN
from ecr_audit.expectations import (INFERRED_SERVICES, ExpectationsError, PrincipalSelector, RepositorySelector,
                                    load_expectations, parse_expectations)
from support.findings import (GRANT, audit, expectations, findings_of, held, own_grant, permission, repo_arn,
                                   repository, role, role_arn, user, user_arn)

REPO_ROOT = Path(__file__).resolve().parent.parent
PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
PUSH = ["ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload", "ecr:PutImage"]
WEB, API = repo_arn("web"), repo_arn("api")


# --- the file ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["examples/expectations.yml", "ecr_audit/demo/expectations.yml"])
def test_the_shipped_expectation_files_are_valid(path: str) -> None:
    loaded = load_expectations(REPO_ROOT / path)
    assert loaded.entries and loaded.source.endswith(path)
    assert all(entry.must or entry.must_not for entry in loaded.entries)


def test_an_entry_reads_every_selector_key() -> None:
    loaded = parse_expectations({"version": 1, "inferred": False, "expectations": [{
        "name": "ci", "principals": {"names": "ci-*", "paths": ["/ci/*"], "types": "role", "tags": {"team": ["a", "b"]},
                                     "trusted_services": "codebuild.amazonaws.com", "groups": ["g"],
                                     "with_ecr_access": True},
        "repositories": {"names": ["web/*"], "regions": "eu-*", "tags": {"env": "prod"}, "with_ecr_access": False},
        "must": "push", "must_not": ["policy_admin"], "must_on": "any"}]}, "f.yml")
    entry = loaded.entries[0]
    assert loaded.inferred is False and loaded.all_entries() == (entry,)
    assert entry.principals == PrincipalSelector(names=("ci-*",), paths=("/ci/*",), types=("role",),
                                                 tags=(("team", ("a", "b")),),
                                                 trusted_services=("codebuild.amazonaws.com",), groups=("g",),
                                                 with_ecr_access=True)
    assert entry.repositories == RepositorySelector(names=("web/*",), regions=("eu-*",), tags=(("env", ("prod",)),))
    assert (entry.must, entry.must_not, entry.must_on, entry.label, entry.index) == (("push",), ("policy_admin",), "any", "ci", 0)


@pytest.mark.parametrize("data, problem", [
    (None, "f.yml: is empty"),
    ([], "f.yml: top level is a list"),
    ({"expectation": []}, "f.yml: unknown key(s) 'expectation' in the top level"),
    ({"version": 2, "expectations": []}, "f.yml: version 2 is not supported"),
    ({"inferred": "no", "expectations": []}, "f.yml: 'inferred' must be true or false"),
    ({"expectations": {"a": 1}}, "f.yml: 'expectations' must be a list"),
    ({"expectations": ["pull"]}, "f.yml: expectations[0]: is a string"),
    ({"expectations": [{"must": ["pull"]}]}, "f.yml: expectations[0]: 'principals' is required"),
    ({"expectations": [{"name": "x", "principals": {"names": "a"}, "must": ["puhs"]}]},
     "f.yml: expectations[0] ('x'): 'must': unknown capability 'puhs' (known: login, pull"),
    ({"expectations": [{"principals": {"names": "a"}}]}, "f.yml: expectations[0]: states nothing"),
    ({"expectations": [{"principals": {"names": "a"}, "must": "pull", "must_not": "pull"}]},
     "f.yml: expectations[0]: pull is in both 'must' and 'must_not'"),
    ({"expectations": [{"principals": {"name": "a"}, "must": "pull"}]},
     "f.yml: expectations[0]: unknown key(s) 'name' in 'principals'"),
    ({"expectations": [{"principals": {}, "must": "pull"}]}, "f.yml: expectations[0]: 'principals' must be a mapping"),
    ({"expectations": [{"principals": {"names": []}, "must": "pull"}]},
     "f.yml: expectations[0]: principals.names must be a non-empty string"),
    ({"expectations": [{"principals": {"types": ["group"]}, "must": "pull"}]},
     "f.yml: expectations[0]: principals.types: 'group' is not one of user, role"),
    ({"expectations": [{"principals": {"tags": ["team"]}, "must": "pull"}]},
     "f.yml: expectations[0]: principals.tags must be a mapping"),
    ({"expectations": [{"principals": {"names": "a"}, "repositories": {"name": "x"}, "must": "pull"}]},
     "f.yml: expectations[0]: unknown key(s) 'name' in 'repositories'"),
    ({"expectations": [{"principals": {"names": "a"}, "must": "pull", "must_on": "all"}]},
     "f.yml: expectations[0]: 'must_on' must be 'every'"),
    ({"expectations": [{"principals": {"names": "a"}, "must": "pull", True: "any"}]},
     "f.yml: expectations[0]: has a key that YAML reads as true"),
    ({"expectations": [{"principals": {"names": "a"}, "must": "pull", "with": 1}]},
     "f.yml: expectations[0]: unknown key(s) 'with' in the entry"),
    ({"expectations": [{"name": "same", "principals": {"names": "a"}, "must": "pull"},
                       {"name": "same", "principals": {"names": "b"}, "must": "pull"}]},
     "f.yml: expectations[1] ('same'): name 'same' is already used by expectations[0]"),
])
def test_validation_errors_name_the_file_the_entry_and_the_problem(data, problem: str) -> None:
    with pytest.raises(ExpectationsError) as raised:
        parse_expectations(data, "f.yml")
    assert str(raised.value).startswith(problem), str(raised.value)


def test_a_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yml"
    path.write_text("expectations:\n  - principals:\n      names: [a\n    must: pull\n", encoding="utf-8")
    with pytest.raises(ExpectationsError, match=rf"^{path}: is not valid YAML at line \d+ column \d+: "):
        load_expectations(path)


def test_a_missing_file_is_an_expectations_error(tmp_path: Path) -> None:
    with pytest.raises(ExpectationsError, match="no such file"):
        load_expectations(tmp_path / "absent.yml")


# --- selectors --------------------------------------------------------------------------------------

def _principal(**values) -> dict:
    base = {"principal_arn": "arn:aws:iam::111122223333:role/ci/deployer", "name": "deployer", "path": "/ci/",
            "principal_type": "role", "tags": {"team": "web"}, "trusted_principals": {"Service": ["codebuild.amazonaws.com"]},
            "groups": []}
    return {**base, **values}


@pytest.mark.parametrize("selector, matches", [
    (PrincipalSelector(names=("deploy*",)), True),
    (PrincipalSelector(names=("arn:aws:iam::*:role/ci/*",)), True),
    (PrincipalSelector(names=("Deployer",)), False),  # case-sensitive
    (PrincipalSelector(paths=("/ci/*",)), True),
    (PrincipalSelector(paths=("/people/*",)), False),
    (PrincipalSelector(types=("user",)), False),
    (PrincipalSelector(tags=(("team", ("web", "data")),)), True),
    (PrincipalSelector(tags=(("owner", ("*",)),)), False),  # the key must exist
    (PrincipalSelector(trusted_services=("*.amazonaws.com",)), True),
    (PrincipalSelector(trusted_services=("lambda.amazonaws.com",)), False),
    (PrincipalSelector(names=("deployer",), paths=("/people/*",)), False),  # every criterion must hold
    (PrincipalSelector(names=("deployer",), with_ecr_access=True), False),
])
def test_principal_selectors(selector: PrincipalSelector, matches: bool) -> None:
    assert selector.matches(_principal(), has_ecr_access=False) is matches


def test_group_selector_matches_users_by_group_name() -> None:
    developer = _principal(principal_type="user", groups=["developers"], trusted_principals=None)
    assert PrincipalSelector(groups=("dev*",)).matches(developer, False)
    assert not PrincipalSelector(groups=("admins",)).matches(developer, False)


def test_repository_selectors_match_name_arn_region_and_tags() -> None:
    row = {"repository_arn": WEB, "name": "web", "region": "eu-west-1", "tags": {"env": "prod"}}
    assert RepositorySelector().matches(row)
    assert RepositorySelector(names=("w*",), regions=("eu-*",), tags=(("env", ("prod",)),)).matches(row)
    assert RepositorySelector(names=(WEB,)).matches(row)
    assert not RepositorySelector(regions=("us-*",)).matches(row)
    assert not RepositorySelector(tags=(("env", ("dev",)),)).matches({**row, "tags": None})


# --- expectation-unmet / expectation-exceeded -------------------------------------------------------

def _file(*entries: dict, inferred: bool = False):
    return expectations({"inferred": inferred, "expectations": list(entries)})


def test_must_on_every_repository_reports_where_it_falls_short() -> None:
    subject = audit(roles=[role("ci")], repositories=[repository("web"), repository("api")])
    rows = held(role_arn("ci"), PUSH, [WEB]) + held(role_arn("ci"), PUSH[1:], [API], login=False)
    found = findings_of("expectation-unmet", subject, rows, expectation_set=_file(
        {"name": "ci pushes", "principals": {"names": "ci"}, "must": "push"}))
    row = found.iloc[0]
    assert len(found) == 1 and row.repositories == (API,) and row.principal_arn == role_arn("ci")
    assert row.actions == ("ecr:BatchCheckLayerAvailability",)
    assert "expectation 'ci pushes' (test-expectations.yml, entry 0)" in row.message
    assert "partly, missing ecr:BatchCheckLayerAvailability" in row.message
    fix = json.loads(row.remediation[row.remediation.index("{"):])["Statement"]
    assert fix == [{"Sid": "Expected1", "Effect": "Allow", "Action": "ecr:BatchCheckLayerAvailability",
                    "Resource": API}]


def test_must_on_any_repository_is_met_by_one() -> None:
    subject = audit(roles=[role("ci")], repositories=[repository("web"), repository("api")])
    entry = {"principals": {"names": "ci"}, "must": "pull", "must_on": "any"}
    met = held(role_arn("ci"), PULL, [WEB])
    assert findings_of("expectation-unmet", subject, met, expectation_set=_file(entry)).empty
    entry_every = {**entry, "must_on": "every"}
    assert len(findings_of("expectation-unmet", subject, met, expectation_set=_file(entry_every))) == 1


def test_a_conditional_must_is_unmet_and_says_so() -> None:
    subject = audit(roles=[role("ci")], repositories=[repository("web")])
    rows = held(role_arn("ci"), PULL, [WEB], decision="conditional")
    row = findings_of("expectation-unmet", subject, rows, expectation_set=_file(
        {"principals": {"names": "ci"}, "must": "pull"})).iloc[0]
    assert "only conditionally" in row.message


def test_a_must_that_selects_nobody_is_unmet() -> None:
    subject = audit(roles=[role("ci")], repositories=[repository("web")])
    row = findings_of("expectation-unmet", subject, expectation_set=_file(
        {"name": "gone", "principals": {"names": "deleted-role"}, "must": "push"})).iloc[0]
    assert row.principal_arn is None and "selects no principal" in row.message


def test_must_login_reads_the_wildcard_cell() -> None:
    subject = audit(users=[user("dev")])
    entry = {"principals": {"names": "dev"}, "must": "login"}
    assert len(findings_of("expectation-unmet", subject, expectation_set=_file(entry))) == 1
    granted = [permission(user_arn("dev"), LOGIN, "*")]
    assert findings_of("expectation-unmet", subject, granted, expectation_set=_file(entry)).empty


def test_must_not_is_exceeded_where_the_capability_is_held() -> None:
    subject = audit(users=[user("dev", path="/people/")], repositories=[repository("web", tags={"env": "prod"}),
                                                                     repository("api", tags={"env": "dev"})])
    dev = "arn:aws:iam::111122223333:user/people/dev"
    rows = held(dev, PUSH, [WEB, API], allowing=[f"{dev}/inline/push#0"])
    found = findings_of("expectation-exceeded", subject, rows, expectation_set=_file(
        {"name": "no human pushes to prod", "principals": {"paths": "/people/*"},
         "repositories": {"tags": {"env": "prod"}}, "must_not": ["push", "policy_admin"]}))
    row = found.iloc[0]
    assert len(found) == 1 and row.repositories == (WEB,) and "must not be able to push images" in row.message
    deny = json.loads(row.remediation[row.remediation.index("{"):])["Statement"][0]
    assert deny["Effect"] == "Deny" and deny["Resource"] == WEB and "ecr:PutImage" in deny["Action"]
    assert "ecr:BatchCheckLayerAvailability" not in deny["Action"]  # a Deny must not take pulls away


def test_must_not_is_exceeded_conditionally_and_not_by_a_partial_grant() -> None:
    subject = audit(users=[user("a"), user("b")], repositories=[repository("web")])
    rows = held(user_arn("a"), PUSH, [WEB], decision="conditional") + held(user_arn("b"), PUSH[:2], [WEB])
    found = findings_of("expectation-exceeded", subject, rows, expectation_set=_file(
        {"principals": {"types": "user"}, "must_not": "push"}))
    assert list(found.principal_arn) == [user_arn("a")] and "only conditionally" in found.iloc[0].message


# --- the built-in expectation -----------------------------------------------------------------------

def test_a_service_role_that_cannot_pull_breaks_the_built_in_expectation() -> None:
    subject = audit(roles=[role("task-execution", services=["ecs-tasks.amazonaws.com"], inline=GRANT)],
                    repositories=[repository("web")])
    rows = held(role_arn("task-execution"), PULL, [WEB], login=False)
    row = findings_of("expectation-unmet", subject, rows, expectation_set=expectations()).iloc[0]
    assert "built-in expectation 'service roles can pull'" in row.message
    assert row.actions == (LOGIN,) and row.repositories == (WEB,)


@pytest.mark.parametrize("services, rows_for", [
    (["codebuild.amazonaws.com"], lambda arn: held(arn, PULL, [WEB])),          # can pull
    (["ec2.amazonaws.com"], lambda arn: held(arn, PULL, [WEB], login=False)),  # not a container service
    (["lambda.amazonaws.com"], lambda arn: []),                                # holds no ECR action
])
def test_the_built_in_expectation_is_quiet_otherwise(services, rows_for) -> None:
    subject = audit(roles=[role("r", services=services, inline=GRANT)], repositories=[repository("web")])
    assert findings_of("expectation-unmet", subject, rows_for(role_arn("r")), expectation_set=expectations()).empty


def test_the_built_in_expectation_covers_the_documented_services() -> None:
    assert set(INFERRED_SERVICES) == {f"{name}.amazonaws.com" for name in
                                      ("ecs-tasks", "eks", "eks-fargate-pods", "codebuild", "lambda")}


def test_the_built_in_expectation_ignores_a_repository_open_to_everyone() -> None:
    office = {"Version": "2012-10-17", "Statement": [{"Sid": "Office", "Effect": "Allow", "Principal": "*",
                                                      "Action": PULL}]}
    subject = audit(roles=[role("thumbnails", services=["lambda.amazonaws.com"])],
                    repositories=[repository("web", policy_document=office)])
    rows = held(role_arn("thumbnails"), PULL, [WEB], login=False, allowing=[f"{WEB}#policy#0:Office"])
    assert findings_of("expectation-unmet", subject, rows, expectation_set=expectations()).empty


def test_inferred_false_turns_the_built_in_expectation_off() -> None:
    subject = audit(roles=[role("task", services=["ecs-tasks.amazonaws.com"], inline=GRANT)],
                    repositories=[repository("web")])
    rows = held(role_arn("task"), PULL, [WEB], login=False)
    assert findings_of("expectation-unmet", subject, rows, expectation_set=_file(inferred=False)).empty
    assert len(findings_of("expectation-unmet", subject, rows, expectation_set=_file(inferred=True))) == 1


def test_a_service_role_with_only_the_login_cannot_pull_anything() -> None:
    subject = audit(roles=[role("build", services=["codebuild.amazonaws.com"], inline=GRANT)],
                    repositories=[repository("web")])
    row = findings_of("expectation-unmet", subject, [permission(role_arn("build"), LOGIN, "*",
                                                                allowing=[own_grant(role_arn("build"))])],
                      expectation_set=expectations()).iloc[0]
    assert "holds no ECR action on any repository" in row.message

"""Statement normalisation, statement ids, and the grammar errors that keep a policy out of the table."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from ecr_audit.audit import load
from ecr_audit.tables.statements import PolicyDocumentError, parse_document, read_policy, statement_rows
from fixtures import SMALL_SNAPSHOT

ALICE_INLINE = "arn:aws:iam::111122223333:user/alice/inline/push-web"
DEPLOY_INLINE = "arn:aws:iam::111122223333:role/ci/ci-deployer/inline/deploy"
WEB_POLICY = "arn:aws:ecr:eu-west-1:111122223333:repository/web#policy"


@pytest.fixture(scope="module")
def statements():
    return load(SMALL_SNAPSHOT).statements.set_index("statement_id", drop=False)


def _rows(statement: dict) -> list[dict]:
    return statement_rows("p", "inline", {"Version": "2012-10-17", "Statement": [statement]})


def test_string_action_and_resource_become_one_element_lists(statements) -> None:
    row = statements.loc[f"{ALICE_INLINE}#0"]
    assert row.action == ["ecr:PutImage"]
    assert row.resource == ["arn:aws:ecr:eu-west-1:111122223333:repository/web"]


def test_a_single_statement_object_is_statement_zero(statements) -> None:
    assert list(statements[statements.policy_id == ALICE_INLINE].index) == [f"{ALICE_INLINE}#0"]


def test_principal_star_becomes_a_dict_of_lists(statements) -> None:
    assert statements.loc[f"{WEB_POLICY}#1:Pull"].principal == {"*": ["*"]}


def test_principal_strings_become_lists_by_type(statements) -> None:
    assert statements.loc[f"{WEB_POLICY}#0:Pull"].principal == {"AWS": ["arn:aws:iam::444455556666:root"]}
    assert statements.loc[f"{WEB_POLICY}#2"].principal == {"Service": ["codebuild.amazonaws.com"]}


def test_absent_elements_are_none_not_empty_lists(statements) -> None:
    repository_statement = statements.loc[f"{WEB_POLICY}#0:Pull"]
    assert repository_statement.resource is None
    assert repository_statement.not_resource is None
    assert repository_statement.not_principal is None
    identity_statement = statements.loc[f"{ALICE_INLINE}#0"]
    assert identity_statement.principal is None
    assert identity_statement.not_action is None
    assert identity_statement.condition is None


def test_not_action_and_not_resource_are_kept_apart_from_action_and_resource(statements) -> None:
    row = statements.loc[f"{DEPLOY_INLINE}#1:Dup"]
    assert row.action is None and row.resource is None
    assert row.not_action == ["ecr:Delete*"]
    assert row.not_resource == ["arn:aws:ecr:*:111122223333:repository/secret*"]


def test_condition_values_become_lists_keeping_their_json_types(statements) -> None:
    assert statements.loc[f"{DEPLOY_INLINE}#2"].condition == {
        "Bool": {"aws:SecureTransport": [False]},
        "StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "us-east-1"]},
    }


def test_statement_ids_are_unique_even_with_a_repeated_sid_or_none(statements) -> None:
    deploy = statements[statements.policy_id == DEPLOY_INLINE]
    assert list(deploy.statement_id) == [f"{DEPLOY_INLINE}#0:Dup", f"{DEPLOY_INLINE}#1:Dup", f"{DEPLOY_INLINE}#2"]
    assert list(deploy.sid) == ["Dup", "Dup", None]
    assert statements.statement_id.is_unique


def test_statement_ids_are_stable_across_loads() -> None:
    first, second = load(SMALL_SNAPSHOT).statements, load(SMALL_SNAPSHOT).statements
    assert list(first.statement_id) == list(second.statement_id)


def test_an_empty_sid_counts_as_no_sid() -> None:
    [row] = _rows({"Sid": "", "Effect": "Allow", "Action": "ecr:*", "Resource": "*"})
    assert row["sid"] is None
    assert row["statement_id"] == "p#0"


def test_statements_come_from_the_default_version_only(statements) -> None:
    pull = statements[statements.policy_id == "arn:aws:iam::111122223333:policy/ci-ecr-pull"]
    assert list(pull.statement_id) == ["arn:aws:iam::111122223333:policy/ci-ecr-pull#0:Pull"]
    assert pull.iloc[0].action == ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]


def test_policy_kind_is_repeated_on_each_statement(statements) -> None:
    assert statements.loc[f"{WEB_POLICY}#2"].policy_kind == "repository"
    assert statements.loc[f"{ALICE_INLINE}#0"].policy_kind == "inline"


def test_a_url_encoded_document_is_decoded() -> None:
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}]}
    assert parse_document(quote(json.dumps(document))) == document


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("{not json", "is not JSON"),
        ("[1, 2]", "a policy is a JSON object, not list"),
        ({"Version": "2012-10-17"}, "no Statement element"),
        ({"Statement": "ecr:*"}, "Statement must be an object or a list of objects"),
        ({"Statement": ["ecr:BatchGetImage"]}, "statement 0: a statement is a JSON object"),
        ({"Statement": [{"Effect": "allow", "Action": "ecr:*"}]}, "Effect must be 'Allow' or 'Deny'"),
        ({"Statement": [{"Effect": "Allow", "Action": "a", "NotAction": "b"}]}, "statement 0: exactly one of Action and NotAction is required"),
        ({"Statement": [{"Effect": "Allow", "Resource": "*"}]}, "statement 0: exactly one of Action and NotAction is required"),
        ({"Statement": [{"Effect": "Allow", "Action": "a", "Resource": "*", "NotResource": "*"}]},
         "Resource and NotResource cannot both be given"),
        ({"Statement": [{"Effect": "Allow", "Actions": "ecr:*"}]}, "unknown element(s) ['Actions']"),
        ({"Statement": [{"Effect": "Allow", "Action": 7}]}, "Action must be a string or a non-empty list of strings"),
        ({"Statement": [{"Effect": "Allow", "Action": "a", "Principal": {"AWS": [1]}}]},
         "Principal.AWS must be a string or a non-empty list of strings"),
        ({"Statement": [{"Effect": "Allow", "Action": "a", "Condition": ["x"]}]}, "Condition must be an object of operators"),
        ({"Statement": [{"Effect": "Allow", "Action": "a", "Condition": {"StringEquals": "x"}}]},
         "Condition operator 'StringEquals' must map condition keys to values"),
        ({"Statement": [{"Effect": "Allow", "Action": "a", "Sid": 3}]}, "Sid must be a string"),
        ({"Statement": [], "Statment": []}, "unknown top-level element(s) ['Statment']"),
    ],
)
def test_grammar_errors_reject_the_whole_policy_with_a_message_saying_where(raw, problem) -> None:
    with pytest.raises(PolicyDocumentError) as raised:
        statement_rows("p", "inline", parse_document(raw))
    assert problem in str(raised.value)


def test_a_bare_string_principal_is_read_as_the_engine_reads_it_with_an_issue() -> None:
    # outside the grammar but unambiguous: the engine (the one parser) reads it as {"AWS": ...}
    document = {"Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "a", "Principal": "arn:aws:iam::1:root"}]}
    [row] = statement_rows("p", "repository", document)
    assert row["principal"] == {"AWS": ["arn:aws:iam::1:root"]}
    assert "principal-shorthand" in [issue.kind for issue in read_policy(document, "p").issues]


def test_the_engine_parse_is_kept_on_the_audit_for_every_readable_policy() -> None:
    audit = load(SMALL_SNAPSHOT)
    readable = set(audit.policies.loc[audit.policies.parse_error.isna(), "policy_id"])
    assert set(audit.parsed_policies) == readable
    parsed = audit.parsed_policies[DEPLOY_INLINE]
    assert [statement.uid for statement in parsed.statements] == list(
        audit.statements.loc[audit.statements.policy_id == DEPLOY_INLINE, "statement_id"])


def test_one_bad_statement_rejects_the_good_ones_before_it() -> None:
    document = {"Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}, "oops"]}
    with pytest.raises(PolicyDocumentError, match="statement 1"):
        statement_rows("p", "inline", document)

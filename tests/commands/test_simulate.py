"""``ecr-audit simulate CASES.json``: one JSON line per case; bad input named, exit code 2."""

from __future__ import annotations

import json

import pytest

from ecr_audit.cli import main

USER = "arn:aws:iam::123456789012:user/alice"


def _case(name, statements, action="ecr:BatchGetImage"):
    return {"name": name,
            "request": {"principal": USER, "action": action,
                        "resource": {"resource": "arn:aws:ecr:eu-west-1:123456789012:repository/a",
                                     "accountId": "123456789012"}},
            "identityPolicies": [{"Version": "2012-10-17", "Statement": statements}],
            "expected": {"response": "Allowed"}}


ALLOW = {"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}
DENY = {"Effect": "Deny", "Action": "ecr:BatchGetImage", "Resource": "*"}


def _run(tmp_path, capsys, content):
    path = tmp_path / "cases.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    code = main(["simulate", str(path)])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err, path


def test_prints_one_decision_per_case_in_order(tmp_path, capsys):
    code, lines, err, _ = _run(tmp_path, capsys, [_case("allowed", [ALLOW]),
                                                  _case("denied", [ALLOW, DENY]),
                                                  _case("silent", [])])
    assert code == 0 and err == ""
    assert [(line["name"], line["decision"]) for line in lines] == [
        ("allowed", "Allowed"), ("denied", "ExplicitlyDenied"), ("silent", "ImplicitlyDenied")]
    assert lines[1]["explain"]["denying"][0]["policy_id"] == "identityPolicies[0]"


@pytest.mark.parametrize("content, message", [
    ("{not json", "is not JSON"),
    ('{"name": "x"}', "expected a JSON array"),
])
def test_bad_file_is_named_and_exits_2(tmp_path, capsys, content, message):
    code, lines, err, path = _run(tmp_path, capsys, content)
    assert code == 2 and lines == []
    assert str(path) in err and message in err


def test_missing_file_exits_2(tmp_path, capsys):
    assert main(["simulate", str(tmp_path / "absent.json")]) == 2
    assert "absent.json" in capsys.readouterr().err


def test_bad_cases_are_named_by_index_and_name_and_the_rest_still_decided(tmp_path, capsys):
    no_request = {"name": "no request here"}
    bad_policy = _case("broken policy", [{"Effect": "Maybe", "Action": "ecr:*",
                                          "Resource": "*"}])
    code, lines, err, path = _run(tmp_path, capsys, [no_request, _case("fine", [ALLOW]),
                                                     bad_policy])
    assert code == 2
    assert [line["name"] for line in lines] == ["fine"]
    first, second = err.strip().splitlines()
    assert str(path) in first and "case 0" in first and "no request here" in first
    assert "case 2" in second and "broken policy" in second and "identityPolicies[0]" in second

"""Which fixes are verified together: those that cannot change what the other is checked on."""

from __future__ import annotations

from types import SimpleNamespace

from ecr_audit.causes.verify import _batches, _Job, _share_repositories, _shares

NO_TABLES = SimpleNamespace(policies={"policy_id": [], "policy_kind": []})


def _identity_job(representatives: set[str], affects: set[str], edited: set[str] = frozenset()) -> _Job:
    return _Job(cause=None, representatives=sorted(representatives), repositories=None, edited=set(edited),
                affects=set(affects) | set(representatives))


def test_fixes_whose_edits_reach_only_principals_the_other_is_not_checked_on_are_verified_together():
    first = _identity_job({"a"}, {"shared"})
    second = _identity_job({"b"}, {"shared"})

    assert [[job.representatives for job in batch] for batch in _batches([first, second], NO_TABLES)] == [[["a"], ["b"]]]


def test_a_fix_whose_edit_reaches_a_principal_another_is_checked_on_is_verified_apart():
    first = _identity_job({"a"}, set())
    reaching_first = _identity_job({"b"}, {"a"})
    reached_by_first = _identity_job({"c"}, set())
    first.affects.add("c")

    assert len(list(_batches([first, reaching_first], NO_TABLES))) == 2
    assert len(list(_batches([first, reached_by_first], NO_TABLES))) == 2


def test_two_fixes_editing_one_policy_are_verified_apart():
    first = _identity_job({"a"}, set(), {"policy"})
    second = _identity_job({"b"}, set(), {"policy"})

    assert len(list(_batches([first, second], NO_TABLES))) == 2


def test_resource_fixes_checked_on_the_same_principals_are_checked_on_the_same_repositories():
    first = _Job(None, ["a", "b"], {"r1"}, {"r1#policy"}, None, wide=True)
    second = _Job(None, ["a", "b"], {"r2"}, {"r2#policy"}, None, wide=True)
    elsewhere = _Job(None, ["c"], {"r3"}, {"r3#policy"}, None, wide=True)

    _share_repositories([first, second, elsewhere])

    assert first.repositories == second.repositories == {"r1", "r2"}
    assert elsewhere.repositories == {"r3"}


def _run(before: str, principals: int, repositories: int) -> SimpleNamespace:
    after = {"iam": {"RoleDetailList": [{}] * principals},
             "ecr": {"us-east-1": {"repositories": [{}] * repositories}}}
    return SimpleNamespace(before_key=before, after=after)


def test_runs_alike_before_the_edits_share_a_process_and_the_largest_run_stays_in_this_one():
    runs = [_run("small", 2, 40), _run("large", 300, 90), _run("small", 2, 40), _run("other", 2, 30)]

    shares = _shares(runs, 2)

    assert shares[0] == [1]
    assert sorted(shares[1]) == [0, 2, 3]
    assert _shares(runs, 1) == [[0, 1, 2, 3]]

"""Shared DataFrame helpers: each distinct value decided once, and only values the rows hold."""

import pandas as pd

import numpy as np

from ecr_audit.frames import grouped_values, per_value, records


def test_per_value_decides_each_distinct_value_once_and_answers_missing_with_the_default():
    asked = []
    series = pd.Series(["a", "b", "a", None])
    verdicts = per_value(series, lambda value: asked.append(value) or value == "a")
    assert verdicts.tolist() == [True, False, True, False]
    assert sorted(asked) == ["a", "b"]


def test_per_value_on_a_cut_categorical_decides_only_the_values_its_rows_hold():
    whole = pd.Series(["a", "b", "c", "d"], dtype="category")
    cut = whole[whole.isin(["b", "d"])]
    asked = []
    verdicts = per_value(cut, lambda value: asked.append(value) or value == "d")
    assert verdicts.tolist() == [False, True]
    assert sorted(asked) == ["b", "d"]


def test_grouped_values_lists_each_keys_distinct_values_in_value_order_and_nothing_for_absent_keys():
    frame = pd.DataFrame({"who": pd.Categorical(["b", "a", "b", "b", None], categories=["z", "a", "b"]),
                          "what": ["x", "y", "x", "w", "v"]})
    keys = frame["who"].array.codes.astype(np.int64)
    found = grouped_values(frame, keys, 3, ["who", "what"])
    assert found["who"] == [[], ["a"], ["b"]]
    # values in the column's own numbering (order of first appearance when it is not categorical)
    assert found["what"] == [[], ["y"], ["x", "w"]]


def test_records_gives_the_rows_to_dict_gives_whatever_the_dtypes():
    """``records`` reads a frame column by column, for speed: the same values as
    ``to_dict("records")``, timestamps, categories, lists, missing values and numbers alike."""
    frame = pd.DataFrame({
        "arn": ["a", "b", None],
        "when": pd.to_datetime(["2024-01-02T03:04:05Z", None, "2023-05-06T00:00:00Z"], utc=True),
        "level": pd.Categorical(["full", "partial", "full"]),
        "tags": [{"team": "x"}, {}, None],
        "count": [1, 2, 3],
        "share": [0.5, float("nan"), 1.0],
        "repositories": [("r1", "r2"), (), ("r3",)],
    })

    assert repr(records(frame)) == repr(frame.to_dict("records"))


def test_rows_are_replaced_alike_run_by_run_and_through_a_mask(monkeypatch) -> None:
    """``replace_rows`` copies the kept rows run by run when they lie in few runs, and through a
    boolean mask otherwise: both give the same frame, new categories appended."""
    import numpy as np
    import pandas as pd

    from ecr_audit import frames

    frame = pd.DataFrame({"principal_arn": pd.Categorical([f"p{i % 7}" for i in range(50)]),
                          "allowing": pd.Categorical([(f"s{i % 3}",) for i in range(50)]),
                          "identity_allowed": np.arange(50) % 2 == 0})
    new = pd.DataFrame({"principal_arn": pd.Categorical(["p1", "p9"]),
                        "allowing": pd.Categorical([("s1",), ("s9", "s1")]),
                        "identity_allowed": [True, False]})
    drop = np.zeros(50, dtype=bool)
    drop[[0, 1, 7, 30, 49]] = True
    by_runs = frames.replace_rows(frame, drop, new)
    monkeypatch.setattr(frames, "_MAX_RUNS", 0)
    by_mask = frames.replace_rows(frame, drop, new)
    expected = [tuple(row) for row in frame[~drop].astype(object).itertuples(index=False)] + \
        [tuple(row) for row in new.astype(object).itertuples(index=False)]
    for result in (by_runs, by_mask):
        assert [tuple(row) for row in result.astype(object).itertuples(index=False)] == expected

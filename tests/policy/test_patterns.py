"""Wildcard pattern set questions (overlap, cover) used for requests about sets of resources."""

from __future__ import annotations

import pytest

from ecr_audit.policy.patterns import (arn_glob_tokens, compile_tokens, glob_tokens,
                                       tokens_cover, tokens_intersect)


@pytest.mark.parametrize("first, second, overlap", [
    ("a*", "*b", True),
    ("a*c", "ab?", True),
    ("a?c", "abd", False),
    ("abc", "abc", True),
    ("*", "", True),
    ("x*", "y*", False),
])
def test_globs_overlap_exactly_when_some_string_matches_both(first, second, overlap):
    assert tokens_intersect(glob_tokens(first), glob_tokens(second)) is overlap


@pytest.mark.parametrize("outer, inner, covers", [
    ("*", "anything*", True),
    ("a*", "ab*", True),
    ("ab*", "a*", False),
    ("a*b*", "a*b", True),
    ("a?", "ab", True),
    ("a?", "a*", False),
    ("*a*", "x*a", True),
])
def test_glob_cover_means_every_match_of_inner_matches_outer(outer, inner, covers):
    assert tokens_cover(glob_tokens(outer), glob_tokens(inner)) is covers


def test_arn_wildcards_inside_a_segment_do_not_cover_colons():
    in_segment = arn_glob_tokens("arn:aws:logs:*:1:log-group:a*b")
    assert compile_tokens(in_segment).fullmatch("arn:aws:logs:x:1:log-group:axb")
    assert not compile_tokens(in_segment).fullmatch("arn:aws:logs:x:1:log-group:a:b")
    assert not tokens_cover(in_segment, arn_glob_tokens("arn:aws:logs:x:1:log-group:a*"))

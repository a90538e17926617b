"""The resolver is the one place where spans are merged, filtered, allowed and denied."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phiguard import InputError, Resolver, Span, merge


def test_overlapping_and_touching_spans_merge_to_the_best_type() -> None:
    spans = [
        Span(0, 5, "NAME", 0.6, "a"),
        Span(3, 9, "LOCATION", 0.9, "b"),
        Span(9, 12, "DATE", 0.5, "c"),
    ]
    assert merge(spans) == [Span(0, 12, "LOCATION", 0.9, "a+b+c")]


def test_separate_spans_stay_separate() -> None:
    spans = [Span(6, 8, "DATE"), Span(0, 5, "NAME")]
    assert merge(spans) == [Span(0, 5, "NAME"), Span(6, 8, "DATE")]


def test_threshold_and_entities() -> None:
    text = "John saw Mary on 3/4"
    spans = [Span(0, 4, "NAME", 0.4), Span(9, 13, "NAME", 0.95), Span(17, 20, "DATE", 0.9)]
    assert Resolver(threshold=0.5)(text, spans) == spans[1:]
    assert Resolver(entities=frozenset({"DATE"}))(text, spans) == [spans[2]]


def test_unknown_entity_type_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="unknown entity type"):
        Resolver(entities=frozenset({"NAMES"}))


def test_allow_list_drops_exact_terms_case_insensitively() -> None:
    text = "Pt seen in ED by Dr Ed"
    spans = [Span(11, 13, "NAME", 0.8), Span(20, 22, "NAME", 0.8)]
    assert Resolver(allow=frozenset({"ed"}))(text, spans) == []


def test_deny_list_marks_whole_words_only() -> None:
    text = "Brindlecomb 2; brindlecombx; BRINDLECOMB"
    out = Resolver(deny=("brindlecomb",))(text, [])
    assert [(s.start, s.end) for s in out] == [(0, 11), (29, 40)]
    assert all(s.type == "OTHER" and s.score == 1.0 for s in out)


spans_strategy = st.lists(
    st.tuples(
        st.integers(0, 60), st.integers(1, 15), st.sampled_from(["NAME", "DATE"]), st.floats(0, 1)
    ),
    max_size=20,
).map(lambda xs: [Span(a, a + n, t, s) for a, n, t, s in xs])


@given(spans_strategy)
def test_merge_covers_exactly_the_union_and_leaves_gaps(spans: list[Span]) -> None:
    merged = merge(spans)
    covered = {i for s in spans for i in range(s.start, s.end)}
    assert {i for s in merged for i in range(s.start, s.end)} == covered
    for a, b in pairwise(merged):
        assert a.end < b.start

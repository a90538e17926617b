"""Mask and tokenize are built from offsets: the reference design's str.replace bugs are absent.

The gold-span checks run on every invented note of tests/data/notes.jsonl; the same checks on
the ED sample with its gold are in tests/accuracy/test_ed_sample.py (they need ../shared).
"""

from __future__ import annotations

from typing import Any

import pytest

from phiguard import Span, mask, tokenize
from support.data import invented_notes
from support.gold import (
    HEX64,
    assert_mask_keeps_everything_but_phi,
    assert_one_token_per_occurrence,
    assert_round_trip_is_byte_identical,
    gold_deidentify,
)

NOTES = pytest.mark.parametrize("note", invented_notes(), ids=lambda n: str(n["id"]))


@NOTES
def test_mask_keeps_everything_but_phi_identical(note: dict[str, Any]) -> None:
    assert_mask_keeps_everything_but_phi(note["text"], note["spans"])


def test_mask_label_style() -> None:
    text = "Seen by Dr. Ruiz on 3/4."
    spans = [Span(12, 16, "NAME"), Span(20, 23, "DATE")]
    assert mask(text, spans, "label") == "Seen by Dr. [NAME] on [DATE]."


def test_age_50_does_not_touch_500_mg() -> None:
    text = (
        "Age: 50 Years\nlisinopril 5 mg – 500 mg daily; docusate sodium 100 mg oral capsule 100 mg"
    )
    gold = [{"start": 5, "end": 7, "label": "AGE"}]
    _, out = gold_deidentify(text, gold)
    assert "5 mg – 500 mg" in out
    assert "docusate sodium 100 mg oral capsule 100 mg" in out
    assert "Age: 50 Years" not in out


@NOTES
def test_every_occurrence_gets_its_own_64_hex_token(note: dict[str, Any]) -> None:
    assert_one_token_per_occurrence(note["text"], note["spans"])


@NOTES
def test_round_trip_is_byte_identical(note: dict[str, Any]) -> None:
    assert_round_trip_is_byte_identical(note["text"], note["spans"])


def test_tokens_are_not_rewritten_by_later_replacements() -> None:
    # The seed replaced "50" inside earlier tokens; here a value that is a substring of hex
    # ("a", "5") must leave tokens alone.
    text = "a 5 a 5 a"
    spans = [Span(i, i + 1, "OTHER") for i in range(0, len(text), 2)]
    t = tokenize(text, spans)
    assert t.text.count(" ") == 4
    assert all(HEX64.match(part) for part in t.text.split(" "))


def test_unresolved_spans_are_refused() -> None:
    with pytest.raises(ValueError, match="resolved"):
        mask("abcdef", [Span(0, 3, "NAME"), Span(2, 4, "NAME")])
    with pytest.raises(ValueError, match="inside the text"):
        mask("abc", [Span(1, 9, "NAME")])

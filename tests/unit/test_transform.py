"""Mask and tokenize are built from offsets: the reference design's str.replace bugs are absent."""

from __future__ import annotations

import re
from typing import Any

import pytest

from gold import GoldDetector
from phiguard import Deidentifier, Sealer, Span, mask, tokenize
from phiguard.transform import TOKEN_LENGTH, message_hash
from phiguard.vaults.memory import MemoryVault

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _deid(sample_text: str, sample_gold: list[dict[str, Any]]) -> tuple[Deidentifier, str]:
    d = Deidentifier(GoldDetector(sample_gold), vault=MemoryVault(), sealer=Sealer(b"\x01" * 32))
    return d, d.deidentify(sample_text).text


def test_mask_keeps_everything_but_phi_identical(
    sample_text: str, sample_gold: list[dict[str, Any]]
) -> None:
    spans = GoldDetector(sample_gold).detect(sample_text)
    out = mask(sample_text, spans)
    assert len(out) == len(sample_text)
    covered = {i for s in spans for i in range(s.start, s.end)}
    for i, (a, b) in enumerate(zip(sample_text, out, strict=True)):
        assert b == ("#" if i in covered else a)


def test_mask_label_style() -> None:
    text = "Seen by Dr. Ruiz on 3/4."
    spans = [Span(12, 16, "NAME"), Span(20, 23, "DATE")]
    assert mask(text, spans, "label") == "Seen by Dr. [NAME] on [DATE]."


def test_age_50_does_not_touch_500_mg(sample_text: str, sample_gold: list[dict[str, Any]]) -> None:
    _, out = _deid(sample_text, sample_gold)
    assert "5 mg – 500 mg" in out
    assert "docusate sodium 100 mg oral capsule 100 mg" in out
    assert "Age: 50 Years" not in out


def test_every_occurrence_gets_its_own_64_hex_token(
    sample_text: str, sample_gold: list[dict[str, Any]]
) -> None:
    t = tokenize(sample_text, GoldDetector(sample_gold).detect(sample_text))
    tokens = [r.token for r in t.replacements]
    assert len(tokens) == len(sample_gold)
    assert all(HEX64.match(tok) for tok in tokens)
    assert len(set(tokens)) == len(tokens), (
        "repeats of a value (Carlos, 50, 11/12/2011) share no token"
    )
    for r in t.replacements:
        assert t.text[r.offset : r.offset + TOKEN_LENGTH] == r.token
    assert t.message_hash == message_hash(t.text)


def test_sample_round_trip_is_byte_identical(
    sample_text: str, sample_gold: list[dict[str, Any]]
) -> None:
    d, out = _deid(sample_text, sample_gold)
    assert d.reidentify(out).encode("utf-8") == sample_text.encode("utf-8")


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

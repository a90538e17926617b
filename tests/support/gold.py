"""A detector that returns hand-marked gold spans, and the transform checks run with it.

The gold detector lets transform and vault tests run on a gold-marked note (the invented notes
of tests/data/notes.jsonl, the ED sample with ../shared gold) independently of any model's
accuracy. The checks are shared so that both kinds of note are held to the same assertions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from phiguard import Deidentifier, Sealer, mask, tokenize
from phiguard.detectors import BaseDetector
from phiguard.spans import Span
from phiguard.transform import TOKEN_LENGTH, message_hash
from phiguard.vaults.memory import MemoryVault

HEX64 = re.compile(r"^[0-9a-f]{64}$")


class GoldDetector(BaseDetector):
    name = "gold"

    def __init__(self, spans: Sequence[dict[str, Any]]) -> None:
        self._spans = [
            Span(int(s["start"]), int(s["end"]), str(s["label"]), 1.0, "gold") for s in spans
        ]

    def detect(self, text: str) -> list[Span]:
        return list(self._spans)


def gold_words(gold: Iterable[dict[str, Any]]) -> set[str]:
    """The \\w+ words of the gold spans' texts."""
    return {w for s in gold for w in re.findall(r"\w+", str(s["text"]))}


def gold_deidentify(text: str, gold: Sequence[dict[str, Any]]) -> tuple[Deidentifier, str]:
    """De-identify `text` with its gold spans into a memory vault: (deidentifier, output)."""
    d = Deidentifier(GoldDetector(gold), vault=MemoryVault(), sealer=Sealer(b"\x01" * 32))
    return d, d.deidentify(text).text


def assert_mask_keeps_everything_but_phi(text: str, gold: Sequence[dict[str, Any]]) -> None:
    spans = GoldDetector(gold).detect(text)
    out = mask(text, spans)
    assert len(out) == len(text)
    covered = {i for s in spans for i in range(s.start, s.end)}
    for i, (a, b) in enumerate(zip(text, out, strict=True)):
        assert b == ("#" if i in covered else a)


def assert_one_token_per_occurrence(text: str, gold: Sequence[dict[str, Any]]) -> None:
    t = tokenize(text, GoldDetector(gold).detect(text))
    tokens = [r.token for r in t.replacements]
    assert len(tokens) == len(gold)
    assert all(HEX64.match(tok) for tok in tokens)
    assert len(set(tokens)) == len(tokens), "repeats of a value share no token"
    for r in t.replacements:
        assert t.text[r.offset : r.offset + TOKEN_LENGTH] == r.token
    assert t.message_hash == message_hash(t.text)


def assert_round_trip_is_byte_identical(text: str, gold: Sequence[dict[str, Any]]) -> None:
    d, out = gold_deidentify(text, gold)
    assert d.reidentify(out).encode("utf-8") == text.encode("utf-8")

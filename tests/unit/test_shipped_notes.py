"""The notes shipped under tests/data are well formed, and the synthetic set's generator
(tools/synth_notes.py) is deterministic.

tests/data/synthetic_notes.jsonl holds nursing-note-style texts with PHI from Faker and hand
lists, none of it taken from the dev notes (docs/generalization.md); the local detector's
recall floor on it is checked in tests/accuracy/test_generalization.py.
tests/data/notes.jsonl holds 30 invented notes with hand-marked gold, for the tests that need
"some clinical text" (tests/README.md).
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from types import ModuleType

import pytest

from support.data import INVENTED_NOTES, REPO, SYNTHETIC_NOTES, invented_notes

LABELS = {"NAME", "DATE", "LOCATION", "PHONE", "AGE", "ID", "OTHER"}
SPAN_KEYS = frozenset({"start", "end", "label", "text"})


def _load_generator() -> ModuleType:
    """tools/synth_notes.py, imported as the tools import each other (tools/ on sys.path)."""
    pytest.importorskip("faker")
    tools = str(REPO / "tools")
    if tools not in sys.path:
        sys.path.append(tools)
    return importlib.import_module("synth_notes")


def _check_record(
    rec: dict[str, object], keys: frozenset[str] = frozenset(SPAN_KEYS | {"orig_label"})
) -> None:
    text = rec["text"]
    spans = rec["spans"]
    assert isinstance(text, str) and isinstance(spans, list)
    prev_end = 0
    for s in spans:
        assert set(s) == keys
        assert 0 <= s["start"] < s["end"] <= len(text)
        assert text[s["start"] : s["end"]] == s["text"]
        assert s["label"] in LABELS
        assert s["start"] >= prev_end, "spans overlap or are out of order"
        assert s["text"] == s["text"].strip() and re.search(r"\w", s["text"])
        if s["label"] == "AGE":  # only ages over 89 are PHI under the default policy
            assert int(re.sub(r"\D", "", s["text"])) > 89
        prev_end = s["end"]


def test_generator_is_deterministic_and_consistent() -> None:
    gen = _load_generator()
    exclude = frozenset({"smith", "jones"})
    a = [gen.to_record(n) for n in gen.generate(40, seed=7, exclude=exclude)]
    b = [gen.to_record(n) for n in gen.generate(40, seed=7, exclude=exclude)]
    c = [gen.to_record(n) for n in gen.generate(40, seed=8, exclude=exclude)]
    assert a == b
    assert a != c
    for rec in a:
        _check_record(rec)
        for s in rec["spans"]:
            if s["label"] in ("NAME", "LOCATION"):
                assert not {t.lower() for t in re.findall(r"\w+", s["text"])} & exclude
    labels = {s["label"] for rec in a for s in rec["spans"]}
    assert {"NAME", "DATE", "LOCATION", "PHONE"} <= labels


def test_committed_synthetic_set_is_well_formed() -> None:
    assert SYNTHETIC_NOTES.stat().st_size < 1_000_000
    records = [
        json.loads(line) for line in SYNTHETIC_NOTES.read_text(encoding="utf-8").splitlines()
    ]
    assert len(records) >= 300
    assert len({r["id"] for r in records}) == len(records)
    for rec in records:
        _check_record(rec)
    from phiguard.evaluation import annotated_age_policy, load_gold

    assert annotated_age_policy(load_gold(SYNTHETIC_NOTES)) == "over89"


def test_invented_notes_are_well_formed_and_varied() -> None:
    records = invented_notes()
    assert 20 <= len(records) <= 40 and INVENTED_NOTES.stat().st_size < 100_000
    assert len({r["id"] for r in records}) == len(records)
    for rec in records:
        _check_record(rec, SPAN_KEYS)
    from phiguard.evaluation import annotated_age_policy, load_gold

    assert annotated_age_policy(load_gold(INVENTED_NOTES)) == "over89"
    labels = {s["label"] for rec in records for s in rec["spans"]}
    assert {"NAME", "DATE", "LOCATION", "PHONE", "ID", "AGE"} <= labels
    texts = [r["text"] for r in records]
    assert any(t.isupper() for t in texts) and any(t == t.lower() for t in texts)
    assert any("\r\n" in t for t in texts) and any(ord(c) > 0xFFFF for t in texts for c in t)

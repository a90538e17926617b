"""Generalization check: the local detector on synthetic notes it was not tuned on.

tests/data/synthetic_notes.jsonl is made by scripts/synth_notes.py (see
docs/generalization.md): nursing-note-style texts with PHI from Faker and hand lists, none of
it taken from the dev notes. The slow test runs the detector over it the way `phiguard eval`
does and fails if token recall drops below RECALL_FLOOR; the fast tests check the generator
and the committed file.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parent.parent
SYNTH = REPO / "tests" / "data" / "synthetic_notes.jsonl"
LABELS = {"NAME", "DATE", "LOCATION", "PHONE", "AGE", "ID", "OTHER"}

# Token recall the detector must keep on the synthetic set (docs/generalization.md). Measured
# 2026-11-24: dev 0.987, dev with fresh names/places 0.921, this set 0.780. The project target
# is 0.98 on held-out real notes; this set over-represents hard forms (bare first names,
# initials, "LAST, FIRST", bare towns, pagers, month/year dates), so it scores below real notes,
# but 0.90 is the least a detector that generalizes should reach here. It is deliberately not
# "today's value minus a margin" (a regression guard): it fails until the miss patterns in the
# doc are fixed; then raise it to the measured value minus ~0.02 (seed-to-seed spread ~0.015).
# Raised 2026-11-24 22:45 UTC: this set measured 0.967 (dev 0.992, dev re-surrogated 0.994 at
# seed 20261124 and 0.979-0.983 at seeds not used for tuning), so the floor is 0.967 - 0.02.
RECALL_FLOOR = 0.947


def _load_generator() -> ModuleType:
    pytest.importorskip("faker")
    name = "synth_notes"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / "synth_notes.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


def _check_record(rec: dict[str, object]) -> None:
    text = rec["text"]
    spans = rec["spans"]
    assert isinstance(text, str) and isinstance(spans, list)
    prev_end = 0
    for s in spans:
        assert set(s) == {"start", "end", "label", "orig_label", "text"}
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
    assert SYNTH.stat().st_size < 1_000_000
    records = [json.loads(line) for line in SYNTH.read_text(encoding="utf-8").splitlines()]
    assert len(records) >= 300
    assert len({r["id"] for r in records}) == len(records)
    for rec in records:
        _check_record(rec)
    from phiguard.evaluation.scoring import annotated_age_policy, load_gold

    assert annotated_age_policy(load_gold(SYNTH)) == "over89"


@pytest.mark.slow
def test_local_detector_generalizes_to_synthetic_notes() -> None:
    from phiguard.evaluation.scoring import evaluate, load_gold
    from phiguard.resolve import Resolver
    from phiguard.run.deidentifier import Deidentifier

    gold = load_gold(SYNTH)
    d = Deidentifier("local", resolver=Resolver(), detector_options={"age_policy": "over89"})
    report = evaluate(gold, d.detector, d.resolver)
    token = report.levels["token"]
    recall = token.overall.recall
    assert recall is not None
    per_label = ", ".join(
        f"{label} {sc.recall:.3f}" for label, sc in sorted(token.by_label.items()) if sc.recall
    )
    assert recall >= RECALL_FLOOR, (
        f"token recall {recall:.4f} on synthetic notes < floor {RECALL_FLOOR} ({per_label}); "
        "run scripts/score_synthetic.py for the miss patterns"
    )

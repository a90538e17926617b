"""Checks on the real PhysioNet dev notes (../shared/eval/physionet-dev.jsonl, not shipped).

Every test here skips without ../shared: the accuracy targets (docs/accuracy.md), loading the
shared gold files, the packing saving and a round trip of every real note. The shipped-note
versions of the last two run in tests/unit (test_packing.py, test_cli.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from phiguard.detectors.comprehend.packing import estimate_cost
from phiguard.detectors.local.detector import LocalDetector
from phiguard.evaluation import check_targets, default_targets, evaluate, load_gold
from support.cli import assert_jsonl_round_trip
from support.data import DEV_SET, ED_SAMPLE_GOLD, invented_notes
from support.gold import GoldDetector
from support.spans import WORD

Notes = list[dict[str, Any]]


@pytest.mark.slow
def test_dev_set_meets_accuracy_targets(local_detector: LocalDetector, dev_notes: Notes) -> None:
    recs = dev_notes
    tp = fp = fn = 0
    gold_by: dict[str, int] = {}
    hit_by: dict[str, int] = {}
    for rec, spans in zip(recs, local_detector.detect_many([r["text"] for r in recs]), strict=True):
        for m in WORD.finditer(rec["text"]):
            s, e = m.span()
            labels = {g["label"] for g in rec["spans"] if g["start"] < e and s < g["end"]}
            predicted = any(p.start < e and s < p.end for p in spans)
            for label in labels:
                gold_by[label] = gold_by.get(label, 0) + 1
                hit_by[label] = hit_by.get(label, 0) + int(predicted)
            tp += int(bool(labels) and predicted)
            fn += int(bool(labels) and not predicted)
            fp += int(not labels and predicted)
    recall, precision = tp / (tp + fn), tp / (tp + fp)
    assert recall >= 0.98, f"recall {recall:.4f}"
    assert precision >= 0.85, f"precision {precision:.4f}"
    for label in ("NAME", "DATE", "LOCATION", "PHONE"):
        assert hit_by[label] / gold_by[label] >= 0.95, f"{label} recall"


def test_load_shared_files(shared_path: Callable[[str], Path], sample_gold: Notes) -> None:
    dev = load_gold(shared_path(DEV_SET))
    assert len(dev.records) == 1295
    assert sum(len(r.spans) for r in dev.records) == 867
    sample = load_gold(shared_path(ED_SAMPLE_GOLD))
    assert len(sample.records) == 1 and len(sample.records[0].spans) > 0
    perfect = evaluate(sample, GoldDetector(sample_gold))
    assert all(r.passed for r in check_targets(perfect, default_targets(sample)))


def test_packing_cuts_requests_on_the_dev_corpus(dev_notes: Notes) -> None:
    texts = [n["text"] for n in dev_notes]
    cost = estimate_cost(texts)
    assert cost.requests_unpacked == len(texts)
    assert cost.request_reduction >= 5.0
    assert cost.units_packed <= cost.units_unpacked


def test_dev_set_round_trip_sqlite(
    run: Any, phiguard_home: Path, dev_notes: Notes, tmp_path: Path
) -> None:
    """deid then reid returns every real nursing note byte for byte."""
    assert_jsonl_round_trip(run, dev_notes, tmp_path)


def test_invented_notes_share_no_name_or_place_with_the_dev_gold(dev_notes: Notes) -> None:
    """tests/data/notes.jsonl is redistributable: nothing in it was copied from the dev notes
    (generic facility words such as "St" or "Bay" aside)."""
    dev_words = {
        w.lower() for n in dev_notes for g in n["spans"] for w in re.findall(r"\w+", g["text"])
    }
    generic = {"st", "bay", "memorial", "hospital", "lake", "port", "point", "falls"}
    shared = {
        w.lower()
        for n in invented_notes()
        for s in n["spans"]
        if s["label"] in ("NAME", "LOCATION")
        for w in re.findall(r"[^\W\d]+", s["text"])
        if len(w) > 1
    } & dev_words
    assert shared <= generic, f"{len(shared - generic)} invented word(s) occur in the dev gold"

"""The shipped ED sample note against its hand-marked gold spans.

examples/ed_summary.txt ships; its gold (../shared/samples/ed_summary.gold.json) does not, so
every test here skips without ../shared. The same transform and no-leak checks run on the
invented notes of tests/data/notes.jsonl in tests/unit/test_transform.py and
tests/integration/test_no_phi_leaks.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from phiguard.detectors.local.detector import LocalDetector
from support.data import ED_SAMPLE
from support.gold import (
    assert_mask_keeps_everything_but_phi,
    assert_one_token_per_occurrence,
    assert_round_trip_is_byte_identical,
    gold_deidentify,
    gold_words,
)
from support.leaks import assert_no_phi_leaks
from support.spans import WORD, covered

Gold = list[dict[str, Any]]


def test_sample_note_gold_phi_all_found(
    local_detector: LocalDetector, sample_text: str, sample_gold: Gold
) -> None:
    text, gold = sample_text, sample_gold
    spans = local_detector.detect(text)
    missed = [
        g["label"]  # labels only: the sample's PHI stays out of test output
        for g in gold
        for m in WORD.finditer(text, g["start"], g["end"])
        if not any(s.start < m.end() and m.start() < s.end for s in spans)
    ]
    assert missed == []
    for needle in (
        "Stay Free Medical Center",
        "12341 W. Bohannon Rd, Grantville, GA",
        "186 VALETINE, NE 69201",
        "SALAZAR, CARLOS",
        "Jackson; Mateo",
        "Saanvi Sarkar",
        "Food Corp",
    ):
        assert covered(text, spans, needle)


def test_mask_sample_leaves_no_gold_token(run: Any, sample_gold: Gold) -> None:
    r = run("mask", str(ED_SAMPLE))
    assert r.code == 0, r.err
    for s in sample_gold:  # '#' masking keeps offsets: every gold character is masked
        masked = r.text[s["start"] : s["end"]]
        assert not re.search(r"\w", masked), f"{s['label']} span at {s['start']} not masked"
    names = {w for w in gold_words(sample_gold) if not w.isdigit()}
    assert not names & set(re.findall(r"\w+", r.text))
    assert "500 mg" in r.text


# -- transforms from the gold spans (tests/unit/test_transform.py on the invented notes) ------


def test_mask_keeps_everything_but_phi_identical(sample_text: str, sample_gold: Gold) -> None:
    assert_mask_keeps_everything_but_phi(sample_text, sample_gold)


def test_age_50_does_not_touch_500_mg(sample_text: str, sample_gold: Gold) -> None:
    _, out = gold_deidentify(sample_text, sample_gold)
    assert "5 mg – 500 mg" in out
    assert "docusate sodium 100 mg oral capsule 100 mg" in out
    assert "Age: 50 Years" not in out


def test_every_occurrence_gets_its_own_64_hex_token(sample_text: str, sample_gold: Gold) -> None:
    assert_one_token_per_occurrence(sample_text, sample_gold)  # Carlos, 50, 11/12/2011 repeat


def test_sample_round_trip_is_byte_identical(sample_text: str, sample_gold: Gold) -> None:
    assert_round_trip_is_byte_identical(sample_text, sample_gold)


# -- no leaks (tests/integration/test_no_phi_leaks.py on an invented note) --------------------


def test_debug_logs_temp_files_and_vault_hold_no_phi(tmp_path: Path, sample_gold: Gold) -> None:
    assert_no_phi_leaks(tmp_path, ED_SAMPLE, sample_gold)

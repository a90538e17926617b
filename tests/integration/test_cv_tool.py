"""tools/cv_model.py --quick runs end to end on a tiny invented corpus, patient-disjoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "tools"

NOTES = [
    ("p1_n1", "Pt seen by Dr. Zembrowski today, wife Halina at bedside.", ["Zembrowski", "Halina"]),
    ("p1_n2", "Halina called at 1400, questions answered.", ["Halina"]),
    (
        "p2_n1",
        "PT TRANSFERRED FROM MOSSGROVE ON 7/19, SON KWABENA AWARE.",
        ["MOSSGROVE", "7/19", "KWABENA"],
    ),
    ("p2_n2", "son kwabena in to visit, plan reviewed.", ["kwabena"]),
    ("p3_n1", "Family meeting with Dr. Aaltonen on 2/3 re code status.", ["Aaltonen", "2/3"]),
    ("p3_n2", "Pt's daughter Esperanza phoned from Tallahassee.", ["Esperanza", "Tallahassee"]),
    ("p4_n1", "Dr. Okafor-Lindqvist aware of K 3.1, repleted.", ["Okafor", "Lindqvist"]),
    ("p4_n2", "Wife Marguerite updated by phone 555-0199.", ["Marguerite", "555-0199"]),
]


def tiny_corpus(path: Path) -> None:
    lines = []
    for rec_id, text, phi in NOTES:
        spans = []
        for word in phi:
            start = text.index(word)
            label = (
                "DATE"
                if word[0].isdigit() and "/" in word
                else ("PHONE" if word[0].isdigit() else "NAME")
            )
            spans.append({"start": start, "end": start + len(word), "label": label})
        lines.append(json.dumps({"id": rec_id, "text": text, "spans": spans}))
    path.write_text("\n".join(lines) + "\n", "utf-8")


def test_folds_are_patient_disjoint() -> None:
    sys.path.insert(0, str(TOOLS))
    try:
        from cv_model import folds_of
    finally:
        sys.path.remove(str(TOOLS))
    ids = [n[0] for n in NOTES]
    folds = folds_of(ids, 2)
    by_patient: dict[str, set[int]] = {}
    for rec_id, fold in zip(ids, folds, strict=True):
        by_patient.setdefault(rec_id.split("_")[0], set()).add(fold)
    assert all(len(f) == 1 for f in by_patient.values())
    assert set(folds) == {0, 1}


def test_cv_quick_runs_on_a_tiny_corpus(tmp_path: Path) -> None:
    pytest.importorskip("pycrfsuite", reason="needs the train extra (python-crfsuite)")
    pytest.importorskip("wordfreq", reason="needs the train extra (wordfreq)")
    pytest.importorskip("faker", reason="needs faker")
    dev = tmp_path / "tiny.jsonl"
    tiny_corpus(dev)
    out = tmp_path / "cv.json"
    env = {**os.environ, "PHIGUARD_SYNTH_CACHE": str(tmp_path / "pools.json")}
    proc = subprocess.run(
        [
            sys.executable,
            str(TOOLS / "cv_model.py"),
            "--dev",
            str(dev),
            "-k",
            "2",
            "--quick",
            "--no-rules",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["k"] == 2 and report["quick"] is True
    rows = report["folds"]["model"]
    assert len(rows) == 2 and len(report["folds"]["synthetic-only model"]) == 2
    for row in rows:
        assert 0.0 <= row["recall"] <= 1.0
    assert "patient-disjoint 2-fold CV" in proc.stdout
    for _, text, _ in NOTES:  # no note text in the report
        assert text not in proc.stdout and text not in proc.stderr

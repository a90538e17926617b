"""Known PHI from structured data, through the CLI and the library: the values a caller holds
(the patient's name from the EHR row, institution-wide lists) are found in every note, in every
form, whatever the detector makes of the context."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from phiguard import Deidentifier
from phiguard.known import KnownPhi

NOTE = "summer brook called at noon. Brook says the pain is better; MRS. BROOK to follow up."


def test_known_field_masks_every_form_of_the_patients_name(run: Any, tmp_path: Path) -> None:
    src = tmp_path / "notes.jsonl"
    rows = [
        {"id": 1, "patient_name": "Summer Brook", "text": NOTE},
        {
            "id": 2,
            "patient_name": {"NAME": "Summer Brook", "ID": "0044-2918"},
            "text": "mrn 0044 2918",
        },
    ]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    plain = run("mask", "--jsonl", str(src))
    assert plain.code == 0, plain.err
    assert "brook" in plain.text.lower(), "the detector alone leaves some of it"
    r = run("mask", "--jsonl", "--known-field", "patient_name", str(src))
    assert r.code == 0, r.err
    out = [json.loads(line) for line in r.text.splitlines()]
    assert "brook" not in out[0]["text"].lower() and "summer" not in out[0]["text"].lower()
    assert "0044" not in out[1]["text"] and out[1]["patient_name"] == rows[1]["patient_name"]


def test_known_list_and_csv_known_column(run: Any, tmp_path: Path) -> None:
    lst = tmp_path / "hospital.txt"
    lst.write_text("# our wards and clinics\nLOCATION\tLakeshore\nNAME\tDr. Ivo Quell\n")
    src = tmp_path / "e.csv"
    src.write_text(
        "id,patient,text\n"
        '1,Summer Quixley,"Seen at the lakeshore clinic by Quell; quixley stable."\n'
    )
    r = run("mask", "--csv", "--known-list", str(lst), "--known-field", "patient", str(src))
    assert r.code == 0, r.err
    row = r.text.splitlines()[1]
    assert row.startswith("1,Summer Quixley,"), "other cells untouched"
    note = row.split(",", 2)[2].lower()
    assert "lakeshore" not in note and "quell" not in note and "quixley" not in note
    bad = tmp_path / "bad.csv"
    bad.write_text("id,text\n1,x\n")
    r = run("mask", "--csv", "--known-field", "patient", str(bad))
    assert r.code == 3 and "no column 'patient'" in r.err


def test_library_detect_mask_and_batch_take_known(tmp_path: Path) -> None:
    d = Deidentifier("local")
    known = KnownPhi.of({"NAME": "Summer Brook"})
    spans = d.detect(NOTE, known=known)
    covered = "".join(
        "#" if any(s.start <= i < s.end for s in spans) else c for i, c in enumerate(NOTE)
    )
    assert "brook" not in covered.lower()
    assert "brook" not in d.mask(NOTE, known=known).lower()
    from phiguard import Item

    [r] = list(d.mask_many([Item(1, NOTE, known=known)], workers=2))
    assert "brook" not in r.unwrap().lower()

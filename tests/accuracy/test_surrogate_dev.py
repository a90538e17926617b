"""`surrogate` on every PhysioNet dev note, grouped by patient (ids `pX_nY`: patient X).

- No gold PHI string is left where the detector found it: the gold spans a surrogate note still
  shows are exactly those `mask` leaves (the detector's misses), plus lone years, which the
  default shift keeps by design (Safe Harbor allows years).
- Every pair of a patient's full dates keeps its interval, within and across the patient's
  notes: each moves by the patient's own keyed offset, and other patients move by theirs.
- `reid` gives every note back byte for byte, from SQLite and from DynamoDB (dynalite).

Detection runs once per module (the shipped local detector); the runs replay its spans.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from phiguard import Deidentifier, Sealer
from phiguard.audit import Auditor, MemoryAuditLog
from phiguard.detectors import BaseDetector
from phiguard.keys.derived import derive_surrogate_key
from phiguard.run.records import Item
from phiguard.spans import Span
from phiguard.surrogates import date_offset
from phiguard.surrogates.pools import pools
from phiguard.transform import Policy, Replacement, Transformed, mask
from phiguard.vaults.dynamodb.vault import DynamoDBVault, create_table
from phiguard.vaults.sqlite import SQLiteVault

pytestmark = pytest.mark.slow

KEY = bytes(range(7, 39))
SKEY = derive_surrogate_key(KEY)
FORMATS = ["%m/%d/%Y", "%m/%d/%y", "%m-%d-%Y", "%m-%d-%y", "%Y-%m-%d", "%m.%d.%Y"]
FORMATS += ["%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y", "%d %B %Y", "%d %b %Y"]
YEAR_ALONE = re.compile(r"'?\d{2}(?:\d{2})?s?", re.IGNORECASE)  # 1992, '92, 1980s


class Replay(BaseDetector):
    """The spans the local detector found, by note text."""

    name = "replay"

    def __init__(self, found: dict[str, list[Span]]) -> None:
        self.found = found

    def detect(self, text: str) -> list[Span]:
        return list(self.found[text])


@pytest.fixture(scope="module")
def corpus(dev_notes: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, list[Span]]]:
    d = Deidentifier("local")
    texts = [str(n["text"]) for n in dev_notes]
    found = {t: list(r.unwrap()) for t, r in zip(texts, d.detect_many(texts), strict=True)}
    return dev_notes, found


def patient(note: dict[str, Any]) -> str:
    return str(note["id"]).split("_")[0]


def pipeline(vault: Any, found: dict[str, list[Span]], **kw: Any) -> Deidentifier:
    return Deidentifier(Replay(found), vault=vault, sealer=Sealer(KEY), surrogate_key=SKEY, **kw)


def items(notes: list[dict[str, Any]]) -> Iterator[Item]:
    return (Item(n["id"], str(n["text"]), None, patient(n)) for n in notes)


def _date(text: str) -> tuple[str, date] | None:
    for fmt in FORMATS:
        try:
            d = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if "%y" in fmt:  # phiguard reads two-digit years as 1930-2029
            yy = d.year % 100
            d = d.replace(year=2000 + yy if yy < 30 else 1900 + yy)
        return fmt, d
    return None


def _in_place(out: str, t: Transformed | None, g: dict[str, Any]) -> bool:
    """The gold span's text still stands where it was (the masked text keeps positions; the
    surrogate text moves them by the replacements before it)."""
    start = g["start"]
    if t is not None:
        start += sum(len(r.token) - len(r.value) for r in t.replacements if r.origin < g["start"])
    return out[start : start + len(g["text"])].lower() == str(g["text"]).lower()


def _word_in(word: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE) is not None


def _kept_inside(g: dict[str, Any], r: Replacement) -> bool:
    """Whether the gold text survives inside the replacement written over it: never for a
    name or a full date; for places, only the generic words kept by design ("Memorial",
    "Heart", "of"), never the distinctive one."""
    value = str(g["text"])
    if g["label"] == "DATE" and _date(value) is None:
        return False  # a fragment ("20th", "Apr") of a date that moved
    if g["label"] in ("LOCATION", "ORGANIZATION", "ADDRESS"):
        kept = pools().place_kept
        words = [w for w in re.findall(r"[\w']+", value) if w.lower() not in kept]
        return any(len(w) > 1 and _word_in(w, r.token) for w in words)
    return _word_in(value, r.token)


def test_no_gold_phi_is_left_beyond_what_mask_leaves(
    corpus: tuple[list[dict[str, Any]], dict[str, list[Span]]], tmp_path: Path
) -> None:
    notes, found = corpus
    d = pipeline(SQLiteVault(tmp_path / "v.db"), found)
    policy = Policy.surrogate()
    extra: list[str] = []
    for note in notes:
        text, gold = str(note["text"]), note["spans"]
        t = d.transform(text, found[text], policy, patient=patient(note))
        masked = mask(text, found[text])
        for g in gold:
            end = g["start"] + len(g["text"])
            over = [
                r for r in t.replacements if r.origin < end and g["start"] < r.origin + len(r.value)
            ]
            if over:  # replaced: nothing of it may survive but generic place words
                left = any(_kept_inside(g, r) for r in over)
            else:  # not replaced: the detector missed it (mask leaves it too), or not PHI
                left = _in_place(t.text, t, g) and not _in_place(masked, None, g)
                left = left and not (g["label"] == "DATE" and YEAR_ALONE.fullmatch(g["text"]))
            if left:
                extra.append(f"{note['id']} {g['label']} at {g['start']}")  # never the text
    assert extra == [], "gold PHI left in place that mask removes"


def test_a_patients_full_dates_keep_their_intervals(
    corpus: tuple[list[dict[str, Any]], dict[str, list[Span]]], tmp_path: Path
) -> None:
    notes, found = corpus
    d = pipeline(SQLiteVault(tmp_path / "v.db"), found)
    moved: dict[str, set[int]] = {}
    for note in notes:
        text = str(note["text"])
        t = d.transform(text, found[text], Policy.surrogate(), patient=patient(note))
        for r in t.replacements:
            before, after = _date(r.value), _date(r.token)
            if r.type == "DATE" and before is not None:
                assert after is not None and after[0] == before[0], "same format"
                moved.setdefault(patient(note), set()).add((after[1] - before[1]).days)
    assert sum(map(len, moved.values())) == len(moved), "one offset per patient"
    for pid, days in moved.items():
        assert days == {date_offset(SKEY, pid)}
    assert len(moved) > 10 and len({next(iter(v)) for v in moved.values()}) > len(moved) // 2


def _round_trip(d: Deidentifier, notes: list[dict[str, Any]]) -> None:
    released = list(d.surrogate_many(items(notes), vault_batch=64))
    assert all(r.ok for r in released)
    outs = [r.unwrap().text for r in released]
    back = [r.unwrap() for r in d.reidentify_many(outs, require_mapping=True)]
    assert back == [str(n["text"]) for n in notes], "byte-exact for every note"


def test_reid_is_byte_exact_on_sqlite(
    corpus: tuple[list[dict[str, Any]], dict[str, list[Span]]],
    tmp_path: Path,
    phiguard_home: Path,
) -> None:
    notes, found = corpus
    _round_trip(pipeline(SQLiteVault(tmp_path / "v.db"), found), notes)


@pytest.mark.dynamodb
def test_reid_is_byte_exact_on_dynamodb(
    corpus: tuple[list[dict[str, Any]], dict[str, list[Span]]],
    dynamodb_endpoint: str,
    phiguard_home: Path,
) -> None:
    notes, found = corpus
    table = f"phiguard-surrogate-{uuid.uuid4().hex[:8]}"
    assert create_table(table, endpoint_url=dynamodb_endpoint)
    vault = DynamoDBVault(table, endpoint_url=dynamodb_endpoint)
    try:
        audit = Auditor(MemoryAuditLog(), "test")
        _round_trip(pipeline(vault, found, auditor=audit), notes)
    finally:
        vault.close()

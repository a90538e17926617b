"""Surrogate output is reversible and fail-closed, and its hazards are handled:

- the mapping is sealed under the output's hash before the note is released, and `reid` gives
  the input back byte for byte (surrogates alone, or mixed with tokens and kept spans);
- a re-run of the same note writes the very same rows (idempotent), and a failed run's
  journal never deletes deterministic rows another run may have released;
- two DIFFERENT notes that give the same output text are refused, never answered with the
  other patient's values; an edited note fails with --require-mapping; lost or moved rows fail.

The vaults are real (SQLite files, the in-memory vault); detection is a small rule detector,
since detection is not under test here.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import pytest

from phiguard import Deidentifier, ReidentificationError, Sealer, VaultError
from phiguard.detectors import BaseDetector
from phiguard.keys.derived import derive_surrogate_key
from phiguard.keys.files import generate_key
from phiguard.keys.mapping import EMPTY, is_mapping_row
from phiguard.run.records import Item
from phiguard.spans import Span
from phiguard.surrogates import date_offset
from phiguard.transform import TOKEN_LIKE, Policy
from phiguard.vaults.base import VaultRecord
from phiguard.vaults.memory import MemoryVault
from phiguard.vaults.sqlite import SQLiteVault

KEY = bytes(range(32))
_RULES = [
    (re.compile(r"\b\d{1,2}/\d{1,2}/\d{4}\b"), "DATE"),
    (re.compile(r"(?<=(?:Mr|Dr|Ms)\. )[A-Z][a-z]+(?: [A-Z][a-z]+)?"), "NAME"),
    (re.compile(r"(?<=MRN )\d+"), "ID"),
]
NOTE = "Mr. Carlos Salazar admitted 02/03/2012, discharged 02/09/2012 by Dr. Hobbs. MRN 00482913."


class Rules(BaseDetector):
    name = "rules"

    def detect(self, text: str) -> list[Span]:
        return sorted(Span(m.start(), m.end(), t) for rx, t in _RULES for m in rx.finditer(text))


class Nothing(BaseDetector):
    name = "nothing"

    def detect(self, text: str) -> list[Span]:
        return []


def pipeline(vault: object, key: bytes = KEY, detector: BaseDetector | None = None) -> Deidentifier:
    return Deidentifier(
        detector or Rules(),
        vault=vault,  # type: ignore[arg-type]
        sealer=Sealer(key),
        surrogate_key=derive_surrogate_key(key),
    )


def rows(db: Path) -> set[tuple[str, str]]:
    with sqlite3.connect(db) as c:
        return set(c.execute("SELECT message_hash, token FROM vault"))


def test_surrogate_note_round_trips_and_the_vault_holds_no_plaintext(tmp_path: Path) -> None:
    vault = SQLiteVault(tmp_path / "v.db")
    d = pipeline(vault)
    out = d.surrogate(NOTE, patient="pt-1")
    assert not TOKEN_LIKE.search(out.text) and "[" not in out.text, "readable: no token, no label"
    for original in ("Carlos", "Salazar", "Hobbs", "02/03/2012", "02/09/2012", "00482913"):
        assert original not in out.text
    assert re.fullmatch(r"Mr\. \w+ \w+ admitted \d\d/\d\d/\d{4}, discharged .*", out.text)
    assert d.reidentify(out.text) == NOTE
    vault.close()
    raw = (tmp_path / "v.db").read_bytes()
    for original in (b"Carlos", b"Salazar", b"Hobbs", b"02/03/2012", b"00482913"):
        assert original not in raw, "only sealed values in the vault file"
    kinds = {is_mapping_row(t) for _, t in rows(tmp_path / "v.db")}
    assert kinds == {True}, "surrogate rows are placed by offset, not found as tokens"


def test_mixed_policy_round_trips_exactly() -> None:
    d = pipeline(MemoryVault())
    policy = Policy.surrogate().with_actions(ID="token", NAME="keep")
    out = d.deidentify(NOTE, policy=policy)
    assert "Carlos Salazar" in out.text and "Hobbs" in out.text, "kept as written"
    assert (
        TOKEN_LIKE.search(out.text) and "00482913" not in out.text and "02/03/2012" not in out.text
    )
    assert d.reidentify(out.text) == NOTE


def test_masked_and_labelled_spans_do_not_come_back_by_design() -> None:
    d = pipeline(MemoryVault())
    out = d.deidentify(NOTE, policy=Policy.surrogate().with_actions(ID="mask", NAME="label"))
    back = d.reidentify(out.text)
    assert "MRN ########." in back and "Mr. [NAME] admitted 02/03/2012" in back


def test_a_rerun_writes_the_same_rows_and_another_key_other_surrogates(tmp_path: Path) -> None:
    db = tmp_path / "v.db"
    first = pipeline(SQLiteVault(db)).surrogate(NOTE, patient="pt-1")
    before = rows(db)
    again = pipeline(SQLiteVault(db)).surrogate(NOTE, patient="pt-1")  # a later run, same key
    assert again == first and rows(db) == before, "idempotent: no second mapping beside the first"
    other = pipeline(SQLiteVault(db), key=generate_key()).surrogate(NOTE, patient="pt-1")
    assert other.text != first.text
    assert pipeline(SQLiteVault(db)).reidentify(first.text) == NOTE


def _same_output_notes() -> tuple[str, str]:
    """Two different patients' notes that give the same surrogate text: their dates differ by
    exactly the difference of their offsets."""
    skey = derive_surrogate_key(KEY)
    o1, o2 = date_offset(skey, "pt-1"), date_offset(skey, "pt-2")
    assert o1 != o2
    d1 = date(2012, 3, 4)
    d2 = d1 + timedelta(days=o1 - o2)
    return f"Seen {d1:%m/%d/%Y}.", f"Seen {d2:%m/%d/%Y}."


def test_two_different_notes_with_one_output_are_refused_never_swapped() -> None:
    a, b = _same_output_notes()
    d = pipeline(MemoryVault())
    out_a = d.surrogate(a, patient="pt-1")
    assert d.reidentify(out_a.text) == a
    out_b = d.surrogate(b, patient="pt-2")
    assert out_b.text == out_a.text and a != b
    with pytest.raises(ReidentificationError, match="2 different notes") as info:
        d.reidentify(out_a.text)
    assert not re.search(r"\d\d/\d\d/\d{4}", str(info.value)), "no date in the message"


def test_a_note_with_nothing_replaced_still_claims_its_text() -> None:
    # B's text IS A's surrogate output, and nothing is found in B: without B's empty mapping,
    # reid of that text would answer with A's original.
    vault = MemoryVault()
    a, _ = _same_output_notes()
    out_a = pipeline(vault).surrogate(a, patient="pt-1")
    out_b = pipeline(vault, detector=Nothing()).surrogate(out_a.text, patient="pt-9")
    assert out_b.text == out_a.text
    assert [r.token for r in vault.get(out_b.message_hash) if r.token == EMPTY] == [EMPTY]
    with pytest.raises(ReidentificationError, match="different notes"):
        pipeline(vault).reidentify(out_a.text)
    alone = MemoryVault()
    out = pipeline(alone, detector=Nothing()).surrogate("No events overnight.")
    assert pipeline(alone).reidentify(out.text, require_mapping=True) == "No events overnight."


def test_an_edited_surrogate_note_fails_with_require_mapping() -> None:
    d = pipeline(MemoryVault())
    out = d.surrogate(NOTE, patient="pt-1")
    edited = out.text.replace("admitted", "admited")
    with pytest.raises(ReidentificationError, match="no vault entries"):
        d.reidentify(edited, require_mapping=True)
    # without it, a text the vault holds nothing for passes as it is (a note nothing was
    # found in looks the same): the documented reason to pass --require-mapping
    assert d.reidentify(edited) == edited


def test_lost_or_moved_rows_fail_clearly_naming_no_value() -> None:
    vault = MemoryVault()
    d = pipeline(vault)
    out = d.surrogate(NOTE, patient="pt-1")
    kept = vault.get(out.message_hash)
    vault._rows[out.message_hash] = {r.token: r for r in kept[1:]}  # lose one row
    with pytest.raises(
        ReidentificationError, match=rf"holds {len(kept) - 1} of .* not {len(kept)}"
    ):
        d.reidentify(out.text)
    r = kept[0]
    moved = VaultRecord(r.message_hash, r.token, r.type, r.ciphertext, r.key_id, r.offset + 1, "")
    vault._rows[out.message_hash] = {x.token: x for x in [moved, *kept[1:]]}
    with pytest.raises(ReidentificationError, match=f"offset {r.offset + 1} is not in the text"):
        d.reidentify(out.text)


class FailingVault(SQLiteVault):
    """Writes every row of a put, then reports failure (the reply was lost)."""

    def put(self, records: Sequence[VaultRecord]) -> None:
        super().put(records)
        raise VaultError("vault unreachable")


def test_a_failed_run_never_deletes_deterministic_rows_another_run_released(
    tmp_path: Path, phiguard_home: Path
) -> None:
    db = tmp_path / "v.db"
    x_note = "Mr. Carlos Salazar admitted 02/03/2012 by Dr. Hobbs."  # no ID: no token below
    x = Item("x", x_note, patient="pt-1")
    released = next(pipeline(SQLiteVault(db)).surrogate_many([x]))
    before = rows(db)
    # A second run writes X's rows again (the same keys) and Z's, with a fresh-salt token,
    # then fails: its journal removes Z's rows (Z's text is this run's alone) and keeps X's,
    # which run 1 released and which are byte-for-byte the same rows.
    z = Item("z", "MRN 55512. Seen 03/03/2013.", patient="pt-3")
    fresh = Policy.surrogate().with_actions(ID="token")
    run2 = pipeline(FailingVault(db)).surrogate_many([z, x], vault_batch=2, policy=fresh)
    with pytest.raises(VaultError):
        next(run2)
    assert rows(db) == before, "Z left no row; X's mapping is still there"
    assert pipeline(SQLiteVault(db)).reidentify(released.unwrap().text) == x_note

"""The CLI as a user runs it: the real local detector, real vault files, real exit codes.

In-process (the `run` fixture); the child-process and DynamoDB runs are in
tests/integration/test_cli.py, the ED sample's gold check in tests/accuracy/test_ed_sample.py.
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from support.cli import assert_jsonl_round_trip

HEX64 = re.compile(r"[0-9a-f]{64}")


def _deid_one(run: Any, tmp_path: Path) -> tuple[Path, Path]:
    """A short note and its de-identified file (vault and key in the test's PHIGUARD_HOME)."""
    src = tmp_path / "n.txt"
    src.write_text("Carlos Salazar was seen on 11/12/2011.\n")
    out = tmp_path / "n.deid"
    assert run("deid", str(src), "--out", str(out)).code == 0
    return src, out


def test_deid_reid_sample_round_trip(
    run: Any, phiguard_home: Path, sample_text: str, tmp_path: Path
) -> None:
    src = tmp_path / "note.txt"
    src.write_bytes(sample_text.encode())
    out = tmp_path / "note.deid.txt"
    r = run("deid", str(src), "--out", str(out))
    assert r.code == 0, r.err
    deid = out.read_text()
    assert "SALAZAR" not in deid and "500 mg" in deid
    tokens = HEX64.findall(deid)
    assert len(tokens) == len(set(tokens)) >= 10
    assert (phiguard_home / "vault.db").exists()
    r = run("reid", str(out))
    assert r.code == 0, r.err
    assert r.out == sample_text.encode()


def test_detect_json_shape_and_show_text(run: Any, sample_text: str) -> None:
    r = run("detect", "--format", "json", "-", stdin=sample_text.encode())
    assert r.code == 0, r.err
    spans = json.loads(r.out)["spans"]
    assert spans and set(spans[0]) == {"start", "end", "type", "score", "source"}
    r = run("detect", "--format", "json", "--show-text", "-", stdin=sample_text.encode())
    shown = json.loads(r.out)["spans"]
    assert all(s["text"] == sample_text[s["start"] : s["end"]] for s in shown)


def test_mask_label_style_and_entities(run: Any) -> None:
    note = b"Pt Carlos Salazar seen 11/12/2011 by Dr. Sarkar.\n"
    r = run("mask", "--style", "label", "--entities", "DATE", "-", stdin=note)
    assert r.code == 0, r.err
    assert "[DATE]" in r.text and "Carlos" in r.text


def test_jsonl_records_rewritten_in_order(run: Any, phiguard_home: Path, tmp_path: Path) -> None:
    records = [
        {"id": "a", "text": "Seen by Dr. Jackson on 3/4/2011.", "ward": 7},
        {"id": "b", "text": ""},
        {"id": "c", "text": "Daughter Maria called from 617-555-0134."},
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in records))
    r = run("deid", "--jsonl", str(src))
    assert r.code == 0, r.err
    out = [json.loads(line) for line in r.text.splitlines()]
    assert [o["id"] for o in out] == ["a", "b", "c"] and out[0]["ward"] == 7
    assert out[1]["text"] == "" and "Jackson" not in out[0]["text"]
    deid = tmp_path / "deid.jsonl"
    deid.write_text(r.text)
    r = run("reid", "--jsonl", str(deid))
    assert [json.loads(line) for line in r.text.splitlines()] == records
    r = run("detect", "--jsonl", str(src))
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert [x["id"] for x in lines] == ["a", "b", "c"] and lines[1]["spans"] == []


def test_shipped_notes_round_trip_sqlite(
    run: Any, phiguard_home: Path, bulk_notes: list[dict[str, Any]], tmp_path: Path
) -> None:
    """deid then reid returns every invented and synthetic note byte for byte (the real dev
    notes: tests/accuracy/test_dev_corpus.py)."""
    assert_jsonl_round_trip(run, bulk_notes, tmp_path)


@pytest.mark.parametrize(
    ("args", "stdin", "code", "message"),
    [
        (["mask", "missing.txt"], None, 3, "file not found"),
        (["mask", "-"], b"\xff\xfeabc", 3, "not valid UTF-8"),
        (["mask", "-"], b"", 3, "input is empty"),
        (["mask", "-"], b"bin\x00ary", 3, "NUL byte"),
        (["mask", "--jsonl", "-"], b'{"text": "ok"}\nnot json\n', 3, "<stdin>:2: malformed JSON"),
        (["deid", "--store", "nowhere", "-"], b"x", 2, "Invalid value for '--store'"),
        (["mask", "--backend", "gpt", "-"], b"x", 2, "Invalid value for '--backend'"),
        (["mask", "--entities", "NAMES", "-"], b"x", 3, "unknown entity type"),
        (["mask", "--allow-list", "nope.txt", "-"], b"x", 3, "term list nope.txt: file not found"),
        (["mask", "--model", "no_such_model", "-"], b"Carlos", 4, ""),
    ],
)
def test_bad_input_is_one_clear_line(
    run: Any, phiguard_home: Path, args: list[str], stdin: bytes | None, code: int, message: str
) -> None:
    r = run(*args, stdin=stdin)
    assert r.code == code, r.err
    assert r.out == b"", "no partial output"
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("phiguard: error:") and message in lines[0]
    assert "Traceback" not in r.err


def test_reid_without_key_or_with_wrong_key(
    run: Any, phiguard_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, out = _deid_one(run, tmp_path)
    r = run("reid", str(out), "--key-file", str(tmp_path / "nokey"))
    assert r.code == 6 and "not found" in r.err and r.out == b""
    monkeypatch.setenv("PHIGUARD_KEY", base64.b64encode(os.urandom(32)).decode())
    r = run("reid", str(out))
    assert r.code == 6 and "wrong key" in r.err and r.out == b""
    assert "Carlos" not in r.err


def test_reid_with_missing_vault_and_unknown_tokens(
    run: Any, phiguard_home: Path, tmp_path: Path
) -> None:
    _, out = _deid_one(run, tmp_path)
    r = run("reid", str(out), "--vault", str(tmp_path / "other.db"))
    assert r.code == 5 and "not found" in r.err
    edited = tmp_path / "edited"
    edited.write_text(out.read_text() + "extra")
    r = run("reid", str(edited))
    assert r.code == 7 and "token(s) not found" in r.err and r.out == b""


def test_dry_run_prices_comprehend_without_calling_or_touching_the_vault(
    run: Any, phiguard_home: Path, bulk_notes: list[dict[str, Any]], tmp_path: Path
) -> None:
    from phiguard.detectors.comprehend.packing import estimate_cost

    notes = [n["text"] for n in bulk_notes[:300]]
    src = tmp_path / "notes.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(notes)))
    r = run("deid", "--backend", "comprehend", "--dry-run", "--jsonl", str(src))
    assert r.code == 0, r.err
    est = estimate_cost(notes)
    assert f"one request per note: {est.requests_unpacked} DetectPHI request(s)" in r.text
    assert f"packed (default):     {est.requests_packed} DetectPHI request(s)" in r.text
    assert est.requests_unpacked >= 5 * est.requests_packed
    assert not phiguard_home.exists(), "a dry run opens no vault and creates no key"


def test_reid_out_is_private_even_onto_an_existing_file(
    run: Any, phiguard_home: Path, tmp_path: Path
) -> None:
    src, deid = _deid_one(run, tmp_path)
    target = tmp_path / "out.txt"
    target.write_text("old content that is longer than the note will be, to check truncation\n")
    target.chmod(0o666)
    r = run("reid", str(deid), "--out", str(target))
    assert r.code == 0, r.err
    assert target.read_text() == src.read_text()
    assert target.stat().st_mode & 0o777 == 0o600
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "elsewhere.txt")
    r = run("reid", str(deid), "--out", str(link))
    assert r.code == 3 and "symbolic link" in r.err
    assert not (tmp_path / "elsewhere.txt").exists()


def test_jsonl_lone_surrogate_is_a_clear_input_error(run: Any, phiguard_home: Path) -> None:
    r = run("deid", "--jsonl", "-", stdin=b'{"id": 1, "text": "Carlos \\ud800 x"}\n')
    assert r.code == 3 and "unpaired surrogate" in r.err and r.out == b""

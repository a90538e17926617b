"""The streaming CLI driver with worker processes (--workers 2): CSV and JSONL round trips,
order and output identical to one worker, files, the detect command's streaming path. Real
local detector, real SQLite vault; the one-process cases are in tests/unit/test_cli_batch.py."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from support.cli import NOTES, write_jsonl


def test_csv_deid_reid_round_trip_is_byte_identical(
    run: Any, phiguard_home: Path, tmp_path: Path
) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["id", "text", "ward"])
    for i, note in enumerate(NOTES * 3):
        w.writerow([f"c{i}", note, f"W{i}"])
    w.writerow(["empty", "", "W0"])
    src = tmp_path / "in.csv"
    src.write_bytes(buf.getvalue().encode())
    deid, back = tmp_path / "deid.csv", tmp_path / "back.csv"
    r = run("deid", "--csv", str(src), "--out", str(deid), "--workers", "2")
    assert r.code == 0, r.err
    rows = list(csv.reader(deid.open(newline="")))
    assert rows[0] == ["id", "text", "ward"] and len(rows) == len(NOTES) * 3 + 2
    assert [row[2] for row in rows[1:4]] == ["W0", "W1", "W2"]
    assert "Salazar" not in deid.read_text() and "500 mg" in deid.read_text()
    r = run("reid", "--csv", str(deid), "--out", str(back))
    assert r.code == 0, r.err
    assert back.read_bytes() == src.read_bytes()
    assert (back.stat().st_mode & 0o777) == 0o600, "re-identified output is PHI"


def test_jsonl_two_workers_keeps_order_and_matches_one_worker(
    run: Any, phiguard_home: Path, tmp_path: Path
) -> None:
    src = tmp_path / "in.jsonl"
    records = write_jsonl(src, 48)
    r1 = run("mask", "--jsonl", str(src))
    r2 = run("mask", "--jsonl", "--workers", "2", str(src))
    assert r1.code == r2.code == 0, r2.err
    assert r1.out == r2.out
    out = [json.loads(line) for line in r2.text.splitlines()]
    assert [o["id"] for o in out] == [r["id"] for r in records]
    assert [o["n"] for o in out] == list(range(48))
    deid = tmp_path / "deid.jsonl"
    r = run("deid", "--jsonl", "--workers", "2", str(src), "--out", str(deid))
    assert r.code == 0, r.err
    r = run("reid", "--jsonl", str(deid))
    assert [json.loads(line) for line in r.text.splitlines()] == records


def test_success_leaves_no_temp_files(run: Any, phiguard_home: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(NOTES[0])
    b.write_text(NOTES[1])
    out = tmp_path / "out"
    r = run("deid", str(a), str(b), "--out", str(out), "--workers", "2")
    assert r.code == 0, r.err
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "b.txt"]
    r = run("mask", "--format", "json", str(a), str(b))
    docs = json.loads(r.out)
    assert [d["file"] for d in docs] == [str(a), str(b)] and docs[0]["spans"] >= 2


@pytest.mark.parametrize(
    ("flags", "files"),
    [(["--jsonl"], ["in.jsonl"]), ([], ["a.txt"]), (["--format", "json"], ["a.txt", "b.txt"])],
)
def test_streaming_detect_matches_the_detect_command(
    run: Any, tmp_path: Path, flags: list[str], files: list[str]
) -> None:
    """`detect --workers 2` (worker processes) prints exactly what `detect` prints."""
    write_jsonl(tmp_path / "in.jsonl", 6)
    (tmp_path / "a.txt").write_text(NOTES[0])
    (tmp_path / "b.txt").write_text(NOTES[1])
    paths = [str(tmp_path / f) for f in files]
    expected = run("detect", *flags, *paths)
    assert expected.code == 0, expected.err
    parallel = run("detect", "--workers", "2", *flags, *paths)
    assert parallel.code == 0, parallel.err
    assert parallel.out == expected.out

"""The streaming CLI driver as users run it: directories, JSONL, summary and progress on
stderr, per-record failures (exit 9), no partial output. Real local detector, real SQLite
vault, in one process; the runs with worker processes are in tests/integration/test_cli_batch.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from phiguard.errors import DetectionError
from support.cli import NOTES, write_jsonl


def _summary(err: str) -> list[str]:
    return [
        ln
        for ln in err.splitlines()
        if ln.startswith("phiguard: mask:")
        or ln.startswith("phiguard: deid:")
        or ln.startswith("phiguard: reid:")
    ]


def test_directory_input_recursive_with_glob(run: Any, tmp_path: Path) -> None:
    src = tmp_path / "notes"
    (src / "sub").mkdir(parents=True)
    (src / ".hidden").mkdir()
    (src / "a.txt").write_text(NOTES[0])
    (src / "sub" / "b.txt").write_text(NOTES[1])
    (src / ".hidden" / "c.txt").write_text(NOTES[2])
    (src / "readme.md").write_text(NOTES[3])
    out = tmp_path / "out"
    r = run("mask", str(src), "--out", str(out))
    assert r.code == 0, r.err
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert written == ["a.txt", "sub/b.txt"]
    assert "Salazar" not in (out / "a.txt").read_text()
    r = run("mask", str(src), "--glob", "*.md", "--out", str(tmp_path / "md"))
    assert r.code == 0 and "500 mg" in (tmp_path / "md").read_text()  # one input: one file
    empty = tmp_path / "empty"
    empty.mkdir()
    r = run("mask", str(empty))
    assert r.code == 3 and "no files matching '*.txt'" in r.err


def test_summary_on_stderr_unless_quiet(run: Any, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    write_jsonl(src, 4)
    r = run("mask", "--jsonl", str(src))
    assert r.code == 0, r.err
    (line,) = _summary(r.err)
    assert line.startswith("phiguard: mask: 4 note(s) in ") and "notes/s" in line
    assert "PHI span(s) (NAME " in line and line.endswith("0 failed")
    assert "Salazar" not in r.err
    r = run("--quiet", "mask", "--jsonl", str(src))
    assert r.code == 0 and r.err == ""
    assert len(r.text.splitlines()) == 4


def test_per_record_failure_exits_9_after_the_others(
    run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from phiguard.detectors.local.detector import LocalDetector

    real_many = LocalDetector.detect_many

    def detect_many(self: LocalDetector, texts: Any) -> Any:
        texts = list(texts)
        if any("Maria" in t for t in texts):
            raise DetectionError("test: detector refused")
        return real_many(self, texts)

    monkeypatch.setattr(LocalDetector, "detect_many", detect_many)
    src = tmp_path / "in.jsonl"
    write_jsonl(src, 8)  # r1 and r5 hold "Maria"
    out = tmp_path / "out.jsonl"
    r = run("mask", "--jsonl", str(src), "--out", str(out))
    assert r.code == 9, r.err
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert ids == ["r0", "r2", "r3", "r4", "r6", "r7"]
    # failures are named by file and line: record ids may be MRNs, and stderr goes to job logs
    assert (
        f"phiguard: record {src}:2 failed (not written): DetectionError: test: detector refused"
        in r.err
    )
    assert f"{src}:6 failed" in r.err and "Maria" not in r.err
    assert not any(f"{rid} failed" in r.err or f"id {rid}" in r.err for rid in ("r1", "r5"))
    assert "2 failed" in _summary(r.err)[0]
    assert r.err.strip().splitlines()[-1].startswith("phiguard: error: 2 of 8 record(s) failed")
    shown = run("mask", "--jsonl", str(src), "--show-ids")
    assert shown.code == 9
    assert f"phiguard: record {src}:2 (id r1) failed (not written)" in shown.err


def test_reid_record_with_unknown_tokens_fails_alone(
    run: Any, phiguard_home: Path, tmp_path: Path
) -> None:
    src = tmp_path / "in.jsonl"
    records = write_jsonl(src, 4)
    deid = tmp_path / "deid.jsonl"
    assert run("deid", "--jsonl", str(src), "--out", str(deid)).code == 0
    lines = deid.read_text().splitlines()
    edited = json.loads(lines[2])
    edited["text"] += " edited"
    lines[2] = json.dumps(edited)
    deid.write_text("\n".join(lines) + "\n")
    r = run("reid", "--jsonl", str(deid))
    assert r.code == 9
    assert [json.loads(x) for x in r.text.splitlines()] == [records[0], records[1], records[3]]
    assert f"record {deid}:3 failed (not written): ReidentificationError" in r.err


def test_whole_input_error_leaves_no_partial_output(run: Any, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    write_jsonl(src, 5)
    with src.open("a") as fh:
        fh.write("not json\n")
    outdir = tmp_path / "o"
    outdir.mkdir()
    r = run("mask", "--jsonl", str(src), "--out", str(outdir / "out.jsonl"))
    assert r.code == 3 and r.out == b""
    assert r.err.strip() == f"phiguard: error: {src}:6: malformed JSON (Expecting value)"
    assert list(outdir.iterdir()) == []
    bad = tmp_path / "bad.csv"
    bad.write_text("id,text\n1,ok\n2,too,many\n")
    r = run("mask", "--csv", str(bad))
    assert r.code == 3 and r.out == b"" and "bad.csv:3: 3 columns, the header has 2" in r.err
    r = run("mask", "--csv", "--field", "note", str(bad))
    assert r.code == 3 and "no column 'note'" in r.err

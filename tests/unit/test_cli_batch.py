"""The streaming CLI driver as users run it: directories, CSV, JSONL with workers, summary
and progress on stderr, per-record failures (exit 9), no partial output. Real local
detector, real SQLite vault."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from phiguard.errors import DetectionError

NOTES = [
    "Pt Carlos Salazar seen 11/12/2011 by Dr. Sarkar.",
    "Daughter Maria called from 617-555-0134, re: Mr. Jackson.",
    'He said "fine, thanks",\nthen left with his wife Ana Ruiz on 3/4/2011.',
    "No PHI in this one: vitals stable, 500 mg given.",
]


def _jsonl(path: Path, n: int) -> list[dict[str, Any]]:
    records = [{"id": f"r{i}", "text": NOTES[i % len(NOTES)], "n": i} for i in range(n)]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return records


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
    records = _jsonl(src, 48)
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


def test_summary_on_stderr_unless_quiet(run: Any, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    _jsonl(src, 4)
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
    _jsonl(src, 8)  # r1 and r5 hold "Maria"
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
    records = _jsonl(src, 4)
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
    _jsonl(src, 5)
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
    run: Any,
    tmp_path: Path,
    capfdbinary: pytest.CaptureFixture[bytes],
    flags: list[str],
    files: list[str],
) -> None:
    """driver.detect_command (for `detect --workers/--csv/dirs`) prints what `detect` prints."""
    from phiguard_cli.driver import detect_command
    from phiguard_cli.options import deidentifier

    _jsonl(tmp_path / "in.jsonl", 6)
    (tmp_path / "a.txt").write_text(NOTES[0])
    (tmp_path / "b.txt").write_text(NOTES[1])
    paths = [str(tmp_path / f) for f in files]
    expected = run("detect", *flags, *paths)
    assert expected.code == 0, expected.err
    opts: dict[str, Any] = {
        "files": tuple(paths),
        "fmt": "text",
        "jsonl_mode": "--jsonl" in flags,
        "field": "text",
        "id_field": "id",
        "workers": 2,
        "out": None,
        "show_text": False,
    }
    if "--format" in flags:
        opts["fmt"] = flags[flags.index("--format") + 1]
    capfdbinary.readouterr()
    detect_command(opts, deidentifier(opts))
    out, _ = capfdbinary.readouterr()
    assert out == expected.out

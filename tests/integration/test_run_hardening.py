"""The run as a new user meets it (issue 10): wrong field names, pass-through bytes, file names,
full disks, closed pipes, SIGTERM, and the small stumbles. Each test failed before its fix."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

NOTES = [
    "Pt Carlos Salazar seen 11/12/2011 by Dr. Sarkar.",
    "Daughter Maria Lopez called from 617-555-0134.",
    "Vitals stable, 500 mg given at 14:00.",
]


def _cli(*args: str, env: dict[str, str], **kw: Any) -> subprocess.CompletedProcess[bytes]:
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    return subprocess.run([sys.executable, "-m", "phiguard_cli", *args], check=False, env=env, **kw)


@pytest.fixture()
def env(phiguard_home: Path) -> dict[str, str]:
    return dict(os.environ, PHIGUARD_HOME=str(phiguard_home))


def _messages(db: Path) -> int:
    with sqlite3.connect(db) as c:
        return int(c.execute("SELECT COUNT(DISTINCT message_hash) FROM vault").fetchone()[0])


# -- 1. a wrong --field never releases notes in clear ----------------------------------------------


def test_a_field_no_record_has_fails_before_any_output(
    run: Any, tmp_path: Path, phiguard_home: Path
) -> None:
    src = tmp_path / "f.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(NOTES)))
    for cmd in ("mask", "deid"):
        r = run(cmd, "--jsonl", str(src), "--field", "Text")
        assert r.code == 3 and r.out == b"", (cmd, r.err)
        assert "no record has the field 'Text'" in r.err and "Salazar" not in r.err


def test_records_without_the_field_fail_unless_allowed(
    run: Any, tmp_path: Path, phiguard_home: Path
) -> None:
    src = tmp_path / "f.jsonl"
    rows = [{"id": 0, "text": NOTES[0]}, {"id": 1, "note": "Carlos Salazar again"}]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    r = run("mask", "--jsonl", str(src))
    assert r.code == 9, r.err
    assert "f.jsonl:2 failed (not written)" in r.err and "missing" in r.err
    assert r.text.count("\n") == 1 and "Salazar" not in r.text
    r = run("mask", "--jsonl", "--allow-missing-field", str(src))
    assert r.code == 0, r.err
    assert r.text.splitlines()[1] == json.dumps(rows[1]), "passed through byte for byte"


# -- 4. file names kept out of outputs on request --------------------------------------------------


def test_no_file_names(run: Any, tmp_path: Path, phiguard_home: Path) -> None:
    a, b = tmp_path / "SALAZAR_MRN4452781.txt", tmp_path / "LOPEZ_MRN7781.txt"
    a.write_text(NOTES[0])
    b.write_text(NOTES[1])
    r = run("mask", "--format", "jsonl", "--no-file-names", str(a), str(b))
    assert r.code == 0, r.err
    docs = [json.loads(line) for line in r.text.splitlines()]
    assert [d["input"] for d in docs] == [0, 1] and "MRN" not in r.text
    r = run("detect", "--no-file-names", str(a), str(b), "--format", "jsonl")
    assert r.code == 0 and "MRN" not in r.text and '"input": 0' in r.text
    bad = tmp_path / "SMITH_MRN1.jsonl"
    bad.write_text(json.dumps({"note": "x"}) + "\n" + json.dumps({"text": NOTES[2]}) + "\n")
    r = run("mask", "--jsonl", "--no-file-names", str(bad))
    assert r.code == 9 and "input 0:1 failed" in r.err and "MRN" not in r.err


# -- 5, 6. pass-through bytes untouched ------------------------------------------------------------


def test_jsonl_fields_other_than_the_note_are_byte_identical(
    run: Any, tmp_path: Path, phiguard_home: Path
) -> None:
    line = (
        '{"id":1,"text":"John Smith","lab":3.141592653589793238462643,'
        '"acct":12345678901234567890.5,"big":1e400, "dose": 2.50 ,"n":1e3}\n'
    )
    src = tmp_path / "f.jsonl"
    src.write_text(line)
    r = run("mask", "--jsonl", str(src))
    assert r.code == 0, r.err
    out = r.text
    assert out == line.replace('"John Smith"', '"#### #####"'), out
    deid = tmp_path / "d.jsonl"
    assert run("deid", "--jsonl", str(src), "--out", str(deid)).code == 0
    back = run("reid", "--jsonl", str(deid))
    assert back.code == 0 and back.out == line.encode()


def test_a_duplicate_note_key_is_an_input_error(run: Any, tmp_path: Path) -> None:
    src = tmp_path / "f.jsonl"
    src.write_text('{"id": 1, "text": "John Smith", "text": "harmless"}\n')
    r = run("mask", "--jsonl", str(src))
    assert r.code == 3 and "duplicate key 'text'" in r.err and r.out == b""


def test_csv_round_trip_is_byte_identical(run: Any, tmp_path: Path, phiguard_home: Path) -> None:
    data = (
        'id,"ward",text,score\r\n'
        '1,"4B","Pt Carlos Salazar seen 11/12/2011, stable.",0.50\r\n'
        '"2",ICU,"Daughter ""Maria"" called\r\nfrom 617-555-0134.",1e3\r\n'
        "3,,,\r\n"
    )
    src = tmp_path / "e.csv"
    src.write_bytes(data.encode())
    deid, back = tmp_path / "d.csv", tmp_path / "b.csv"
    r = run("deid", "--csv", str(src), "--out", str(deid))
    assert r.code == 0, r.err
    masked = deid.read_bytes().decode()
    assert "Salazar" not in masked and masked.startswith('id,"ward",text,score\r\n')
    assert ",0.50\r\n" in masked and ",1e3\r\n" in masked
    r = run("reid", "--csv", str(deid), "--out", str(back))
    assert r.code == 0, r.err
    assert back.read_bytes() == data.encode()


# -- 16. same file name from two directories -------------------------------------------------------


def test_same_names_from_two_directories_keep_their_paths(
    run: Any, tmp_path: Path, phiguard_home: Path
) -> None:
    for d, note in (("a", NOTES[0]), ("b", NOTES[1])):
        (tmp_path / d).mkdir()
        (tmp_path / d / "note.txt").write_text(note)
    out = tmp_path / "out"
    r = run(
        "mask",
        str(tmp_path / "a" / "note.txt"),
        str(tmp_path / "b" / "note.txt"),
        "--out",
        str(out),
    )
    assert r.code == 0, r.err
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.txt")) == [
        "a/note.txt",
        "b/note.txt",
    ]
    assert "Salazar" not in (out / "a" / "note.txt").read_text()


# -- 8. outputs that cannot be written -------------------------------------------------------------


def test_stdout_full_is_one_line_and_nothing_counts_as_released(
    env: dict[str, str], tmp_path: Path, phiguard_home: Path
) -> None:
    src = tmp_path / "f.jsonl"
    src.write_text("".join(json.dumps({"text": t}) + "\n" for t in NOTES))
    with open("/dev/full", "wb") as full:
        r = _cli("deid", "--jsonl", str(src), env=env, stdout=full, stderr=subprocess.PIPE)
    err = r.stderr.decode()
    assert r.returncode == 10 and err.count("\n") == 1, err
    assert "cannot write standard output" in err and "Traceback" not in err
    assert _messages(phiguard_home / "vault.db") == 0, "rows of notes never written are removed"
    assert not list((phiguard_home / "journal").rglob("*.journal"))


def test_stdout_closed_early_is_one_line(
    env: dict[str, str], tmp_path: Path, phiguard_home: Path
) -> None:
    src = tmp_path / "f.jsonl"
    src.write_text("".join(json.dumps({"text": NOTES[i % 3] * 40}) + "\n" for i in range(600)))
    proc = subprocess.Popen(
        [sys.executable, "-m", "phiguard_cli", "deid", "--jsonl", str(src)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    head = proc.stdout.read(100)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    code = proc.wait(60)
    assert len(head) == 100
    assert code == 10 and err.count("\n") == 1 and "broken pipe" in err, err
    assert "Exception ignored" not in err
    assert _messages(phiguard_home / "vault.db") < 600
    assert not list((phiguard_home / "journal").rglob("*.journal"))


# -- 9. SIGTERM unwinds like Ctrl-C ----------------------------------------------------------------


def test_sigterm_aborts_cleanly_and_stale_temp_files_are_removed(
    env: dict[str, str], tmp_path: Path, phiguard_home: Path
) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    for i in range(400):
        (notes / f"n{i:03}.txt").write_text(NOTES[i % 3] * 30)
    out = tmp_path / "out"
    out.mkdir()
    stale = out / ".n000.txt.999999999-deadbeef.phiguard-tmp"  # a killed run's (no such pid)
    stale.write_text("masked text of a killed run")
    proc = subprocess.Popen(
        [sys.executable, "-m", "phiguard_cli", "deid", str(notes), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    deadline = time.monotonic() + 60
    while not list(out.glob("*.phiguard-tmp")) or stale.exists():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and err.decode().count("\n") == 1, err
    assert b"terminated" in err
    assert list(out.iterdir()) == [], "no output, no temp file"
    assert _messages(phiguard_home / "vault.db") == 0


# -- 10-15. small stumbles -------------------------------------------------------------------------


def test_quiet_and_debug_after_the_command(run: Any, tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_text(NOTES[0])
    r = run("mask", str(src), "-q")
    assert r.code == 0 and r.err == ""
    r = run("mask", str(src), "--debug")
    assert (r.code == 0 and "DEBUG" in r.err) or "INFO" in r.err


def test_reid_does_not_offer_workers(run: Any) -> None:
    r = run("reid", "--help")
    assert r.code == 0 and "--workers" not in r.text


def test_journal_directories_are_private_whatever_the_umask(
    env: dict[str, str], tmp_path: Path, phiguard_home: Path
) -> None:
    src = tmp_path / "a.txt"
    src.write_text(NOTES[0])
    r = _cli("deid", str(src), env=env, preexec_fn=lambda: os.umask(0))
    assert r.returncode == 0, r.stderr
    journal = phiguard_home / "journal"
    for d in (journal, *journal.iterdir()):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d


def test_empty_phiguard_home_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_text(NOTES[0])
    r = _cli("deid", str(src), env=dict(env, PHIGUARD_HOME=""))
    err = r.stderr.decode()
    assert r.returncode == 2 and "PHIGUARD_HOME is set but empty" in err and r.stdout == b""

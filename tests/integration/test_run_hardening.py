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
    masked = json.loads(out)["text"]
    assert "John" not in masked and "Smith" not in masked and len(masked) == len("John Smith")
    assert out == line.replace('"John Smith"', json.dumps(masked)), "every other byte kept"
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


# -- 2, 3. every path that decrypts audits first, and the trail says what was released --------


def _audit(db: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(db) as c:
        return [(a, int(n)) for a, n in c.execute("SELECT action, n_values FROM audit ORDER BY id")]


def test_public_reidentify_is_audited_or_refused(tmp_path: Path) -> None:
    from phiguard import Deidentifier, Sealer, reidentify
    from phiguard.detectors import BaseDetector
    from phiguard.errors import VaultError
    from phiguard.keys.files import generate_key
    from phiguard.spans import Span
    from phiguard.vaults import open_vault
    from phiguard.vaults.base import Capability
    from phiguard.vaults.memory import MemoryVault

    class Names(BaseDetector):
        def detect(self, text: str) -> list[Span]:
            return [Span(3, 17, "NAME")]

    key = generate_key()
    vault = open_vault("sqlite", path=tmp_path / "v.db")
    out = Deidentifier(Names(), vault=vault, sealer=Sealer(key)).deidentify(NOTES[0])
    assert reidentify(out.text, vault, Sealer(key)) == NOTES[0]
    assert _audit(tmp_path / "v.db") == [("reid", 1)]
    vault.close()

    class Unaudited(MemoryVault):
        capabilities = MemoryVault.capabilities - {Capability.AUDIT}

        def get(self, message_hash: str) -> list[Any]:
            raise AssertionError("read before the audit was settled")

    with pytest.raises(VaultError, match="no audit log"):
        reidentify(out.text, Unaudited(), Sealer(key))


def test_reid_that_cannot_be_delivered_reveals_nothing_or_says_so(
    run: Any, env: dict[str, str], tmp_path: Path, phiguard_home: Path
) -> None:
    src = tmp_path / "a.txt"
    src.write_text(NOTES[0])
    deid = tmp_path / "a.deid"
    assert run("deid", str(src), "--out", str(deid)).code == 0
    db = phiguard_home / "vault.db"
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "elsewhere.txt")
    for target in (str(link), "/proc/nonexistent/x.txt"):
        r = run("reid", str(deid), "--out", target)
        assert r.code == 3, r.err
    assert _audit(db) == [], "refused before anything was decrypted: nothing audited"
    with open("/dev/full", "wb") as full:
        r = _cli("reid", str(deid), env=env, stdout=full)
    assert r.returncode == 10, r.stderr
    assert [a for a, _ in _audit(db)] == ["reid", "reid-undelivered"]


# -- 17. edited notes and JSON documents --------------------------------------------------------


def test_reid_accepts_deid_json_and_restores_an_edited_note_partially(
    run: Any, tmp_path: Path, phiguard_home: Path
) -> None:
    src = tmp_path / "a.txt"
    src.write_text(NOTES[0] + "\n" + NOTES[1] + "\n")
    r = run("deid", "--format", "json", str(src))
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    as_json = tmp_path / "a.deid.json"
    as_json.write_text(r.text)
    back = run("reid", str(as_json))
    assert back.code == 0 and back.out == src.read_bytes(), back.err
    edited = dict(doc, text="ADDENDUM by the reviewer.\n" + doc["text"].replace("called", "phoned"))
    as_json.write_text(json.dumps(edited))
    r = run("reid", str(as_json))
    assert r.code == 7 and "changed after de-identification" in r.err and "--partial" in r.err
    r = run("reid", "--partial", str(as_json))
    assert r.code == 0, r.err
    assert "Carlos Salazar" in r.text and "ADDENDUM" in r.text and "phoned" in r.text
    plain = tmp_path / "edited.txt"
    plain.write_text(edited["text"])
    r = run("reid", "--partial", "--message-hash", doc["message_hash"], str(plain))
    assert r.code == 0 and "Carlos Salazar" in r.text, r.err


# -- 8, 13, 14. clear lines instead of internal errors, and foreign files left alone ------------


def test_paths_under_a_regular_file_are_one_line(env: dict[str, str], tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_text(NOTES[0])
    (tmp_path / "plain").write_text("not a directory")
    for args, extra in (
        ([str(src)], {"PHIGUARD_HOME": str(tmp_path / "plain" / "home")}),
        ([str(src), "--vault", str(tmp_path / "plain" / "v.db")], {}),
    ):
        r = _cli("deid", *args, env=dict(env, **extra))
        err = r.stderr.decode()
        assert r.returncode == 5 and err.count("\n") == 1 and "internal error" not in err, err


def test_a_foreign_sqlite_file_is_refused_and_untouched(run: Any, tmp_path: Path) -> None:
    other = tmp_path / "other-app.db"
    with sqlite3.connect(other) as c:
        c.execute("CREATE TABLE users (id INTEGER, name TEXT)")
    before = other.read_bytes(), stat.S_IMODE(other.stat().st_mode)
    src = tmp_path / "a.txt"
    src.write_text(NOTES[0])
    r = run("deid", str(src), "--vault", str(other))
    assert r.code == 5 and "not a phiguard vault" in r.err and r.out == b""
    assert (other.read_bytes(), stat.S_IMODE(other.stat().st_mode)) == before
    assert not Path(f"{other}-wal").exists()


@pytest.mark.parametrize("bad", [b"short", "a text value"])
def test_tampered_ciphertext_of_the_wrong_size_or_type_is_exit_6(
    run: Any, tmp_path: Path, phiguard_home: Path, bad: Any
) -> None:
    src = tmp_path / "a.txt"
    src.write_text(NOTES[0])
    deid = tmp_path / "a.deid"
    assert run("deid", str(src), "--out", str(deid)).code == 0
    with sqlite3.connect(phiguard_home / "vault.db") as c:
        c.execute("UPDATE vault SET ciphertext = ?", (bad,))
    r = run("reid", str(deid))
    assert r.code == 6 and "tampered" in r.err and r.out == b"", r.err


def test_rotate_key_that_cannot_start_creates_no_key(
    run: Any, tmp_path: Path, phiguard_home: Path
) -> None:
    src = tmp_path / "a.txt"
    src.write_text(NOTES[0])
    assert run("deid", str(src), "--out", str(tmp_path / "a.deid")).code == 0
    wrong = tmp_path / "wrong.key"
    assert run("vault", "keygen", "--key-file", str(wrong)).code == 0
    new = tmp_path / "new.key"
    r = run("vault", "rotate-key", "--key-file", str(wrong), "--new-key-file", str(new))
    assert r.code == 6 and not new.exists(), r.err
    r = run("vault", "rotate-key", "--new-key-file", str(new))
    assert r.code == 0 and new.exists(), r.err

"""The write-ahead journal: a failed or killed run leaves no orphan vault rows behind a re-run,
and never removes the mapping of a note it released.

The vault is a real SQLite file; a run that dies is a real child process killed with SIGKILL.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from phiguard import Deidentifier, Sealer, VaultError
from phiguard.errors import ConfigError
from phiguard.keys.files import generate_key
from phiguard.spans import Span
from phiguard.vaults.base import VaultRecord
from phiguard.vaults.journal import Journal, sweep
from phiguard.vaults.memory import MemoryVault
from phiguard.vaults.sqlite import SQLiteVault

_NAME = re.compile(r"[A-Z][a-z]+")


class NameDetector:
    name = "names"

    def detect(self, text: str) -> list[Span]:
        return [Span(m.start(), m.end(), "NAME", 1.0, "t") for m in _NAME.finditer(text)]


class FlakyVault(SQLiteVault):
    """A SQLite vault whose puts fail after `ok_puts`, and whose deletes fail while `down`."""

    def __init__(self, path: Path, ok_puts: int) -> None:
        super().__init__(path)
        self.ok_puts, self.down = ok_puts, False

    def put(self, records: Sequence[VaultRecord]) -> None:
        if self.ok_puts <= 0:
            super().put(records[: len(records) // 2])  # a partial write, then the failure
            self.down = True
            raise VaultError("vault unreachable")
        self.ok_puts -= 1
        super().put(records)

    def delete(self, keys: Sequence[tuple[str, str]]) -> None:
        if self.down:
            raise VaultError("vault unreachable")
        super().delete(keys)


def _hashes(vault: SQLiteVault) -> set[str]:
    return {m for (m,) in vault._conn.execute("SELECT DISTINCT message_hash FROM vault")}


def _notes(n: int) -> list[str]:
    return [f"note {i}: Alice met Bob and Carol." for i in range(n)]


def _journals(home: Path) -> list[Path]:
    return sorted((home / "journal").rglob("*.journal"))


def test_streaming_run_keeps_released_notes_and_removes_the_rest(tmp_path: Path) -> None:
    vault = FlakyVault(tmp_path / "v.db", ok_puts=2)
    d = Deidentifier(NameDetector(), vault=vault, sealer=Sealer(generate_key()))
    released = []
    journal = Journal(vault, home=tmp_path)
    with pytest.raises(VaultError), journal:
        for r in d.deidentify_many(_notes(40), vault_batch=8, max_delay=60, journal=journal):
            released.append(r.unwrap())
    assert len(released) == 16
    # the partial third group could not be removed while the vault was down: journal kept
    assert _hashes(vault) > {r.message_hash for r in released}
    assert len(_journals(tmp_path)) == 1
    vault.down = False
    swept = sweep(vault, home=tmp_path)
    assert (swept.runs, swept.notes) == (1, 8)  # group 3: half its rows had been written
    assert _hashes(vault) == {r.message_hash for r in released}
    assert [d.reidentify(r.text) for r in released] == _notes(16)
    assert _journals(tmp_path) == []


def test_a_run_that_is_never_committed_removes_all_its_rows(tmp_path: Path) -> None:
    vault = SQLiteVault(tmp_path / "v.db")
    d = Deidentifier(NameDetector(), vault=vault, sealer=Sealer(generate_key()))
    with Journal(vault, streaming=False, home=tmp_path) as journal:
        out = [r.unwrap() for r in d.deidentify_many(_notes(20), vault_batch=8, journal=journal)]
        assert len(_hashes(vault)) == 20  # stored, but the output never went live
    assert _hashes(vault) == set() and len(out) == 20
    assert _journals(tmp_path) == []


def test_a_committed_run_keeps_every_row(tmp_path: Path) -> None:
    vault = SQLiteVault(tmp_path / "v.db")
    d = Deidentifier(NameDetector(), vault=vault, sealer=Sealer(generate_key()))
    with Journal(vault, streaming=False, home=tmp_path) as journal:
        out = [r.unwrap() for r in d.deidentify_many(_notes(20), vault_batch=8, journal=journal)]
        journal.commit()
    assert _hashes(vault) == {r.message_hash for r in out}
    assert _journals(tmp_path) == []


def test_sweep_skips_the_journal_of_a_live_run(tmp_path: Path) -> None:
    vault = SQLiteVault(tmp_path / "v.db")
    d = Deidentifier(NameDetector(), vault=vault, sealer=Sealer(generate_key()))
    journal = Journal(vault, streaming=False, home=tmp_path)
    list(d.deidentify_many(_notes(5), journal=journal))
    assert sweep(vault, home=tmp_path).runs == 0  # it holds its lock: alive
    assert len(_hashes(vault)) == 5
    journal.close()
    assert _hashes(vault) == set()


@pytest.mark.parametrize("committed", [False, True])
def test_journal_of_a_killed_run_is_swept_by_the_next_one(
    tmp_path: Path, committed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGKILL after the rows were written: before anything was released, every row goes; after
    the commit mark (the outputs may already be live), every row stays."""
    db = tmp_path / "v.db"
    child = textwrap.dedent(
        f"""
        import os, re, sys, time
        from pathlib import Path
        from phiguard import Deidentifier, Sealer
        from phiguard.vaults.journal import Journal
        from phiguard.spans import Span
        from phiguard.vaults.sqlite import SQLiteVault

        class D:
            name = "names"
            def detect(self, text):
                return [Span(m.start(), m.end(), "NAME", 1.0, "t")
                        for m in re.finditer(r"[A-Z][a-z]+", text)]

        vault = SQLiteVault({str(db)!r})
        d = Deidentifier(D(), vault=vault, sealer=Sealer(b"k" * 32))
        j = Journal(vault, streaming=False, home=Path({str(tmp_path)!r}))
        notes = [f"{{i}}: Alice met Bob" for i in range(30)]
        for _ in d.deidentify_many(notes, vault_batch=4, journal=j):
            pass
        if {committed!r}:
            j.commit()
        print("written", flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"written"
    vault = SQLiteVault(db)
    assert len(_hashes(vault)) == 30
    assert sweep(vault, home=tmp_path).runs == 0  # still alive
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    monkeypatch.setattr("phiguard.vaults.journal.DELETE_CHUNK", 7)  # settle in several deletes
    swept = sweep(vault, home=tmp_path)
    assert (swept.runs, swept.notes) == (1, 0 if committed else 30)
    assert len(_hashes(vault)) == (30 if committed else 0)
    assert _journals(tmp_path) == []


def test_journal_holds_keys_only_owner_readable(tmp_path: Path) -> None:
    vault = SQLiteVault(tmp_path / "v.db")
    d = Deidentifier(NameDetector(), vault=vault, sealer=Sealer(generate_key()))
    journal = Journal(vault, home=tmp_path)
    list(d.deidentify_many(["Alice met Bob.", "Carol called."], journal=journal))
    text = journal.path.read_text()
    body = r"((P( [0-9a-f]{64})+|R( [0-9a-f]{64})+)\n)+"
    assert re.fullmatch(r"H phiguard-journal-1 streaming\n" + body, text), text
    assert "Alice" not in text and "Carol" not in text
    assert journal.path.stat().st_mode & 0o777 == 0o600
    assert journal.path.parent.stat().st_mode & 0o777 == 0o700
    journal.close()


def test_vaults_that_cannot_delete_have_no_journal() -> None:
    assert Journal.start(MemoryVault()) is None
    assert sweep(MemoryVault()).runs == 0


def test_unusable_home_is_one_clear_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.write_text("")  # a file where PHIGUARD_HOME should be (modes would not stop root)
    vault = SQLiteVault(tmp_path / "v.db")
    with pytest.raises(ConfigError, match=r"cannot create the run journal under .*PHIGUARD_HOME"):
        Journal.start(vault, home=home)


@pytest.mark.parametrize("to_file", [False, True], ids=["stdout", "out-file"])
def test_successful_cli_runs_leave_no_journal(
    run: Any, phiguard_home: Path, tmp_path: Path, to_file: bool
) -> None:
    src = tmp_path / "in.jsonl"
    rows = [json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(_notes(5))]
    src.write_text("".join(rows))
    out = ["--out", str(tmp_path / "out.jsonl")] if to_file else []
    r = run("deid", "--jsonl", str(src), *out)
    assert r.code == 0, r.err
    assert (phiguard_home / "journal").is_dir() and _journals(phiguard_home) == []
    assert "unreleased" not in r.err

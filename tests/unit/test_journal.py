"""The write-ahead journal: a failed or killed run leaves no orphan vault rows behind a re-run,
and never removes the mapping of a note it released.

The vault is a real SQLite file; a run that dies is a real child process killed with SIGKILL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from phiguard import Deidentifier, Sealer, VaultError
from phiguard.detectors import BaseDetector
from phiguard.errors import ConfigError
from phiguard.keys.files import generate_key
from phiguard.spans import Span
from phiguard.vaults.base import VaultRecord
from phiguard.vaults.journal import Journal, sweep
from phiguard.vaults.memory import MemoryVault
from phiguard.vaults.sqlite import SQLiteVault
from support.vaults import journal_files, message_hashes

_NAME = re.compile(r"[A-Z][a-z]+")


class NameDetector(BaseDetector):
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


def _notes(n: int) -> list[str]:
    return [f"note {i}: Alice met Bob and Carol." for i in range(n)]


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
    assert message_hashes(vault) > {r.message_hash for r in released}
    assert len(journal_files(tmp_path)) == 1
    vault.down = False
    swept = sweep(vault, home=tmp_path)
    assert (swept.runs, swept.notes) == (1, 8)  # group 3: half its rows had been written
    assert message_hashes(vault) == {r.message_hash for r in released}
    assert [d.reidentify(r.text) for r in released] == _notes(16)
    assert journal_files(tmp_path) == []


def test_a_run_that_is_never_committed_removes_all_its_rows(tmp_path: Path) -> None:
    vault = SQLiteVault(tmp_path / "v.db")
    d = Deidentifier(NameDetector(), vault=vault, sealer=Sealer(generate_key()))
    with Journal(vault, streaming=False, home=tmp_path) as journal:
        out = [r.unwrap() for r in d.deidentify_many(_notes(20), vault_batch=8, journal=journal)]
        assert len(message_hashes(vault)) == 20  # stored, but the output never went live
    assert message_hashes(vault) == set() and len(out) == 20
    assert journal_files(tmp_path) == []


def test_a_committed_run_keeps_every_row(tmp_path: Path) -> None:
    vault = SQLiteVault(tmp_path / "v.db")
    d = Deidentifier(NameDetector(), vault=vault, sealer=Sealer(generate_key()))
    with Journal(vault, streaming=False, home=tmp_path) as journal:
        out = [r.unwrap() for r in d.deidentify_many(_notes(20), vault_batch=8, journal=journal)]
        journal.commit()
    assert message_hashes(vault) == {r.message_hash for r in out}
    assert journal_files(tmp_path) == []


def test_sweep_skips_the_journal_of_a_live_run(tmp_path: Path) -> None:
    vault = SQLiteVault(tmp_path / "v.db")
    d = Deidentifier(NameDetector(), vault=vault, sealer=Sealer(generate_key()))
    journal = Journal(vault, streaming=False, home=tmp_path)
    list(d.deidentify_many(_notes(5), journal=journal))
    assert sweep(vault, home=tmp_path).runs == 0  # it holds its lock: alive
    assert len(message_hashes(vault)) == 5
    journal.close()
    assert message_hashes(vault) == set()


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
    assert (phiguard_home / "journal").is_dir() and journal_files(phiguard_home) == []
    assert "unreleased" not in r.err

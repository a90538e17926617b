"""The embedded SQLite vault: durable, atomic per message, and clear when misused."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from phiguard import VaultError, open_vault
from phiguard.vaults.sqlite import SQLiteVault
from support.vaults import fake_record


def test_put_get_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "v.db"
    v = open_vault("sqlite", path=path)
    v.put([fake_record("a" * 64, i) for i in range(30)] + [fake_record("b" * 64, 99)])
    v.close()
    v2 = open_vault("sqlite", path=path, create=False)
    assert sorted(r.token for r in v2.get("a" * 64)) == [f"{i:064x}" for i in range(30)]
    assert [r.offset for r in v2.get("b" * 64)] == [99 * 70]
    assert v2.get("c" * 64) == []
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_reader_does_not_create_a_vault(tmp_path: Path) -> None:
    with pytest.raises(VaultError, match="not found"):
        open_vault("sqlite", path=tmp_path / "nope.db", create=False)
    assert not (tmp_path / "nope.db").exists()


def test_directory_and_foreign_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(VaultError, match="directory"):
        SQLiteVault(tmp_path)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(VaultError, match="not a phiguard vault"):
        SQLiteVault(other, create=False)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(VaultError, match="cannot open vault"):
        SQLiteVault(junk)


def _open_and_write(path: Path, n: int, barrier: Any, errors: Any) -> None:
    barrier.wait()  # every process opens the new vault at the same moment
    try:
        vault = SQLiteVault(path)
        vault.put([fake_record(f"{n:064x}", n)])
        vault.close()
    except VaultError as exc:
        errors.put(str(exc))


def test_processes_opening_a_new_vault_at_once_all_succeed(tmp_path: Path) -> None:
    """Spark executors and workers open the same new vault together: none may fail with
    "database is locked" (the switch to WAL mode) or see a half-created vault as foreign."""
    ctx = multiprocessing.get_context("fork")
    for round_ in range(8):
        path = tmp_path / f"v{round_}.db"
        barrier, errors = ctx.Barrier(6), ctx.Queue()
        procs = [
            ctx.Process(target=_open_and_write, args=(path, n, barrier, errors)) for n in range(6)
        ]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        assert errors.empty(), errors.get()
        assert all(p.exitcode == 0 for p in procs)
        vault = SQLiteVault(path, create=False)
        assert all(len(vault.get(f"{n:064x}")) == 1 for n in range(6))
        vault.close()

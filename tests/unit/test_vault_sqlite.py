"""The embedded SQLite vault: durable, atomic per message, and clear when misused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

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

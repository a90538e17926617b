"""The SQLite vault under a writer killed before COMMIT (a real child process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from phiguard import open_vault
from support.vaults import fake_record


def test_killed_writer_leaves_all_or_nothing(tmp_path: Path) -> None:
    """A process killed before COMMIT leaves no row of that message behind."""
    path = tmp_path / "v.db"
    open_vault("sqlite", path=path).close()
    code = f"""
import os, sqlite3
from phiguard.vaults.sqlite import SQLiteVault
v = SQLiteVault({str(path)!r})
v._conn.execute("BEGIN IMMEDIATE")
v._conn.execute("INSERT INTO vault VALUES ('{"d" * 64}', 't', 'NAME', x'00', 'k', 0, 'now')")
os._exit(9)
"""
    proc = subprocess.run([sys.executable, "-c", code], check=False)
    assert proc.returncode == 9
    v = open_vault("sqlite", path=path, create=False)
    assert v.get("d" * 64) == []
    v.put([fake_record("d" * 64, 1)])
    assert len(v.get("d" * 64)) == 1

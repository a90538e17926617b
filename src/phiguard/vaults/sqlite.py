"""The embedded default vault: one SQLite file, written in WAL mode with full fsync.

`put` commits one transaction per call, so a killed process leaves either all rows of a
message or none of them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from phiguard.errors import VaultError
from phiguard.vaults.base import VaultRecord

SCHEMA = """
CREATE TABLE IF NOT EXISTS vault (
    message_hash TEXT NOT NULL,
    token        TEXT NOT NULL,
    type         TEXT NOT NULL,
    ciphertext   BLOB NOT NULL,
    key_id       TEXT NOT NULL,
    offset       INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (message_hash, token)
) WITHOUT ROWID;
"""

COLUMNS = "message_hash, token, type, ciphertext, key_id, offset, created_at"


class SQLiteVault:
    name = "sqlite"

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise VaultError(f"vault path {self.path} is a directory")
        if not create and not self.path.exists():
            raise VaultError(f"vault {self.path} not found (set --vault PATH)")
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            if create:
                self._conn.executescript(SCHEMA)
            elif not self._has_table():
                raise VaultError(f"{self.path} is not a phiguard vault")
        except sqlite3.DatabaseError as exc:
            raise VaultError(f"cannot open vault {self.path}: {exc}") from None
        if create:
            self.path.chmod(0o600)

    def _has_table(self) -> bool:
        row = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='vault'"
        ).fetchone()
        return row is not None

    def put(self, records: Sequence[VaultRecord]) -> None:
        if not records:
            return
        rows = [
            (r.message_hash, r.token, r.type, r.ciphertext, r.key_id, r.offset, r.created_at)
            for r in records
        ]
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    f"INSERT OR REPLACE INTO vault ({COLUMNS}) VALUES (?,?,?,?,?,?,?)", rows
                )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise VaultError(f"cannot write to vault {self.path}: {exc}") from None

    def get(self, message_hash: str) -> list[VaultRecord]:
        try:
            rows = self._conn.execute(
                f"SELECT {COLUMNS} FROM vault WHERE message_hash = ?", (message_hash,)
            ).fetchall()
        except sqlite3.Error as exc:
            raise VaultError(f"cannot read vault {self.path}: {exc}") from None
        return [VaultRecord(*row) for row in rows]

    def close(self) -> None:
        self._conn.close()

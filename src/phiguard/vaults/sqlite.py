"""The embedded default vault: one SQLite file, written in WAL mode with full fsync.

`put` commits one transaction per call, so a killed process leaves either all rows of a
message or none of them. The same file holds the KMS-wrapped data keys (`keys`) and the
append-only re-identification audit trail (`audit`), so they travel and are backed up together.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

from phiguard.errors import Hint, VaultError
from phiguard.vaults.base import (
    AuditLog,
    AuditRecord,
    BaseVault,
    Capability,
    KeyStore,
    VaultRecord,
    WrappedKey,
    os_actor,
)

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

# Created on every open (readers too: they append audit records). Idempotent.
EXTRA_SCHEMA = """
CREATE TABLE IF NOT EXISTS keys (
    key_id     TEXT PRIMARY KEY,
    kms_key_id TEXT NOT NULL,
    wrapped    BLOB NOT NULL,
    purpose    TEXT NOT NULL,
    created_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    at             TEXT NOT NULL,
    actor          TEXT NOT NULL,
    action         TEXT NOT NULL,
    message_hashes TEXT NOT NULL,
    n_values       INTEGER NOT NULL,
    session        TEXT NOT NULL,
    host           TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""

COLUMNS = "message_hash, token, type, ciphertext, key_id, offset, created_at"
_OWN_TABLES = frozenset({"vault", "keys", "audit", "sqlite_sequence"})
_BUSY_S = 30.0  # how long an open or a write waits for another process holding the vault


def _statements(script: str) -> list[str]:
    """The statements of a schema script, for `execute` one by one inside a transaction
    (`executescript` would commit it); a trigger's body keeps its inner semicolons."""
    out: list[str] = []
    pending = ""
    for part in script.split(";"):
        pending += part + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                out.append(pending.strip())
            pending = ""
    return out


class SQLiteVault(BaseVault):
    """Every capability: rows deletable and listable by key, keys and audit in the same file."""

    name = "sqlite"
    capabilities = frozenset(Capability)

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise VaultError(f"vault path {self.path} is a directory")
        if not create and not self.path.exists():
            raise VaultError(f"vault {self.path} not found", hint=Hint.VAULT_PATH)
        if create:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            except OSError as exc:
                raise VaultError(
                    f"cannot create the vault's directory {self.path.parent} ({exc.strerror})",
                    hint=Hint.VAULT_PATH,
                ) from None
        self._refuse_foreign_file()
        try:
            old_umask = os.umask(0o077)  # vault, -wal and -shm files: owner only from birth
            try:
                self._conn = sqlite3.connect(self.path, isolation_level=None, timeout=_BUSY_S)
                self._use_wal()
            finally:
                os.umask(old_umask)
            self._conn.execute("PRAGMA synchronous=FULL")
            self._create_tables(create)
        except sqlite3.DatabaseError as exc:
            raise VaultError(f"cannot open vault {self.path}: {exc}") from None
        if create:
            self.path.chmod(0o600)

    def _use_wal(self) -> None:
        """WAL mode (readers never block the writer). Switching to it takes an exclusive lock
        that SQLite does not wait for under the busy timeout, so processes opening a new vault
        at once retry here; a vault already in WAL mode needs no switch."""
        deadline = time.monotonic() + _BUSY_S
        while True:
            try:
                mode = self._conn.execute("PRAGMA journal_mode").fetchone()[0]
                if str(mode).lower() != "wal":
                    self._conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def _create_tables(self, create: bool) -> None:
        """The tables, in one write transaction taken up front: processes opening a new vault
        at once (Spark executors, workers) wait for each other on the busy timeout instead of
        failing with "database is locked" when a read would have to upgrade to a write."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            if not create and not self._has_table():
                raise VaultError(f"{self.path} is not a phiguard vault")
            for statement in _statements(SCHEMA if create else "") + _statements(EXTRA_SCHEMA):
                conn.execute(statement)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _refuse_foreign_file(self) -> None:
        """An existing non-empty file must be an SQLite file holding phiguard's tables only:
        another application's database is never switched to WAL, given tables, or chmodded."""
        try:
            if not self.path.is_file() or self.path.stat().st_size == 0:
                return
        except OSError as exc:
            raise VaultError(f"cannot open vault {self.path} ({exc.strerror})") from None
        try:
            with contextlib.closing(
                sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
            ) as c:
                tables = {
                    r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")
                }
        except sqlite3.DatabaseError as exc:
            raise VaultError(f"cannot open vault {self.path}: {exc}") from None
        if tables and ("vault" not in tables or tables - _OWN_TABLES):  # none: a vault being born
            raise VaultError(
                f"{self.path} is not a phiguard vault (it holds other tables); not changing it",
                hint=Hint.VAULT_PATH,
            )

    def _has_table(self) -> bool:
        row = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='vault'"
        ).fetchone()
        return row is not None

    def put(self, records: Sequence[VaultRecord]) -> None:
        rows = [
            (r.message_hash, r.token, r.type, r.ciphertext, r.key_id, r.offset, r.created_at)
            for r in records
        ]
        self._transaction(
            f"INSERT OR REPLACE INTO vault ({COLUMNS}) VALUES (?,?,?,?,?,?,?)", rows, "write to"
        )

    def _transaction(self, sql: str, rows: Sequence[tuple[object, ...]], verb: str) -> None:
        """`sql` over every row in one transaction: all rows or none, even if killed."""
        if not rows:
            return
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(sql, rows)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise VaultError(f"cannot {verb} vault {self.path}: {exc}") from None

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

    # -- orphan removal (phiguard.vaults.journal) ----------------------------------------------

    @property
    def location(self) -> str:
        return f"sqlite:{self.path.resolve()}"

    def delete(self, keys: Sequence[tuple[str, str]]) -> None:
        """Remove rows by (message hash, token), in one transaction."""
        self._transaction(
            "DELETE FROM vault WHERE message_hash = ? AND token = ?", list(keys), "delete from"
        )

    def key_store(self) -> KeyStore:
        return self

    def audit_log(self) -> AuditLog:
        return self

    # -- KeyStore ------------------------------------------------------------------------------

    def put_wrapped_key(self, key: WrappedKey, *, if_absent: bool = False) -> bool:
        verb = "INSERT OR IGNORE" if if_absent else "INSERT OR REPLACE"
        try:
            cur = self._conn.execute(
                f"{verb} INTO keys (key_id, kms_key_id, wrapped, purpose, created_at) "
                "VALUES (?,?,?,?,?)",
                (key.key_id, key.kms_key_id, key.wrapped, key.purpose, key.created_at),
            )
        except sqlite3.Error as exc:
            raise VaultError(f"cannot store a wrapped key in {self.path}: {exc}") from None
        return cur.rowcount == 1

    def get_wrapped_key(self, key_id: str) -> WrappedKey | None:
        rows = self._select_keys("WHERE key_id = ?", (key_id,))
        return rows[0] if rows else None

    def wrapped_keys(self) -> list[WrappedKey]:
        return self._select_keys("", ())

    def may_hold_keys(self) -> bool:
        return bool(self.wrapped_keys())

    def _select_keys(self, where: str, args: tuple[str, ...]) -> list[WrappedKey]:
        try:
            rows = self._conn.execute(
                f"SELECT key_id, kms_key_id, wrapped, purpose, created_at FROM keys {where}", args
            ).fetchall()
        except sqlite3.Error as exc:
            raise VaultError(f"cannot read wrapped keys from {self.path}: {exc}") from None
        return [WrappedKey(*row) for row in rows]

    # -- AuditLog ------------------------------------------------------------------------------

    def actor(self) -> str:
        return os_actor()

    def append_audit(self, record: AuditRecord) -> None:
        try:
            self._conn.execute(
                "INSERT INTO audit (at, actor, action, message_hashes, n_values, session, host) "
                "VALUES (?,?,?,?,?,?,?)",
                (
                    record.at,
                    record.actor,
                    record.action,
                    json.dumps(list(record.message_hashes)),
                    record.values,
                    record.session,
                    record.host,
                ),
            )
        except sqlite3.Error as exc:
            raise VaultError(f"cannot write the audit log in {self.path}: {exc}") from None

    def audit_records(self) -> list[AuditRecord]:
        try:
            rows = self._conn.execute(
                "SELECT at, actor, action, message_hashes, n_values, session, host "
                "FROM audit ORDER BY id"
            ).fetchall()
        except sqlite3.Error as exc:
            raise VaultError(f"cannot read the audit log in {self.path}: {exc}") from None
        return [
            AuditRecord(at, actor, action, tuple(json.loads(mh)), n, session, host)
            for at, actor, action, mh, n, session, host in rows
        ]

    # -- local key rotation (phiguard.keys.rotation) -------------------------------------------

    def records_not_sealed_with(self, key_id: str, limit: int) -> list[VaultRecord]:
        """Up to `limit` rows sealed by any key but `key_id`: what a rotation has left to do."""
        try:
            rows = self._conn.execute(
                f"SELECT {COLUMNS} FROM vault WHERE key_id != ? LIMIT ?", (key_id, limit)
            ).fetchall()
        except sqlite3.Error as exc:
            raise VaultError(f"cannot read vault {self.path}: {exc}") from None
        return [VaultRecord(*row) for row in rows]

"""Vault rows and journal files as the tests look at them."""

from __future__ import annotations

from pathlib import Path

from phiguard.vaults.base import VaultRecord
from phiguard.vaults.sqlite import SQLiteVault


def fake_record(mh: str, i: int) -> VaultRecord:
    """Row `i` of message `mh`: a distinct token, a fake sealed value, offset i*70."""
    return VaultRecord(
        mh,
        f"{i:064x}",
        "NAME",
        b"\x00sealed" + bytes([i % 256]),
        "kid",
        i * 70,
        "2026-01-01T00:00:00Z",
    )


def message_hashes(vault: SQLiteVault) -> set[str]:
    """The messages a SQLite vault holds rows of (read straight from its table)."""
    return {m for (m,) in vault._conn.execute("SELECT DISTINCT message_hash FROM vault")}


def journal_files(home: Path) -> list[Path]:
    """The run journals left under a PHIGUARD_HOME."""
    return sorted((home / "journal").rglob("*.journal"))

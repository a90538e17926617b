"""An in-process vault for tests and library users who persist the mapping themselves."""

from __future__ import annotations

from collections.abc import Sequence

from phiguard.vaults.base import VaultRecord


class MemoryVault:
    name = "memory"

    def __init__(self) -> None:
        self._rows: dict[str, dict[str, VaultRecord]] = {}

    def put(self, records: Sequence[VaultRecord]) -> None:
        for r in records:
            self._rows.setdefault(r.message_hash, {})[r.token] = r

    def get(self, message_hash: str) -> list[VaultRecord]:
        return list(self._rows.get(message_hash, {}).values())

    def close(self) -> None:
        pass

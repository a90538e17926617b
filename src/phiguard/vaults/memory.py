"""An in-process vault for tests and library users who persist the mapping themselves.

It keeps its wrapped keys and audit records in memory too, so every capability but DELETE
(nothing outlives the process, so no run journal is needed) is there.
"""

from __future__ import annotations

from collections.abc import Sequence

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


class MemoryVault(BaseVault):
    name = "memory"
    capabilities = frozenset({Capability.ROTATE, Capability.AUDIT, Capability.KEY_STORE})

    def __init__(self) -> None:
        self._rows: dict[str, dict[str, VaultRecord]] = {}
        self._keys: dict[str, WrappedKey] = {}
        self._audit: list[AuditRecord] = []

    def put(self, records: Sequence[VaultRecord]) -> None:
        for r in records:
            self._rows.setdefault(r.message_hash, {})[r.token] = r

    def get(self, message_hash: str) -> list[VaultRecord]:
        return list(self._rows.get(message_hash, {}).values())

    def close(self) -> None:
        pass

    def key_store(self) -> KeyStore:
        return self

    def audit_log(self) -> AuditLog:
        return self

    # -- KeyStore ----------------------------------------------------------------------------

    def put_wrapped_key(self, key: WrappedKey, *, if_absent: bool = False) -> bool:
        if if_absent and key.key_id in self._keys:
            return False
        self._keys[key.key_id] = key
        return True

    def get_wrapped_key(self, key_id: str) -> WrappedKey | None:
        return self._keys.get(key_id)

    def wrapped_keys(self) -> list[WrappedKey]:
        return list(self._keys.values())

    def may_hold_keys(self) -> bool:
        return bool(self._keys)

    # -- AuditLog ----------------------------------------------------------------------------

    def append_audit(self, record: AuditRecord) -> None:
        self._audit.append(record)

    def audit_records(self) -> list[AuditRecord]:
        return list(self._audit)

    def actor(self) -> str:
        return os_actor()

    # -- rotation ----------------------------------------------------------------------------

    def records_not_sealed_with(self, key_id: str, limit: int) -> list[VaultRecord]:
        rows = (r for m in self._rows.values() for r in m.values() if r.key_id != key_id)
        return [r for _, r in zip(range(limit), rows, strict=False)]

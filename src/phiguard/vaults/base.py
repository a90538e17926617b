"""The vault interface. Vaults store opaque ciphertext: they never see a plaintext value."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class VaultRecord:
    """One token of one de-identified message.

    `message_hash` is the SHA3-256 hex of the de-identified text, `token` the 64-hex token that
    stands in it at str index `offset`, `ciphertext` the AES-256-GCM sealed original value
    (nonce || ciphertext+tag) bound to (message_hash, token), `key_id` names the key that sealed it.
    """

    message_hash: str
    token: str
    type: str
    ciphertext: bytes
    key_id: str
    offset: int
    created_at: str


@runtime_checkable
class Vault(Protocol):
    """A token store.

    `put` returns only once the records are durably stored (committed / acknowledged): callers
    release a de-identified note only after it returns. It raises `phiguard.errors.VaultError`.
    """

    name: str

    def put(self, records: Sequence[VaultRecord]) -> None: ...

    def get(self, message_hash: str) -> list[VaultRecord]: ...

    def close(self) -> None: ...


@runtime_checkable
class RotatableVault(Protocol):
    """Optional: vaults that can list rows by sealing key, for a resumable local-key rotation.

    Other optional capabilities, checked with isinstance: `phiguard.keys.kms.KeyStore` (wrapped data
    keys kept with the vault) and `phiguard.audit.AuditLog` (the re-identification audit trail).
    """

    def records_not_sealed_with(self, key_id: str, limit: int) -> list[VaultRecord]: ...


@runtime_checkable
class DeletableVault(Protocol):
    """Optional: vaults that can remove rows a failed run wrote for notes it never released
    (`phiguard.vaults.journal`), so re-running a batch leaves no orphan rows.

    `location` names the store stably across processes (a resolved file path, or region,
    endpoint and table): journals of interrupted runs are found by it. `delete` is idempotent:
    keys that are absent are ignored.
    """

    name: str

    @property
    def location(self) -> str: ...

    def delete(self, keys: Sequence[tuple[str, str]]) -> None: ...

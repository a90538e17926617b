"""The vault interface, and the data types the key, audit and run layers share with vaults.

Vaults store opaque ciphertext: they never see a plaintext value. Every vault declares what it
can do beyond put/get (`capabilities`); callers ask, never probe. `BaseVault` gives the optional
methods a clear VaultError for vaults that lack them.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any, Protocol, runtime_checkable

from phiguard.errors import VaultError


class Capability(Enum):
    """Optional things a vault can do, declared in `Vault.capabilities`."""

    #: `delete` rows a failed run wrote for notes it never released (phiguard.vaults.journal),
    #: found again across processes by `location`.
    DELETE = "delete"
    #: `records_not_sealed_with`: list rows by sealing key, for a resumable local-key rotation.
    ROTATE = "rotate"
    #: `audit_log()`: the append-only re-identification audit trail kept with the vault.
    AUDIT = "audit"
    #: `key_store()`: KMS-wrapped data keys kept with the vault.
    KEY_STORE = "key_store"


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


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """A data key as stored: wrapped by KMS, never in plaintext.

    `key_id` is the fingerprint of the plaintext key (what vault rows name), or the pseudonym
    slot (phiguard.keys.kms.PSEUDONYM_SLOT).
    """

    key_id: str
    kms_key_id: str
    wrapped: bytes
    purpose: str
    created_at: str


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One audited action. `values` counts the token occurrences restored, never their text."""

    at: str
    actor: str
    action: str
    message_hashes: tuple[str, ...]
    values: int
    session: str
    host: str

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["message_hashes"] = list(self.message_hashes)
        return d


@runtime_checkable
class KeyStore(Protocol):
    """Where wrapped data keys are kept, next to the vault."""

    def put_wrapped_key(self, key: WrappedKey, *, if_absent: bool = False) -> bool:
        """Store `key` durably; with `if_absent`, only if its slot is empty. True if stored."""
        ...

    def get_wrapped_key(self, key_id: str) -> WrappedKey | None: ...

    def wrapped_keys(self) -> list[WrappedKey]: ...

    def may_hold_keys(self) -> bool:
        """False only if the store knows, cheaply, that it holds no wrapped key (a reader then
        needs a local key). A store that cannot tell without a full read (a DynamoDB Scan the
        reader may not run) says True."""
        ...


@runtime_checkable
class AuditLog(Protocol):
    """Append-only store of audit records; `append_audit` returns once the record is durable."""

    def append_audit(self, record: AuditRecord) -> None: ...

    def audit_records(self) -> list[AuditRecord]: ...

    def actor(self) -> str:
        """Who is acting, as this log's store knows callers: the OS account for a local file,
        the AWS principal for DynamoDB. Raises if that identity cannot be established."""
        ...


@runtime_checkable
class Vault(Protocol):
    """A token store.

    `put` returns only once the records are durably stored (committed / acknowledged): callers
    release a de-identified note only after it returns. It raises `phiguard.errors.VaultError`.
    The optional methods work only if their `Capability` is in `capabilities`, else raise
    VaultError. `location` names the store stably across processes (a resolved file path, or
    region, endpoint and table): journals of interrupted runs are found by it.
    """

    name: str
    capabilities: frozenset[Capability]

    @property
    def location(self) -> str: ...

    def put(self, records: Sequence[VaultRecord]) -> None: ...

    def get(self, message_hash: str) -> list[VaultRecord]: ...

    def close(self) -> None: ...

    def delete(self, keys: Sequence[tuple[str, str]]) -> None:
        """Remove rows by (message hash, token); idempotent (absent keys are ignored)."""
        ...

    def records_not_sealed_with(self, key_id: str, limit: int) -> list[VaultRecord]:
        """Up to `limit` rows sealed by any key but `key_id`: what a rotation has left to do."""
        ...

    def audit_log(self) -> AuditLog: ...

    def key_store(self) -> KeyStore: ...


class BaseVault:
    """Defaults for the optional part of `Vault`: each refuses with one clear line.

    Subclasses set `name`, `capabilities` and override what they declare.
    """

    name = "vault"
    capabilities: frozenset[Capability] = frozenset()

    @property
    def location(self) -> str:
        return f"{self.name}:{id(self):x}"  # this process only; DELETE vaults override it

    def _unsupported(self, what: str) -> VaultError:
        return VaultError(f"the {self.name} vault {what}")

    def delete(self, keys: Sequence[tuple[str, str]]) -> None:
        raise self._unsupported("cannot delete rows")

    def records_not_sealed_with(self, key_id: str, limit: int) -> list[VaultRecord]:
        raise self._unsupported(
            "cannot list rows by key, so its values cannot be re-encrypted to a new local key; "
            "seal with KMS instead and re-wrap the data keys"
        )

    def audit_log(self) -> AuditLog:
        raise self._unsupported("keeps no audit log")

    def key_store(self) -> KeyStore:
        raise self._unsupported("cannot keep KMS-wrapped keys")


def os_actor() -> str:
    """The OS account running this process (the identity that matters for a local file)."""
    if hasattr(os, "geteuid"):  # not getpass.getuser(): $USER/$LOGNAME are the caller's to set
        import pwd

        uid = os.geteuid()
        try:
            return f"os:{pwd.getpwuid(uid).pw_name} (uid {uid})"
        except KeyError:
            return f"os:uid {uid}"
    try:
        return f"os:{getpass.getuser()}"
    except (KeyError, OSError):
        return "os:unknown"

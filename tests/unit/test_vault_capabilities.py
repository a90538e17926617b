"""Vaults declare what they can do; callers ask the vault, and a missing capability is one clear
error, never an AttributeError or a guess from the vault's name."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from phiguard import Sealer, aws
from phiguard.audit import open_audit_log, open_auditor
from phiguard.errors import ConfigError, EncryptionKeyError, Hint, VaultError
from phiguard.keys.files import generate_key
from phiguard.keys.policy import open_keys
from phiguard.keys.rotation import rotate_local_key
from phiguard.vaults import REGISTRY, STORES, open_vault
from phiguard.vaults.base import (
    AuditRecord,
    BaseVault,
    Capability,
    KeyStore,
    Vault,
    VaultRecord,
    WrappedKey,
    os_actor,
)
from phiguard.vaults.dynamodb.audit import DynamoDBAuditLog
from phiguard.vaults.dynamodb.keys import DynamoDBKeyStore
from phiguard.vaults.dynamodb.vault import DynamoDBVault
from phiguard.vaults.journal import Journal, sweep
from phiguard.vaults.memory import MemoryVault
from phiguard.vaults.sqlite import SQLiteVault

RECORD = AuditRecord("2026-01-01T00:00:00.000+00:00", "os:test", "reid", ("ab" * 32,), 2, "s", "h")
KEY = WrappedKey("k1", "arn:aws:kms:eu-west-1:1:key/x", b"\x01wrapped", "data", "2026-01-01")


class PutGetOnly(BaseVault):
    """A third-party vault with the required methods only."""

    name = "plain"

    def __init__(self) -> None:
        self.rows: dict[str, list[VaultRecord]] = {}

    def put(self, records: Sequence[VaultRecord]) -> None:
        for r in records:
            self.rows.setdefault(r.message_hash, []).append(r)

    def get(self, message_hash: str) -> list[VaultRecord]:
        return self.rows.get(message_hash, [])

    def close(self) -> None:
        pass


def test_the_registry_names_every_store() -> None:
    assert STORES == tuple(REGISTRY) == ("sqlite", "dynamodb", "memory")
    with pytest.raises(ConfigError, match="choose one of: sqlite, dynamodb, memory"):
        open_vault("postgres")


def test_declared_capabilities() -> None:
    assert SQLiteVault.capabilities == frozenset(Capability)
    assert DynamoDBVault.capabilities == frozenset(Capability)
    assert MemoryVault.capabilities == {Capability.ROTATE, Capability.AUDIT, Capability.KEY_STORE}
    assert PutGetOnly.capabilities == frozenset()
    assert isinstance(PutGetOnly(), Vault)


def test_missing_capabilities_are_one_clear_vault_error() -> None:
    v = PutGetOnly()
    for call, words in (
        (lambda: v.delete([("a", "b")]), "cannot delete rows"),
        (lambda: v.records_not_sealed_with("k", 1), "cannot list rows by key"),
        (v.audit_log, "keeps no audit log"),
        (v.key_store, "cannot keep KMS-wrapped keys"),
    ):
        with pytest.raises(VaultError, match=f"^the plain vault {words}") as info:
            call()
        assert info.value.exit_code == 5 and "\n" not in str(info.value)


def test_callers_ask_the_vault(tmp_path: Path) -> None:
    v = PutGetOnly()
    assert Journal.start(v, home=tmp_path) is None  # no DELETE: no journal
    assert sweep(v, home=tmp_path).runs == 0
    with pytest.raises(VaultError, match="keeps no audit log; re-identification is refused"):
        open_auditor(v)
    with pytest.raises(VaultError, match="keeps no audit log"):
        open_audit_log(v)
    with pytest.raises(ConfigError, match="cannot keep KMS-wrapped keys"):
        open_keys(v, writer=True, kms_key_id="alias/phi")
    with pytest.raises(EncryptionKeyError, match="cannot re-encrypt values") as info:
        rotate_local_key(v, Sealer(generate_key()), generate_key())
    assert info.value.hint is Hint.KMS_KEY
    memory = MemoryVault()
    assert Journal.start(memory, home=tmp_path) is None  # nothing outlives the process


def _round_trip(store: KeyStore) -> None:
    assert not store.may_hold_keys()
    assert store.put_wrapped_key(KEY) is True
    assert store.put_wrapped_key(KEY, if_absent=True) is False
    assert store.get_wrapped_key("k1") == KEY and store.wrapped_keys() == [KEY]
    assert store.may_hold_keys()


def test_sqlite_keeps_keys_and_audit_in_its_file(tmp_path: Path) -> None:
    v = SQLiteVault(tmp_path / "v.db")
    _round_trip(v.key_store())
    log = v.audit_log()
    log.append_audit(RECORD)
    assert log.actor() == os_actor()
    v.close()
    again = SQLiteVault(tmp_path / "v.db", create=False)
    assert again.key_store().wrapped_keys() == [KEY]
    assert again.audit_log().audit_records() == [RECORD]
    assert open_auditor(again).actor == os_actor()
    again.close()


def test_memory_keeps_keys_and_audit() -> None:
    v = MemoryVault()
    _round_trip(v.key_store())
    v.audit_log().append_audit(RECORD)
    assert v.audit_log().audit_records() == [RECORD]


def test_dynamodb_companions_sit_beside_the_vault(aws_env: None) -> None:
    """`<table>-keys` and `<table>-audit` at the vault's own region, endpoint and profile
    (nothing is sent: the tables are only named here)."""
    v = DynamoDBVault("phi", region="eu-west-1", endpoint_url="http://127.0.0.1:1")
    keys, audit = v.key_store(), v.audit_log()
    assert keys is v.key_store() and audit is v.audit_log(), "made once per vault"
    assert isinstance(keys, DynamoDBKeyStore) and isinstance(audit, DynamoDBAuditLog)
    assert [keys.table, audit.table] == ["phi-keys", "phi-audit"]
    place = aws.Target("eu-west-1", None, "http://127.0.0.1:1")
    assert keys.target.aws_target == audit.target.aws_target == place
    assert keys.may_hold_keys(), "readers may not Scan: assume keys may be there"
    assert v.location == "dynamodb:eu-west-1:http://127.0.0.1:1:phi"

"""KMS envelope encryption against a real moto_server: data keys wrapped, stored, rotated."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from phiguard import EncryptionKeyError, Sealer
from phiguard.audit import Auditor, MemoryAuditLog
from phiguard.detectors import BaseDetector
from phiguard.keys.files import generate_key, key_id, write_key_file
from phiguard.keys.kms import PSEUDONYM_SLOT, KmsKeyring
from phiguard.keys.policy import open_keys
from phiguard.keys.rotation import rotate_local_key
from phiguard.reid import reidentify
from phiguard.run.deidentifier import Deidentifier
from phiguard.spans import Span
from phiguard.vaults.memory import MemoryVault
from phiguard.vaults.sqlite import SQLiteVault
from support.cli import cli
from support.dynamodb_server import fake_aws_env
from support.moto_server import moto_server

NOTE = "Carlos Salazar, seen 11/12/2011 by Dr. Sarkar.\n"
SPANS = [Span(0, 14, "NAME"), Span(21, 31, "DATE"), Span(39, 45, "NAME")]


class Fixed(BaseDetector):
    name = "fixed"

    def detect(self, text: str) -> list[Span]:
        return [s for s in SPANS if s.end <= len(text)]


@pytest.fixture(scope="module")
def kms_endpoint() -> Iterator[str]:
    with fake_aws_env(), moto_server() as endpoint:
        yield endpoint


@pytest.fixture()
def kms(kms_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A KMS client on the moto server; the library finds it through AWS_ENDPOINT_URL_KMS."""
    with fake_aws_env():
        monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", kms_endpoint)
        yield boto3.client("kms", region_name="us-east-1", endpoint_url=kms_endpoint)


def _new_key(kms: Any) -> str:
    return str(kms.create_key(Description="phiguard test")["KeyMetadata"]["Arn"])


def test_writer_data_key_is_stored_wrapped_before_use_and_never_in_plaintext(
    kms: Any, tmp_path: Path, phiguard_home: Path
) -> None:
    arn = _new_key(kms)
    vault = SQLiteVault(tmp_path / "v.db")
    sealer, _ = open_keys(vault, writer=True, kms_key_id=arn, region="us-east-1")
    stored = vault.wrapped_keys()
    assert [k.key_id for k in stored] == [sealer.key_id]
    assert stored[0].kms_key_id == arn and stored[0].purpose == "data"
    out = Deidentifier(Fixed(), vault=vault, sealer=sealer).deidentify(NOTE)
    vault.close()
    plain = KmsKeyring(SQLiteVault(tmp_path / "v.db"), kms).unwrap(sealer.key_id)
    assert plain is not None and key_id(plain) == sealer.key_id
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert plain not in raw and b"Salazar" not in raw
    # a reader with no local key at all opens the rows through KMS
    reader_vault = SQLiteVault(tmp_path / "v.db", create=False)
    reader, _ = open_keys(reader_vault, writer=False, region="us-east-1")
    assert reader.key_id == "", "no local key was used"
    assert reidentify(out.text, reader_vault, reader) == NOTE


def test_several_data_keys_coexist_and_rewrap_keeps_values(
    kms: Any, tmp_path: Path, phiguard_home: Path
) -> None:
    old_arn, new_arn = _new_key(kms), _new_key(kms)
    vault = SQLiteVault(tmp_path / "v.db")
    texts = []
    for _ in range(3):  # three writer runs: three data keys
        sealer, _ = open_keys(vault, writer=True, kms_key_id=old_arn, region="us-east-1")
        texts.append(Deidentifier(Fixed(), vault=vault, sealer=sealer).deidentify(NOTE).text)
    assert len({k.key_id for k in vault.wrapped_keys()}) == 3
    before = {k.key_id: (k.wrapped, k.kms_key_id) for k in vault.wrapped_keys()}
    ciphertexts = sorted(r.ciphertext for t in texts for r in vault.get(_mh(t)))

    assert KmsKeyring(vault, kms).rewrap(new_arn) == 3
    after = {k.key_id: (k.wrapped, k.kms_key_id) for k in vault.wrapped_keys()}
    assert after.keys() == before.keys()
    assert all(after[k][1] == new_arn and after[k][0] != before[k][0] for k in after)
    assert sorted(r.ciphertext for t in texts for r in vault.get(_mh(t))) == ciphertexts
    for k in vault.wrapped_keys():  # KMS itself says the blobs are now under the new key
        ctx = {"phiguard:purpose": "data"}
        assert kms.decrypt(CiphertextBlob=k.wrapped, EncryptionContext=ctx)["KeyId"] == new_arn
    reader, _ = open_keys(vault, writer=False, region="us-east-1")
    audit = Auditor(MemoryAuditLog(), "test")
    assert [reidentify(t, vault, reader, audit) for t in texts] == [NOTE] * 3


def _mh(text: str) -> str:
    from phiguard.transform import message_hash

    return message_hash(text)


def test_pseudonym_key_is_one_per_vault_and_survives_rewrap(kms: Any) -> None:
    arn, arn2 = _new_key(kms), _new_key(kms)
    vault = MemoryVault()
    _, p1 = open_keys(vault, writer=True, kms_key_id=arn, consistent=True, region="us-east-1")
    _, p2 = open_keys(vault, writer=True, kms_key_id=arn, consistent=True, region="us-east-1")
    assert p1 is not None and p2 is not None
    assert p1.token("Salazar") == p2.token("Salazar")
    slot = vault.get_wrapped_key(PSEUDONYM_SLOT)
    assert slot is not None and slot.purpose == "pseudonym"
    KmsKeyring(vault, kms).rewrap(arn2)
    _, p3 = open_keys(vault, writer=True, kms_key_id=arn2, consistent=True, region="us-east-1")
    assert p3 is not None and p3.token("Salazar") == p1.token("Salazar")


def test_tampered_wrapped_key_and_unknown_kms_key_fail_closed(kms: Any) -> None:
    arn = _new_key(kms)
    vault = MemoryVault()
    sealer, _ = open_keys(vault, writer=True, kms_key_id=arn, region="us-east-1")
    out = Deidentifier(Fixed(), vault=vault, sealer=sealer).deidentify(NOTE)
    k = vault.get_wrapped_key(sealer.key_id)
    assert k is not None
    broken = bytearray(k.wrapped)
    broken[-1] ^= 1
    vault.put_wrapped_key(type(k)(k.key_id, k.kms_key_id, bytes(broken), k.purpose, k.created_at))
    reader = Sealer(None, lookup=KmsKeyring(vault, kms).unwrap)
    with pytest.raises(EncryptionKeyError, match=r"kms:Decrypt") as info:
        reidentify(out.text, vault, reader)
    assert "Carlos" not in str(info.value)
    with pytest.raises(EncryptionKeyError, match="GenerateDataKey"):
        open_keys(MemoryVault(), writer=True, kms_key_id="alias/none", region="us-east-1")


def test_cli_kms_deid_reid_rotate_and_audit(
    kms: Any, tmp_path: Path, phiguard_home: Path, run_cli: Any
) -> None:
    arn, arn2 = _new_key(kms), _new_key(kms)
    src = tmp_path / "n.txt"
    src.write_text(NOTE)
    vault = tmp_path / "v.db"
    out = tmp_path / "n.deid"
    r = run_cli(
        "deid",
        "--backend",
        "local",
        "--vault",
        str(vault),
        "--kms-key-id",
        arn,
        str(src),
        "--out",
        str(out),
    )
    assert r.returncode == 0, r.stderr
    assert not (phiguard_home / "key").exists(), "no local key file with KMS"
    r = run_cli("reid", "--vault", str(vault), str(out))
    assert r.returncode == 0, r.stderr
    assert r.stdout == NOTE.encode()
    r = run_cli("vault", "rotate-key", "--vault", str(vault), "--kms-key-id", arn2)
    assert r.returncode == 0 and "re-wrapped 1 key(s)" in r.stderr.decode()
    r = run_cli("reid", "--vault", str(vault), str(out))
    assert r.returncode == 0 and r.stdout == NOTE.encode(), r.stderr
    r = run_cli("deid", "--vault", str(vault), "--kms-key-id", "alias/missing", str(src))
    err = r.stderr.decode().strip().splitlines()
    assert r.returncode == 6 and len(err) == 1 and "kms:GenerateDataKey" in err[0]
    assert r.stdout == b""


def test_local_rotation_is_resumable(tmp_path: Path) -> None:
    old_key, new_key = generate_key(), generate_key()
    vault = SQLiteVault(tmp_path / "v.db")
    d = Deidentifier(Fixed(), vault=vault, sealer=Sealer(old_key))
    texts = [d.deidentify(NOTE).text for _ in range(7)]

    class Interrupted(Exception):
        pass

    def stop_after_first_batch(done: int) -> None:
        raise Interrupted

    with pytest.raises(Interrupted):
        rotate_local_key(
            vault, Sealer(old_key), new_key, batch_size=4, progress=stop_after_first_batch
        )
    kids = [r[0] for r in sqlite3.connect(tmp_path / "v.db").execute("SELECT key_id FROM vault")]
    assert kids.count(key_id(new_key)) == 4 and len(kids) == 21
    # resume with a ring that holds both keys (rows sealed with the new key are skipped)
    assert rotate_local_key(vault, Sealer(old_key), new_key, batch_size=4) == 17
    audit = Auditor(MemoryAuditLog(), "test")
    assert {reidentify(t, vault, Sealer(new_key), audit) for t in texts} == {NOTE}
    with pytest.raises(EncryptionKeyError, match="wrong key"):
        reidentify(texts[0], vault, Sealer(old_key))


def test_cli_local_rotation(tmp_path: Path, phiguard_home: Path, run_cli: Any) -> None:
    src = tmp_path / "n.txt"
    src.write_text(NOTE)
    out = tmp_path / "n.deid"
    assert run_cli("deid", str(src), "--out", str(out)).returncode == 0
    new = tmp_path / "new.key"
    r = run_cli("vault", "rotate-key", "--new-key-file", str(new), "--batch-size", "1")
    assert r.returncode == 0, r.stderr
    r = run_cli("reid", "--key-file", str(new), str(out))
    assert r.returncode == 0 and r.stdout == NOTE.encode(), r.stderr
    r = run_cli("reid", str(out))  # the old key no longer opens anything
    assert r.returncode == 6 and b"wrong key" in r.stderr
    existing = tmp_path / "existing.key"
    write_key_file(existing, generate_key())
    r = run_cli("vault", "rotate-key", "--kms-key-id", "x", "--new-key-file", str(existing))
    assert r.returncode == 2 and b"exactly one" in r.stderr


@pytest.fixture()
def run_cli(tmp_path: Path) -> Any:
    """Run the installed CLI as a subprocess, with the test's environment."""
    return cli


@pytest.mark.dynamodb
def test_local_rotation_on_dynamodb(dynamodb_endpoint: str) -> None:
    from phiguard.vaults.dynamodb.vault import DynamoDBVault, create_table

    create_table("rotate-vault", endpoint_url=dynamodb_endpoint)
    vault = DynamoDBVault("rotate-vault", endpoint_url=dynamodb_endpoint)
    old_key, new_key = generate_key(), generate_key()
    d = Deidentifier(Fixed(), vault=vault, sealer=Sealer(old_key))
    texts = [d.deidentify(NOTE).text for _ in range(5)]
    assert rotate_local_key(vault, Sealer(old_key), new_key, batch_size=4) == 15
    assert rotate_local_key(vault, Sealer(old_key), new_key, batch_size=4) == 0, "nothing left"
    audit = Auditor(MemoryAuditLog(), "test")
    assert {reidentify(t, vault, Sealer(new_key), audit) for t in texts} == {NOTE}


def test_surrogate_offsets_come_from_the_vaults_one_kms_slot(
    kms: Any, tmp_path: Path, phiguard_home: Path
) -> None:
    """Every writer (each with its own data key), every later run and a re-wrap under a new
    KMS key give a patient the same surrogates and offset; no local key is made or needed."""
    from phiguard.config import Config, KeyConfig, StoreConfig

    arn, arn2 = _new_key(kms), _new_key(kms)
    db = tmp_path / "v.db"

    def writer(kms_key: str) -> Deidentifier:
        cfg = Config(store=StoreConfig(path=str(db)), keys=KeyConfig(kms_key_id=kms_key))
        d = Deidentifier.open(cfg, vault="write")
        d._detector = Fixed()
        return d

    with writer(arn) as d:
        first = d.surrogate(NOTE, patient="pt-1")
        assert first.text != NOTE and "Salazar" not in first.text
    with writer(arn) as d:
        assert d.surrogate(NOTE, patient="pt-1") == first, "another run, another data key"
        other = d.surrogate(NOTE, patient="pt-2")
    assert other.text != first.text
    vault = SQLiteVault(db)
    assert vault.get_wrapped_key(PSEUDONYM_SLOT) is not None
    KmsKeyring(vault, kms).rewrap(arn2)
    vault.close()
    with writer(arn2) as d:
        assert d.surrogate(NOTE, patient="pt-1") == first, "re-wrapping keeps every offset"
    assert not (phiguard_home / "key").exists(), "no local key was made"
    reader_vault = SQLiteVault(db, create=False)
    reader, _ = open_keys(reader_vault, writer=False, region="us-east-1")
    audit = Auditor(MemoryAuditLog(), "test")
    assert reidentify(first.text, reader_vault, reader, audit) == NOTE

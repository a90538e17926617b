"""Every re-identification is recorded before any value is released; no record, no values."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from phiguard import Deidentifier, Sealer, VaultError
from phiguard.audit import Auditor, AuditRecord, MemoryAuditLog
from phiguard.detectors import BaseDetector
from phiguard.errors import ConfigError
from phiguard.spans import Span
from phiguard.transform import message_hash
from phiguard.vaults.base import BaseVault
from phiguard.vaults.memory import MemoryVault

NOTE = "Carlos Salazar, seen 11/12/2011 by Dr. Sarkar; Salazar agreed.\n"


class Fixed(BaseDetector):
    name = "fixed"

    def detect(self, text: str) -> list[Span]:
        return [Span(0, 14, "NAME"), Span(21, 31, "DATE"), Span(39, 45, "NAME")]


def cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "phiguard_cli", *args],
        input=stdin,
        capture_output=True,
        check=False,
        env=dict(os.environ),
    )


class FailingLog:
    def append_audit(self, record: AuditRecord) -> None:
        raise VaultError("audit store unavailable")

    def audit_records(self) -> list[AuditRecord]:
        return []


def test_record_written_before_release_and_without_values() -> None:
    log = MemoryAuditLog()
    d = Deidentifier(Fixed(), vault=MemoryVault(), sealer=Sealer(b"\x02" * 32))
    out = d.deidentify(NOTE)
    d.auditor = Auditor(log, "os:alice")
    assert d.reidentify(out.text) == NOTE
    [rec] = log.records
    assert rec.actor == "os:alice" and rec.action == "reid" and rec.values == 3
    assert rec.message_hashes == (out.message_hash,)
    assert "Salazar" not in json.dumps(rec.to_dict())
    d.auditor = Auditor(FailingLog(), "os:alice")
    with pytest.raises(VaultError, match="nothing revealed"):
        d.reidentify(out.text)


def test_vault_without_audit_log_is_refused() -> None:
    class NoAudit(BaseVault):
        name = "plain"

        def __init__(self) -> None:
            self.inner = MemoryVault()

        def put(self, records: Any) -> None:
            self.inner.put(records)

        def get(self, mh: str) -> Any:
            return self.inner.get(mh)

        def close(self) -> None:
            pass

    d = Deidentifier(Fixed(), vault=NoAudit(), sealer=Sealer(b"\x02" * 32))
    out = d.deidentify(NOTE)
    with pytest.raises(ConfigError, match="no audit log"):
        d.reidentify(out.text)


def test_cli_sqlite_audit_trail(phiguard_home: Path, tmp_path: Path) -> None:
    src = tmp_path / "n.jsonl"
    notes = [{"id": i, "text": f"Seen by Dr. Jackson on 3/{i}/2011."} for i in range(1, 4)]
    src.write_text("".join(json.dumps(n) + "\n" for n in notes))
    deid = tmp_path / "d.jsonl"
    r = cli("deid", "--jsonl", str(src), "--out", str(deid))
    assert r.returncode == 0, r.stderr
    hashes = {message_hash(json.loads(x)["text"]) for x in deid.read_text().splitlines()}
    r = cli("reid", "--jsonl", str(deid))
    assert r.returncode == 0, r.stderr
    r = cli("vault", "audit", "--format", "json")
    assert r.returncode == 0, r.stderr
    records = json.loads(r.stdout)
    assert {h for rec in records for h in rec["message_hashes"]} == hashes
    assert all(rec["actor"].startswith("os:") and rec["values"] >= 1 for rec in records)
    assert len({rec["session"] for rec in records}) == 1
    text = cli("vault", "audit").stdout.decode()
    assert text.count("\treid\t") == len(records)
    assert "Jackson" not in r.stdout.decode() and "Jackson" not in text

    db = sqlite3.connect(phiguard_home / "vault.db")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM audit")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE audit SET actor = 'someone else'")
    # the audit store fails: reid refuses and prints nothing
    db.execute(
        "CREATE TRIGGER audit_broken BEFORE INSERT ON audit "
        "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    db.commit()
    db.close()
    r = cli("reid", "--jsonl", str(deid))
    assert r.returncode != 0 and b"Jackson" not in r.stdout, r.stderr
    assert b"audit record not stored" in r.stderr and b"Traceback" not in r.stderr
    one = tmp_path / "one.txt"
    one.write_text(json.loads(deid.read_text().splitlines()[0])["text"])
    r = cli("reid", str(one))
    assert r.returncode == 5 and r.stdout == b"", r.stderr
    assert r.stderr.decode().count("\n") == 1 and "audit record not stored" in r.stderr.decode()


@pytest.mark.dynamodb
def test_cli_dynamodb_audit_table(
    dynamodb_endpoint: str, phiguard_home: Path, tmp_path: Path
) -> None:
    table = "audit-vault"
    opts = ["--store", "dynamodb", "--table", table, "--endpoint-url", dynamodb_endpoint]
    r = cli("vault", "create-table", "--table", table, "--endpoint-url", dynamodb_endpoint)
    assert r.returncode == 0, r.stderr
    assert f"table {table}-audit created" in r.stderr.decode()
    src = tmp_path / "n.txt"
    src.write_text(NOTE)
    deid = tmp_path / "n.deid"
    assert cli("deid", *opts, str(src), "--out", str(deid)).returncode == 0
    r = cli("reid", *opts, str(deid))
    assert r.returncode == 0 and r.stdout == NOTE.encode(), r.stderr
    r = cli("vault", "audit", *opts, "--format", "json")
    assert r.returncode == 0, r.stderr
    [rec] = json.loads(r.stdout)
    assert rec["message_hashes"] == [message_hash(deid.read_text())]
    assert rec["actor"].endswith("(local endpoint, no STS)")

    client = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint)
    client.delete_table(TableName=f"{table}-audit")
    client.get_waiter("table_not_exists").wait(TableName=f"{table}-audit")
    r = cli("reid", *opts, str(deid))
    lines = r.stderr.decode().strip().splitlines()
    assert r.returncode == 5 and r.stdout == b"" and len(lines) == 1, r.stderr
    assert f"{table}-audit" in lines[0]


def test_os_actor_is_not_taken_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from phiguard.audit import os_actor

    monkeypatch.setenv("USER", "mallory")
    monkeypatch.setenv("LOGNAME", "mallory")
    actor = os_actor()
    assert "mallory" not in actor and f"uid {os.geteuid()}" in actor

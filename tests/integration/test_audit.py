"""The audit trail through the CLI as users run it: SQLite and a real DynamoDB-compatible server."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import boto3
import pytest

from phiguard.transform import message_hash
from support.cli import cli

NOTE = "Carlos Salazar, seen 11/12/2011 by Dr. Sarkar; Salazar agreed.\n"


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

"""The DynamoDB vault's companion tables on a real DynamoDB-compatible server (dynalite): the
vault provides its key store and audit log itself, and their failures reach the CLI as one line
with the hint that fixes them."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from conftest import CliResult
from dynamodb_server import free_port
from phiguard.errors import Hint, VaultError
from phiguard.vaults import open_vault
from phiguard.vaults.base import AuditRecord, WrappedKey
from phiguard.vaults.dynamodb.tables import create_companion_tables, create_table

pytestmark = pytest.mark.dynamodb

KEY = WrappedKey("k1", "arn:aws:kms:us-east-1:1:key/x", b"\x00\xffwrapped", "data", "2026-01-01")
RECORD = AuditRecord("2026-01-01T00:00:00.000+00:00", "os:t", "reid", ("ab" * 32,), 3, "s", "h")


def _table() -> str:
    return f"companions-{uuid.uuid4().hex[:10]}"


def test_vault_provides_its_key_store_and_audit_log(dynamodb_endpoint: str) -> None:
    table = _table()
    assert create_table(table, endpoint_url=dynamodb_endpoint)
    assert create_companion_tables(table, endpoint_url=dynamodb_endpoint) == [
        (f"{table}-keys", True),
        (f"{table}-audit", True),
    ]
    assert create_companion_tables(table, endpoint_url=dynamodb_endpoint) == [
        (f"{table}-keys", False),
        (f"{table}-audit", False),
    ]
    vault = open_vault("dynamodb", table=table, endpoint_url=dynamodb_endpoint, create=False)
    keys = vault.key_store()
    assert keys.put_wrapped_key(KEY) and not keys.put_wrapped_key(KEY, if_absent=True)
    assert keys.get_wrapped_key("k1") == KEY and keys.wrapped_keys() == [KEY]
    assert keys.get_wrapped_key("absent") is None
    log = vault.audit_log()
    log.append_audit(RECORD)
    log.append_audit(RECORD)  # appended, never overwritten
    assert log.audit_records() == [RECORD, RECORD]
    assert log.actor().endswith("(local endpoint, no STS)")


def test_missing_companion_table(dynamodb_endpoint: str) -> None:
    table = _table()
    create_table(table, endpoint_url=dynamodb_endpoint)  # but not its companions
    vault = open_vault("dynamodb", table=table, endpoint_url=dynamodb_endpoint)
    with pytest.raises(VaultError) as info:
        vault.key_store().get_wrapped_key("k1")
    assert str(info.value).startswith(
        f"DynamoDB table '{table}-keys' does not exist in region us-east-1 at {dynamodb_endpoint} "
        "(dynamodb:GetItem: ResourceNotFoundException"
    )
    assert info.value.hint is Hint.CREATE_TABLES


def _line(r: CliResult, code: int) -> str:
    assert r.code == code and r.out == b"", r.err
    lines = r.err.splitlines()
    assert len(lines) == 1 and "Traceback" not in r.err, r.err
    return lines[0]


def test_cli_renders_the_hints(run: Callable[..., CliResult], dynamodb_endpoint: str) -> None:
    table = _table()
    create_table(table, endpoint_url=dynamodb_endpoint)
    store = ("--store", "dynamodb", "--table", table, "--endpoint-url", dynamodb_endpoint)
    line = _line(run("vault", "audit", *store), 5)
    assert line.startswith(f"phiguard: error: DynamoDB table '{table}-audit' does not exist")
    assert "(dynamodb:Scan: ResourceNotFoundException" in line
    assert line.endswith(
        "; create the tables with `phiguard vault create-table` "
        "(same --table, --region, --endpoint-url)"
    )
    r = run("vault", "create-table", *store[2:])
    assert r.code == 0 and f"table {table}-audit created" in r.err, r.err
    r = run("vault", "audit", *store)
    assert r.code == 0 and r.out == b"", r.err
    closed = f"http://127.0.0.1:{free_port()}"
    line = _line(run("vault", "audit", "--store", "dynamodb", "--endpoint-url", closed), 5)
    assert line == (
        f"phiguard: error: cannot reach {closed} (EndpointConnectionError) to read DynamoDB "
        "table 'phiguard-vault-audit'; check the network and retry; check --endpoint-url"
    )

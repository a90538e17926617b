"""The DynamoDB vault against a real DynamoDB-compatible server (dynalite), never a mock.

`dynamodb_endpoint` is the session fixture of tests/dynamodb_server.py, imported by conftest.py.

Faults DynamoDB produces but dynalite never does (UnprocessedItems, throttling, AccessDenied)
come from `FaultProxy`: a real HTTP server on 127.0.0.1 that forwards to dynalite and rewrites
some answers, so the whole botocore/pynamodb stack still runs.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dynamodb_server import free_port, running_server, server_kind, stop
from phiguard.errors import Hint, VaultError
from phiguard.vaults.base import Vault, VaultRecord
from phiguard.vaults.dynamodb.vault import (
    BATCH_SIZE,
    UNPROCESSED_ROUNDS,
    DynamoDBVault,
    create_table,
)

pytestmark = pytest.mark.dynamodb


def _hex() -> str:
    return secrets.token_hex(32)


def _records(n: int, message_hash: str | None = None) -> list[VaultRecord]:
    mh = message_hash or _hex()
    return [
        VaultRecord(
            message_hash=mh,
            token=_hex(),
            type=("NAME", "DATE", "PHONE")[i % 3],
            ciphertext=secrets.token_bytes(12 + (i % 40)),
            key_id="k1",
            offset=i * 70,
            created_at="2026-11-24T21:30:00.123456Z",
        )
        for i in range(n)
    ]


def _client(endpoint: str) -> Any:
    return boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")


@pytest.fixture
def table(dynamodb_endpoint: str) -> str:
    """A fresh table per test, so tests never see each other's items."""
    name = f"phiguard-test-{uuid.uuid4().hex[:12]}"
    assert create_table(name, endpoint_url=dynamodb_endpoint) is True
    return name


@pytest.fixture
def vault(table: str, dynamodb_endpoint: str) -> Iterator[DynamoDBVault]:
    v = DynamoDBVault(table, endpoint_url=dynamodb_endpoint)
    yield v
    v.close()


# -- the server really validates like DynamoDB -------------------------------------------------


def test_server_rejects_a_26_item_batch(table: str, dynamodb_endpoint: str) -> None:
    if server_kind() != "dynalite":
        pytest.skip("only dynalite enforces the 25-item limit; moto_server accepts 26")
    requests = [
        {"PutRequest": {"Item": {"MessageHash": {"S": "m"}, "EntityHash": {"S": str(i)}}}}
        for i in range(BATCH_SIZE + 1)
    ]
    with pytest.raises(ClientError) as err:
        _client(dynamodb_endpoint).batch_write_item(RequestItems={table: requests})
    assert err.value.response["Error"]["Code"] == "ValidationException"


# -- create_table ------------------------------------------------------------------------------


def test_create_table_is_idempotent_and_has_the_reference_layout(dynamodb_endpoint: str) -> None:
    name = f"phiguard-test-{uuid.uuid4().hex[:12]}"
    assert create_table(name, endpoint_url=dynamodb_endpoint) is True
    assert create_table(name, endpoint_url=dynamodb_endpoint) is False
    desc = _client(dynamodb_endpoint).describe_table(TableName=name)["Table"]
    assert desc["TableStatus"] == "ACTIVE"
    assert {(k["AttributeName"], k["KeyType"]) for k in desc["KeySchema"]} == {
        ("MessageHash", "HASH"),
        ("EntityHash", "RANGE"),
    }
    assert {(a["AttributeName"], a["AttributeType"]) for a in desc["AttributeDefinitions"]} == {
        ("MessageHash", "S"),
        ("EntityHash", "S"),
    }
    assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_create_table_provisioned(dynamodb_endpoint: str) -> None:
    name = f"phiguard-test-{uuid.uuid4().hex[:12]}"
    assert create_table(name, endpoint_url=dynamodb_endpoint, billing="PROVISIONED") is True
    desc = _client(dynamodb_endpoint).describe_table(TableName=name)["Table"]
    assert desc["ProvisionedThroughput"]["ReadCapacityUnits"] == 5


def test_create_table_rejects_unknown_billing(dynamodb_endpoint: str) -> None:
    with pytest.raises(VaultError, match="unknown billing mode"):
        create_table("x", endpoint_url=dynamodb_endpoint, billing="FREE")


# -- put / get ---------------------------------------------------------------------------------


def test_is_a_vault(vault: DynamoDBVault) -> None:
    assert isinstance(vault, Vault)
    assert vault.name == "dynamodb"


@pytest.mark.parametrize("n", [1, 25, 26, 1000])
def test_round_trip_across_batch_boundaries(vault: DynamoDBVault, n: int) -> None:
    records = _records(n)
    vault.put(records)
    assert vault.get(records[0].message_hash) == records  # offset order, every field intact


def test_get_unknown_message_is_empty(vault: DynamoDBVault) -> None:
    assert vault.get(_hex()) == []


def test_put_nothing_is_fine(vault: DynamoDBVault) -> None:
    vault.put([])


def test_messages_are_kept_apart(vault: DynamoDBVault) -> None:
    a, b = _records(30), _records(7)
    vault.put(a + b)
    assert vault.get(a[0].message_hash) == a
    assert vault.get(b[0].message_hash) == b


def test_put_is_idempotent(vault: DynamoDBVault) -> None:
    records = _records(40)
    vault.put(records)
    vault.put(records)
    assert vault.get(records[0].message_hash) == records


def test_repeated_record_in_one_put_is_stored_once(vault: DynamoDBVault) -> None:
    records = _records(3)
    vault.put(records + records[:1])  # a raw batch with a key twice is rejected by DynamoDB
    assert vault.get(records[0].message_hash) == records


def test_conflicting_records_for_one_token_are_refused(vault: DynamoDBVault) -> None:
    (r,) = _records(1)
    other = VaultRecord(r.message_hash, r.token, r.type, b"other", r.key_id, 5, r.created_at)
    with pytest.raises(VaultError, match="two different records"):
        vault.put([r, other])


@pytest.mark.parametrize("n", [1, 25, 26, 60])
def test_delete_removes_exactly_the_named_items(vault: DynamoDBVault, n: int) -> None:
    gone, kept = _records(n), _records(3)
    vault.put(gone + kept)
    absent = (_hex(), _hex())
    vault.delete([(r.message_hash, r.token) for r in gone] + [absent])  # absent keys: no error
    assert vault.get(gone[0].message_hash) == []
    assert vault.get(kept[0].message_hash) == kept
    vault.delete([])


def test_closed_vault_refuses(vault: DynamoDBVault) -> None:
    vault.close()
    with pytest.raises(VaultError, match="closed"):
        vault.get(_hex())


def test_vaults_on_two_tables_are_independent(dynamodb_endpoint: str) -> None:
    t1, t2 = (f"phiguard-test-{uuid.uuid4().hex[:12]}" for _ in range(2))
    for t in (t1, t2):
        create_table(t, endpoint_url=dynamodb_endpoint)
    v1 = DynamoDBVault(t1, endpoint_url=dynamodb_endpoint)
    v2 = DynamoDBVault(t2, endpoint_url=dynamodb_endpoint)
    records = _records(3)
    v1.put(records)
    assert v1.get(records[0].message_hash) == records
    assert v2.get(records[0].message_hash) == []


# -- the layout as plain boto3 sees it; no plaintext -------------------------------------------


def _raw_scan(endpoint: str, table: str) -> bytes:
    """The Scan response body exactly as it comes over the wire."""
    req = urllib.request.Request(
        endpoint + "/",
        data=json.dumps({"TableName": table}).encode(),
        method="POST",
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810.Scan",
            "X-Amz-Date": "20240101T000000Z",
            "Authorization": (
                "AWS4-HMAC-SHA256 Credential=phiguard-test/20240101/us-east-1/dynamodb/"
                "aws4_request, SignedHeaders=host;x-amz-date, Signature=00"
            ),
        },
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        body: bytes = resp.read()
        return body


def test_items_have_the_reference_layout_and_no_plaintext(
    vault: DynamoDBVault, table: str, dynamodb_endpoint: str
) -> None:
    key = AESGCM.generate_key(bit_length=256)
    mh = _hex()
    values = ["Jonathan Q. Whitaker", "555-867-5309", "1961-04-12"]
    records = []
    for i, value in enumerate(values):
        token = _hex()
        nonce = secrets.token_bytes(12)
        sealed = nonce + AESGCM(key).encrypt(nonce, value.encode(), (mh + token).encode())
        records.append(
            VaultRecord(mh, token, "NAME", sealed, "key-2026", i * 100, "2026-11-24T21:30:00Z")
        )
    vault.put(records)

    items = _client(dynamodb_endpoint).scan(TableName=table, ConsistentRead=True)["Items"]
    assert len(items) == 3
    by_token = {item["EntityHash"]["S"]: item for item in items}
    for r in records:
        item = by_token[r.token]
        assert item == {
            "MessageHash": {"S": mh},
            "EntityHash": {"S": r.token},
            "Entity": {"B": r.ciphertext},
            "EntityType": {"S": "NAME"},
            "CreatedAt": {"S": "2026-11-24T21:30:00Z"},
            "KeyId": {"S": "key-2026"},
            "Offset": {"N": str(r.offset)},
        }

    raw = _raw_scan(dynamodb_endpoint, table)
    for value in values:
        assert value.encode() not in raw
        assert value.encode().hex().encode() not in raw
    # and the values do come back with the key: the vault stored the ciphertext verbatim
    got = vault.get(mh)
    assert got == records
    aead = AESGCM(key)
    opened = [
        aead.decrypt(g.ciphertext[:12], g.ciphertext[12:], (mh + g.token).encode()) for g in got
    ]
    assert [o.decode() for o in opened] == values


# -- errors: one actionable line, no traceback chain -------------------------------------------


def _assert_clean(err: pytest.ExceptionInfo[VaultError]) -> str:
    message = str(err.value)
    assert "\n" not in message
    assert err.value.exit_code == 5
    # no chained botocore/pynamodb traceback behind the one line
    assert err.value.__cause__ is None
    assert err.value.__context__ is None or err.value.__suppress_context__
    return message


def test_missing_table(dynamodb_endpoint: str) -> None:
    v = DynamoDBVault("no-such-table", endpoint_url=dynamodb_endpoint, region="eu-west-3")
    where = (
        f"DynamoDB table 'no-such-table' does not exist in region eu-west-3 at {dynamodb_endpoint}"
    )
    for call, action in (
        (lambda: v.put(_records(2)), "BatchWriteItem"),
        (lambda: v.get(_hex()), "Query"),
    ):
        with pytest.raises(VaultError) as err:
            call()
        message = _assert_clean(err)
        assert message.startswith(f"{where} (dynamodb:{action}: ResourceNotFoundException"), message
        assert err.value.hint is Hint.CREATE_TABLES


def test_unreachable_endpoint() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    v = DynamoDBVault("t", endpoint_url=endpoint, max_retry_attempts=0)
    for call in (lambda: v.put(_records(1)), lambda: v.get(_hex())):
        with pytest.raises(VaultError) as err:
            call()
        assert _assert_clean(err).startswith(f"cannot reach {endpoint} (EndpointConnectionError)")
    with pytest.raises(VaultError, match="cannot reach"):
        create_table("t", endpoint_url=endpoint)


def test_server_stopping_mid_way() -> None:
    with running_server() as (endpoint, proc):
        name = f"phiguard-test-{uuid.uuid4().hex[:12]}"
        create_table(name, endpoint_url=endpoint)
        v = DynamoDBVault(name, endpoint_url=endpoint, max_retry_attempts=1)
        first = _records(60)
        v.put(first)
        assert len(v.get(first[0].message_hash)) == 60
        stop(proc)
        with pytest.raises(VaultError) as err:
            v.put(_records(60))
        assert "cannot reach" in _assert_clean(err)
        with pytest.raises(VaultError, match="cannot reach"):
            v.get(first[0].message_hash)


def test_no_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    with pytest.raises(VaultError, match="no AWS region configured"):
        DynamoDBVault("t")


def test_local_endpoint_needs_no_region(
    monkeypatch: pytest.MonkeyPatch, table: str, dynamodb_endpoint: str
) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    assert DynamoDBVault(table, endpoint_url=dynamodb_endpoint).get(_hex()) == []


def test_aws_region_env_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_REGION", "ca-central-1")
    assert DynamoDBVault("t").region == "ca-central-1"


def test_no_credentials(monkeypatch: pytest.MonkeyPatch, dynamodb_endpoint: str) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    # a table name of its own: the cached Model class of another test holds resolved credentials
    v = DynamoDBVault(f"nocreds-{uuid.uuid4().hex[:8]}", endpoint_url=dynamodb_endpoint)
    with pytest.raises(VaultError) as err:
        v.get(_hex())
    assert _assert_clean(err).startswith("no AWS credentials found")


def test_profile(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, table: str, dynamodb_endpoint: str
) -> None:
    creds = tmp_path / "credentials"
    creds.write_text("[phi-writer]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = s\n")
    config = tmp_path / "config"
    config.write_text("[profile phi-writer]\nregion = eu-central-1\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION")
    assert DynamoDBVault(table, profile="phi-writer").region == "eu-central-1"
    # the table lives in us-east-1 (moto_server keeps regions apart; dynalite does not)
    v = DynamoDBVault(
        table, region="us-east-1", endpoint_url=dynamodb_endpoint, profile="phi-writer"
    )
    records = _records(2)
    v.put(records)
    assert v.get(records[0].message_hash) == records
    with pytest.raises(VaultError, match="AWS profile 'nope' not found"):
        DynamoDBVault(table, endpoint_url=dynamodb_endpoint, profile="nope")


# -- faults dynalite never produces, injected by a real proxy in front of it -------------------


class FaultProxy:
    """HTTP proxy on 127.0.0.1 to the test server that can rewrite DynamoDB answers.

    `unprocessed_calls`: that many BatchWriteItem calls store only their first item and hand the
    rest back as UnprocessedItems (-1: every call, storing nothing). `error`: answer every call
    with this DynamoDB error code instead.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.unprocessed_calls = 0
        self.error: str | None = None
        self.batch_calls = 0
        self.operations: list[str] = []  # DynamoDB operations seen, e.g. "BatchWriteItem"
        self.last_request: dict[str, Any] = {}
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status, payload = proxy.handle(self.headers["X-Amz-Target"], body, self.headers)
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def forward(self, body: bytes, headers: Any) -> tuple[int, bytes]:
        fwd = {k: headers[k] for k in ("Content-Type", "X-Amz-Target", "X-Amz-Date")}
        fwd["Authorization"] = headers["Authorization"]
        req = urllib.request.Request(self.upstream + "/", data=body, method="POST", headers=fwd)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def handle(self, target: str, body: bytes, headers: Any) -> tuple[int, bytes]:
        self.operations.append(target.rsplit(".", 1)[-1])
        self.last_request = json.loads(body)
        if self.error is not None:
            return 400, json.dumps(
                {"__type": f"com.amazonaws#{self.error}", "message": "no"}
            ).encode()
        if not target.endswith(".BatchWriteItem") or self.unprocessed_calls == 0:
            return self.forward(body, headers)
        self.batch_calls += 1
        request = json.loads(body)
        ((table, ops),) = request["RequestItems"].items()
        keep = [] if self.unprocessed_calls < 0 else ops[:1]
        if self.unprocessed_calls > 0:
            self.unprocessed_calls -= 1
        if keep:
            status, _ = self.forward(json.dumps({"RequestItems": {table: keep}}).encode(), headers)
            assert status == 200
        rest = ops[len(keep) :]
        return 200, json.dumps({"UnprocessedItems": {table: rest} if rest else {}}).encode()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(dynamodb_endpoint: str) -> Iterator[FaultProxy]:
    p = FaultProxy(dynamodb_endpoint)
    yield p
    p.close()


def test_unprocessed_items_are_retried_with_backoff(table: str, proxy: FaultProxy) -> None:
    sleeps: list[float] = []
    v = DynamoDBVault(table, endpoint_url=proxy.url, max_retry_attempts=1, sleep=sleeps.append)
    records = _records(30)  # batches of 25 and 5
    proxy.unprocessed_calls = 6
    v.put(records)
    proxy.unprocessed_calls = 0
    assert v.get(records[0].message_hash) == records
    assert sleeps and all(s >= 0 for s in sleeps)


def test_unprocessed_deletes_are_retried(table: str, proxy: FaultProxy) -> None:
    v = DynamoDBVault(table, endpoint_url=proxy.url, max_retry_attempts=1, sleep=lambda _: None)
    records = _records(30)
    v.put(records)
    proxy.unprocessed_calls = 6
    v.delete([(r.message_hash, r.token) for r in records])
    proxy.unprocessed_calls = 0
    assert v.get(records[0].message_hash) == []


def test_unprocessed_items_give_up_after_bounded_retries(table: str, proxy: FaultProxy) -> None:
    sleeps: list[float] = []
    v = DynamoDBVault(table, endpoint_url=proxy.url, max_retry_attempts=1, sleep=sleeps.append)
    proxy.unprocessed_calls = -1
    with pytest.raises(VaultError) as err:
        v.put(_records(3))
    message = _assert_clean(err)
    assert message.startswith(f"DynamoDB throughput exceeded on table '{table}'")
    assert "3 item(s) still unprocessed" in message
    assert len(sleeps) == UNPROCESSED_ROUNDS
    assert max(sleeps) <= 5.0


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("AccessDeniedException", "access denied: this AWS identity may not write DynamoDB table"),
        ("ProvisionedThroughputExceededException", "DynamoDB is throttling or unavailable in"),
        ("UnrecognizedClientException", "AWS credentials were rejected by DynamoDB"),
        ("ValidationException", "(dynamodb:BatchWriteItem: ValidationException): no"),
    ],
)
def test_service_errors(table: str, proxy: FaultProxy, code: str, expected: str) -> None:
    v = DynamoDBVault(table, endpoint_url=proxy.url, max_retry_attempts=0)
    proxy.error = code
    with pytest.raises(VaultError) as err:
        v.put(_records(2))
    assert expected in _assert_clean(err)


def test_access_denied_on_read_names_the_read(table: str, proxy: FaultProxy) -> None:
    v = DynamoDBVault(table, endpoint_url=proxy.url, max_retry_attempts=0)
    proxy.error = "AccessDeniedException"
    with pytest.raises(
        VaultError, match=r"may not read DynamoDB table '[^']+' .*\(dynamodb:Query:"
    ):
        v.get(_hex())


def test_env_is_fake_during_the_session(dynamodb_endpoint: str) -> None:
    assert os.environ["AWS_ACCESS_KEY_ID"] == "phiguard-test"


def test_operations_match_the_iam_policies(dynamodb_endpoint: str, proxy: FaultProxy) -> None:
    """docs/dynamodb.md grants the writer BatchWriteItem only, the re-identifier Query."""
    name = f"phiguard-test-{uuid.uuid4().hex[:12]}"
    create_table(name, endpoint_url=proxy.url)
    assert set(proxy.operations) == {"DescribeTable", "CreateTable"}
    v = DynamoDBVault(name, endpoint_url=proxy.url)
    proxy.operations.clear()
    records = _records(30)
    v.put(records)
    assert proxy.operations == ["BatchWriteItem", "BatchWriteItem"]
    proxy.operations.clear()
    assert v.get(records[0].message_hash) == records
    assert proxy.operations == ["Query"]
    assert proxy.last_request["ConsistentRead"] is True  # a put just acknowledged is seen


def test_profile_whose_credentials_fail(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("[profile broken]\ncredential_process = false\nregion = eu-west-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    with pytest.raises(VaultError) as err:
        DynamoDBVault("phiguard-vault", profile="broken")
    assert _assert_clean(err).startswith("could not load the credentials of AWS profile 'broken'")

"""The DynamoDB tables of one vault: where they are, their layouts, and creating them.

A vault is the table `<table>` (one item per token, written with pynamodb) plus two companion
tables beside it, read and written with plain boto3 calls: `<table>-keys` (KMS-wrapped data
keys, hash key `KeyId`) and `<table>-audit` (the re-identification audit trail, hash key
`AuditId`). All three share one `TableTarget`: the table name, the resolved region, endpoint and
profile, so the companions always sit beside the vault they belong to.
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass
from typing import Any, cast

from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PynamoDBException
from pynamodb.models import Model

from phiguard import aws
from phiguard.errors import Hint, VaultError

__all__ = [
    "AUDIT_SUFFIX",
    "DEFAULT_TABLE",
    "KEYS_SUFFIX",
    "CompanionTable",
    "TableTarget",
    "create_companion_tables",
    "create_table",
]

log = logging.getLogger(__name__)

DEFAULT_TABLE = "phiguard-vault"
KEYS_SUFFIX = "-keys"
AUDIT_SUFFIX = "-audit"
#: What a throttled DynamoDB call tells the user to do once botocore's retries are spent.
THROTTLED_ADVICE = "retry later, or use on-demand (PAY_PER_REQUEST) billing"
#: Companion table suffix -> its string hash key.
COMPANIONS = {KEYS_SUFFIX: "KeyId", AUDIT_SUFFIX: "AuditId"}


@dataclass(frozen=True, slots=True)
class TableTarget:
    """A vault table and where it lives, resolved once (region filled in, profile credentials
    frozen for pynamodb, which cannot take a profile)."""

    table: str
    aws_target: aws.Target
    credentials: aws.Credentials | None

    @classmethod
    def resolve(
        cls,
        table: str,
        region: str | None = None,
        endpoint_url: str | None = None,
        profile: str | None = None,
    ) -> TableTarget:
        if not table:
            raise VaultError("DynamoDB table name is empty", hint=Hint.TABLE)
        credentials = aws.frozen_credentials(profile, VaultError)
        target = aws.resolve(aws.Target(region, profile, endpoint_url), "DynamoDB", VaultError)
        return cls(table, target, credentials)

    @property
    def where(self) -> str:
        return self.aws_target.where

    def companion(self, suffix: str) -> TableTarget:
        return TableTarget(f"{self.table}{suffix}", self.aws_target, self.credentials)

    def call(self, verb: str, actions: str) -> aws.Call:
        """How a call on this table is named in errors: `verb` says what was tried ("write"),
        `actions` the IAM actions, so a refusal tells the admin what to grant."""
        return aws.Call(
            "DynamoDB",
            f"{verb} DynamoDB table '{self.table}'",
            actions,
            self.aws_target,
            resource=f"DynamoDB table '{self.table}'",
            missing=Hint.CREATE_TABLES,
            throttled=THROTTLED_ADVICE,
            quote_message=True,  # DynamoDB sees hashes and ciphertext only
        )

    def error(self, exc: BaseException, verb: str, actions: str) -> VaultError:
        """One PHI-free line for a failed call on this table (see `call`)."""
        return aws.translate(exc, self.call(verb, actions), VaultError)


# -- the vault table (pynamodb) ----------------------------------------------------------------


class VaultItem(Model):
    """The item layout every vault table shares; `model_for` subclasses it per table.

    pynamodb keeps the table, region, endpoint and connection on the class (its `Meta`), so
    two vaults on different tables need two classes.
    """

    message_hash = UnicodeAttribute(hash_key=True, attr_name="MessageHash")
    token = UnicodeAttribute(range_key=True, attr_name="EntityHash")
    ciphertext = BinaryAttribute(legacy_encoding=False, attr_name="Entity")
    entity_type = UnicodeAttribute(attr_name="EntityType")
    created_at = UnicodeAttribute(attr_name="CreatedAt")
    key_id = UnicodeAttribute(attr_name="KeyId")
    offset = NumberAttribute(attr_name="Offset")


@functools.lru_cache(maxsize=64)
def model_for(
    target: TableTarget, connect_timeout: float, max_retry_attempts: int
) -> type[VaultItem]:
    """The Model class for one table/region/endpoint/identity, built once per process.

    Cached so that vaults on the same table share one class and so one pooled connection.
    Without frozen credentials botocore's default chain (env, profile, SSO, instance role)
    resolves and refreshes them.
    """
    meta_attrs: dict[str, Any] = {
        "table_name": target.table,
        "region": target.aws_target.region,
        "host": target.aws_target.endpoint_url,
        "connect_timeout_seconds": connect_timeout,
        "read_timeout_seconds": 30,
        # botocore "standard" retries: exponential backoff on throttling and transient errors
        "max_retry_attempts": max_retry_attempts,
    }
    if target.credentials is not None:
        meta_attrs["aws_access_key_id"] = target.credentials[0]
        meta_attrs["aws_secret_access_key"] = target.credentials[1]
        meta_attrs["aws_session_token"] = target.credentials[2]
    meta = type("Meta", (), meta_attrs)
    name = "VaultItem_" + "".join(c if c.isalnum() else "_" for c in target.table)
    return cast(type[VaultItem], type(name, (VaultItem,), {"Meta": meta}))


# -- companion tables (boto3) ------------------------------------------------------------------


class CompanionTable:
    """A table beside the vault table, named `<vault table><suffix>`, with the string hash key
    `COMPANIONS[suffix]`; its boto3 client is made on first use."""

    suffix = ""

    def __init__(self, vault: TableTarget, suffix: str | None = None) -> None:
        self.suffix = suffix or self.suffix
        self.hash_key = COMPANIONS[self.suffix]
        self.target = vault.companion(self.suffix)
        self.table = self.target.table
        self._client_: Any = None

    @property
    def _client(self) -> Any:
        if self._client_ is None:
            self._client_ = aws.client(
                "dynamodb", self.target.aws_target, label="DynamoDB", error=VaultError
            )
        return self._client_

    def _fail(self, exc: BaseException, verb: str, action: str) -> VaultError:
        return self.target.error(exc, verb, action)

    def create(self) -> bool:
        """Create the table on demand if missing; False if it exists."""
        client = self._client
        try:
            client.create_table(
                TableName=self.table,
                KeySchema=[{"AttributeName": self.hash_key, "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": self.hash_key, "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        except aws.errors() as exc:
            if aws.error_code(exc) == "ResourceInUseException":
                return False
            raise self._fail(exc, "create", "dynamodb:CreateTable") from None
        try:
            client.get_waiter("table_exists").wait(
                TableName=self.table, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
            )
        except aws.errors() as exc:
            raise self._fail(exc, "wait for", "dynamodb:DescribeTable") from None
        return True


# -- creating the tables -----------------------------------------------------------------------


def create_table(
    table: str = DEFAULT_TABLE,
    region: str | None = None,
    endpoint_url: str | None = None,
    profile: str | None = None,
    billing: str = "PAY_PER_REQUEST",
    wait: bool = True,
    *,
    read_capacity_units: int = 5,
    write_capacity_units: int = 5,
    wait_timeout: float = 300.0,
) -> bool:
    """Create the vault table in the reference layout; True if created, False if it existed.

    Idempotent so that `phiguard vault create-table` can run in every deploy. `billing` is
    PAY_PER_REQUEST (no capacity planning, never throttled by provisioned limits) or
    PROVISIONED with the given capacity units. With `wait`, returns once the table is ACTIVE.
    """
    billing = billing.upper()
    if billing not in {"PAY_PER_REQUEST", "PROVISIONED"}:
        raise VaultError(f"unknown billing mode '{billing}'; use PAY_PER_REQUEST or PROVISIONED")
    target = TableTarget.resolve(table, region, endpoint_url, profile)
    model = model_for(target, 5.0, 3)
    created = False
    try:
        if not model.exists():
            try:
                if billing == "PROVISIONED":
                    model.create_table(
                        billing_mode=billing,
                        read_capacity_units=read_capacity_units,
                        write_capacity_units=write_capacity_units,
                    )
                else:
                    model.create_table(billing_mode=billing)
                created = True
            except PynamoDBException as exc:
                if aws.error_code(exc) != "ResourceInUseException":  # created by another
                    raise
        if wait:
            _wait_active(model, target, wait_timeout)
    except aws.errors() as exc:
        raise target.error(exc, "create", "dynamodb:DescribeTable, dynamodb:CreateTable") from None
    log.info(
        "dynamodb vault: table %s %s%s", table, "created" if created else "exists", target.where
    )
    return created


def _wait_active(model: type[VaultItem], target: TableTarget, timeout: float) -> None:
    """Poll DescribeTable until ACTIVE (pynamodb's own wait loop has no time limit)."""
    deadline = time.monotonic() + timeout
    delay = 0.2
    while True:
        status = model.describe_table().get("TableStatus")
        if status == "ACTIVE":
            return
        if time.monotonic() >= deadline:
            raise VaultError(
                f"DynamoDB table '{target.table}'{target.where} is still {status} after "
                f"{timeout:.0f}s; check it in the AWS console and retry"
            )
        time.sleep(delay)
        delay = min(delay * 2, 5.0)


def create_companion_tables(
    vault_table: str = DEFAULT_TABLE,
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    profile: str | None = None,
) -> list[tuple[str, bool]]:
    """Create `<table>-keys` and `<table>-audit` if missing: (name, created) for each."""
    target = TableTarget.resolve(vault_table, region, endpoint_url, profile)
    tables = [CompanionTable(target, suffix) for suffix in COMPANIONS]
    return [(t.table, t.create()) for t in tables]

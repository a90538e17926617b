"""A DynamoDB vault, written with pynamodb, in the reference design's table layout.

Layout (one item per token; see docs/dynamodb.md):

    MessageHash  S  hash key   SHA3-256 hex of the de-identified note
    EntityHash   S  range key  the token standing in that note
    Entity       B             the sealed value (AES-256-GCM, sealed by the caller)
    EntityType   S, CreatedAt S (ISO-8601 UTC), KeyId S, Offset N

The hash key lets re-identification read one note's tokens with a single Query; the range key
keeps the tokens of one note apart. The vault only ever sees ciphertext.

Errors become `VaultError` with one actionable line naming the table, region, endpoint and
error code: never an item, since log lines and messages may leave the trust boundary.
"""

from __future__ import annotations

import functools
import logging
import os
import random
import time
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, cast

import botocore.exceptions
import botocore.session
from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, PynamoDBException, TableDoesNotExist
from pynamodb.models import Model

from phiguard.errors import VaultError
from phiguard.vaults.base import VaultRecord

__all__ = ["BATCH_SIZE", "DEFAULT_TABLE", "DynamoDBVault", "create_table"]

log = logging.getLogger(__name__)

DEFAULT_TABLE = "phiguard-vault"
BATCH_SIZE = 25  # DynamoDB's BatchWriteItem limit: a 26-item request is rejected
LOCAL_SIGNING_REGION = "us-east-1"  # only for --endpoint-url servers, which ignore it

# Rounds of re-sending the items a BatchWriteItem left unprocessed (pynamodb retries them itself
# `max_retry_attempts` times per round, back to back); between rounds we back off exponentially
# with full jitter, so the whole put is bounded (~0.1+0.2+...+3.2 s = at most ~6.3 s of sleep).
UNPROCESSED_ROUNDS = 6
BACKOFF_BASE_S = 0.1
BACKOFF_CAP_S = 5.0

_THROTTLED = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
}
_BAD_CREDENTIALS = {
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "InvalidClientTokenId",
    "ExpiredTokenException",
    "ExpiredToken",
    "MissingAuthenticationTokenException",
    "IncompleteSignatureException",
}
_UNREACHABLE = (
    botocore.exceptions.EndpointConnectionError,
    botocore.exceptions.ConnectTimeoutError,
    botocore.exceptions.ReadTimeoutError,
    botocore.exceptions.ConnectionClosedError,
)

_AWS_ERRORS = (
    PynamoDBException,
    botocore.exceptions.BotoCoreError,
    botocore.exceptions.ClientError,  # not a BotoCoreError; pynamodb lets some through raw
)

_WRITE = "dynamodb:BatchWriteItem"

Credentials = tuple[str, str, str | None]  # access key id, secret, session token


class _VaultItem(Model):
    """The item layout every vault table shares; `_model_for` subclasses it per table.

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
def _model_for(
    table: str,
    region: str,
    endpoint_url: str | None,
    credentials: Credentials | None,
    connect_timeout: float,
    max_retry_attempts: int,
) -> type[_VaultItem]:
    """The Model class for one table/region/endpoint/identity, built once per process.

    Cached so that vaults on the same table share one class and so one pooled connection.
    `credentials` is None to let botocore's default chain (env, profile, SSO, instance role)
    resolve and refresh them; a `profile` is resolved to frozen credentials by the caller.
    """
    meta_attrs: dict[str, Any] = {
        "table_name": table,
        "region": region,
        "host": endpoint_url,
        "connect_timeout_seconds": connect_timeout,
        "read_timeout_seconds": 30,
        # botocore "standard" retries: exponential backoff on throttling and transient errors
        "max_retry_attempts": max_retry_attempts,
    }
    if credentials is not None:
        meta_attrs["aws_access_key_id"] = credentials[0]
        meta_attrs["aws_secret_access_key"] = credentials[1]
        meta_attrs["aws_session_token"] = credentials[2]
    meta = type("Meta", (), meta_attrs)
    name = "VaultItem_" + "".join(c if c.isalnum() else "_" for c in table)
    return cast(type[_VaultItem], type(name, (_VaultItem,), {"Meta": meta}))


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Target:
    """Where a vault points, resolved once: region, credentials, the cached Model class."""

    def __init__(
        self,
        table: str,
        region: str | None,
        endpoint_url: str | None,
        profile: str | None,
        connect_timeout: float,
        max_retry_attempts: int,
    ) -> None:
        if not table:
            raise VaultError("DynamoDB table name is empty; pass --table NAME")
        self.table = table
        self.endpoint_url = endpoint_url
        self.profile = profile
        credentials: Credentials | None = None
        try:
            session = botocore.session.Session(profile=profile)
            resolved_region = region or session.get_config_variable("region")
            if profile is not None:
                # pynamodb builds its own botocore session with no profile; hand it the
                # profile's credentials instead (frozen: re-open the vault when they expire).
                creds = session.get_credentials()
                frozen = creds.get_frozen_credentials() if creds is not None else None
                if frozen is None or not frozen.access_key or not frozen.secret_key:
                    raise VaultError(
                        f"AWS profile '{profile}' has no usable credentials; "
                        f"run `aws sso login --profile {profile}` or fix ~/.aws/credentials"
                    )
                credentials = (frozen.access_key, frozen.secret_key, frozen.token)
        except botocore.exceptions.ProfileNotFound:
            raise VaultError(
                f"AWS profile '{profile}' not found in ~/.aws/config or ~/.aws/credentials"
            ) from None
        except botocore.exceptions.BotoCoreError as exc:
            if profile is None:
                raise self.error(exc, "open", "botocore session") from None
            raise VaultError(
                f"could not load the credentials of AWS profile '{profile}' "
                f"({type(exc).__name__}: {_one_line(str(exc), 120)}); "
                f"run `aws sso login --profile {profile}` or fix the profile"
            ) from None
        # botocore reads AWS_DEFAULT_REGION only; the AWS CLI and other SDKs also honour AWS_REGION
        resolved_region = resolved_region or os.environ.get("AWS_REGION")
        if not resolved_region and endpoint_url:
            resolved_region = LOCAL_SIGNING_REGION
        if not resolved_region:
            raise VaultError(
                "no AWS region configured for the DynamoDB vault; pass --region, "
                "or set AWS_REGION / AWS_DEFAULT_REGION, or a region in your AWS profile"
            )
        self.region: str = resolved_region
        self.model = _model_for(
            table, self.region, endpoint_url, credentials, connect_timeout, max_retry_attempts
        )

    @property
    def where(self) -> str:
        region = getattr(self, "region", None) or "(unresolved)"  # errors while resolving it
        return f"endpoint {self.endpoint_url}" if self.endpoint_url else f"region {region}"

    def error(self, exc: BaseException, verb: str, actions: str) -> VaultError:
        """Translate a pynamodb/botocore failure into one actionable, PHI-free line.

        `verb` says what we tried ("write"), `actions` the IAM actions involved, so that an
        AccessDenied line tells the admin exactly what to grant.
        """
        cause: BaseException = exc
        if isinstance(exc, PynamoDBException) and exc.cause is not None:
            cause = exc.cause
        region = getattr(self, "region", None) or "(unresolved)"
        table = self.table
        missing = VaultError(
            f"DynamoDB table '{table}' does not exist in region {region}"
            + (f" at {self.endpoint_url}" if self.endpoint_url else "")
            + f"; create it with `phiguard vault create-table --table {table}`"
        )
        if isinstance(cause, TableDoesNotExist):
            return missing
        if isinstance(cause, botocore.exceptions.ClientError):
            from phiguard.keys.kms import error_code

            err = cause.response.get("Error", {})
            code = error_code(cause.response)  # also reads XML error bodies (moto's IAM layer)
            if code == "ResourceNotFoundException":
                return missing
            if code in {"AccessDeniedException", "AccessDenied"}:
                return VaultError(
                    f"access denied: this AWS identity may not {verb} DynamoDB table '{table}' "
                    f"({actions}) in {self.where}; see the IAM policies in docs/dynamodb.md"
                )
            if code in _BAD_CREDENTIALS:
                return VaultError(
                    f"AWS credentials were rejected by DynamoDB in {self.where} ({code}); "
                    "refresh them (e.g. `aws sso login`) or choose another --profile"
                )
            if code in _THROTTLED:
                return VaultError(
                    f"DynamoDB throughput exceeded on table '{table}' in {self.where} after "
                    f"retries ({code}); retry later, or use on-demand (PAY_PER_REQUEST) billing"
                )
            message = _one_line(str(err.get("Message", "")))
            return VaultError(
                f"DynamoDB {actions} on table '{table}' in {self.where} failed: {code}"
                + (f": {message}" if message else "")
            )
        if isinstance(
            cause,
            botocore.exceptions.NoCredentialsError | botocore.exceptions.PartialCredentialsError,
        ):
            return VaultError(
                "no AWS credentials found for the DynamoDB vault; pass --profile, set "
                "AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run under an IAM role"
            )
        if isinstance(cause, botocore.exceptions.NoRegionError):
            return VaultError(
                "no AWS region configured for the DynamoDB vault; pass --region, "
                "or set AWS_REGION / AWS_DEFAULT_REGION"
            )
        if isinstance(cause, _UNREACHABLE):
            target = self.endpoint_url or f"the DynamoDB endpoint of region {region}"
            return VaultError(
                f"cannot reach {target} ({type(cause).__name__}); check --endpoint-url, "
                "--region and the network, then retry"
            )
        return VaultError(
            f"DynamoDB {actions} on table '{table}' in {self.where} failed: "
            f"{type(cause).__name__}: {_one_line(str(cause))}"
        )


def _op_key(op: Any) -> tuple[str, str]:
    """(MessageHash, EntityHash) of an unprocessed PutRequest or DeleteRequest."""
    raw = op["PutRequest"]["Item"] if "PutRequest" in op else op["DeleteRequest"]["Key"]
    return raw["MessageHash"]["S"], raw["EntityHash"]["S"]


class DynamoDBVault:
    """Tokens in a DynamoDB table, one item per token, keyed by (MessageHash, EntityHash).

    `region`/`profile` default to botocore's standard chain (AWS_PROFILE, AWS_DEFAULT_REGION,
    AWS_REGION, ~/.aws). `endpoint_url` points at DynamoDB Local, dynalite or a VPC endpoint.
    """

    name = "dynamodb"

    def __init__(
        self,
        table: str = DEFAULT_TABLE,
        region: str | None = None,
        endpoint_url: str | None = None,
        profile: str | None = None,
        *,
        connect_timeout: float = 5.0,
        max_retry_attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._target = _Target(
            table, region, endpoint_url, profile, connect_timeout, max_retry_attempts
        )
        self._sleep = sleep
        self._closed = False

    @property
    def table(self) -> str:
        return self._target.table

    @property
    def region(self) -> str:
        return self._target.region

    def put(self, records: Sequence[VaultRecord]) -> None:
        """Store `records`; returns once DynamoDB acknowledged every item.

        Items go in BatchWriteItem requests of at most 25. Items DynamoDB leaves unprocessed
        (throttling, partition limits) are re-sent with bounded exponential backoff; if some are
        still unwritten, VaultError is raised and the note must not be released. Writes are
        idempotent (same key, same item), so the caller may simply retry a failed put.
        """
        self._check_open()
        items = self._dedupe(records)
        model = self._target.model
        for start in range(0, len(items), BATCH_SIZE):
            self._write_batch(model, items[start : start + BATCH_SIZE])
        if items:
            log.debug(
                "dynamodb vault: stored %d item(s) for %d message(s) in table %s",
                len(items),
                len({r.message_hash for r in items}),
                self.table,
            )

    def get(self, message_hash: str) -> list[VaultRecord]:
        """All records of one note, by a strongly consistent Query (so a put just made is seen).

        pynamodb follows LastEvaluatedKey, so notes over 1 MB of items are read whole.
        Returned in offset order.
        """
        self._check_open()
        model = self._target.model
        try:
            items = list(model.query(message_hash, consistent_read=True))
        except _AWS_ERRORS as exc:
            raise self._target.error(exc, "read", "dynamodb:Query") from None
        records = [
            VaultRecord(
                message_hash=item.message_hash,
                token=item.token,
                type=item.entity_type,
                ciphertext=bytes(item.ciphertext),
                key_id=item.key_id,
                offset=int(item.offset),
                created_at=item.created_at,
            )
            for item in items
        ]
        records.sort(key=lambda r: (r.offset, r.token))
        log.debug(
            "dynamodb vault: read %d item(s) for message %s… from table %s",
            len(records),
            message_hash[:12],
            self.table,
        )
        return records

    @property
    def location(self) -> str:
        t = self._target
        return f"dynamodb:{t.region}:{t.endpoint_url or ''}:{t.table}"

    def delete(self, keys: Sequence[tuple[str, str]]) -> None:
        """Remove items by (MessageHash, EntityHash), with DeleteRequests in BatchWriteItem
        (the writer's own permission: no read is needed, the caller names the keys)."""
        self._check_open()
        model = self._target.model
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), BATCH_SIZE):
            chunk = unique[start : start + BATCH_SIZE]
            self._batch(model, [model(h, t) for h, t in chunk], delete=True)
        if unique:
            log.debug("dynamodb vault: deleted %d item(s) from table %s", len(unique), self.table)

    def records_not_sealed_with(self, key_id: str, limit: int) -> list[VaultRecord]:
        """Up to `limit` items sealed by any key but `key_id` (for `phiguard vault rotate-key
        --new-key-file`): a filtered, strongly consistent Scan from the start of the table, so
        a rotation resumes where it stopped; each call reads the already-rotated part again.
        """
        self._check_open()
        model = self._target.model
        try:
            items = list(model.scan(model.key_id != key_id, limit=limit, consistent_read=True))
        except _AWS_ERRORS as exc:
            raise self._target.error(exc, "scan", "dynamodb:Scan") from None
        return [
            VaultRecord(
                item.message_hash,
                item.token,
                item.entity_type,
                bytes(item.ciphertext),
                item.key_id,
                int(item.offset),
                item.created_at,
            )
            for item in items[:limit]
        ]

    def close(self) -> None:
        """Mark the vault closed; the pooled connection is shared by the cached Model class."""
        self._closed = True

    def __enter__(self) -> DynamoDBVault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise VaultError("the DynamoDB vault is closed")

    def _dedupe(self, records: Sequence[VaultRecord]) -> list[VaultRecord]:
        """Drop repeats: DynamoDB rejects a batch holding one key twice.

        With consistent pseudonyms two identical notes give the same keys, sealed with fresh
        nonces (different ciphertexts) at the same offset: either copy opens to the same value,
        so the later one is kept. A repeat at another offset or type is a bug and refused.
        """
        seen: dict[tuple[str, str], VaultRecord] = {}
        for r in records:
            key = (r.message_hash, r.token)
            prior = seen.get(key)
            if prior is not None and (prior.offset, prior.type) != (r.offset, r.type):
                raise VaultError(
                    f"two different records for token {r.token[:12]}… of message "
                    f"{r.message_hash[:12]}… in one put; tokens must be unique per message"
                )
            seen[key] = r
        return list(seen.values())

    def _write_batch(self, model: type[_VaultItem], batch: Sequence[VaultRecord]) -> None:
        self._batch(
            model,
            [
                model(
                    r.message_hash,
                    r.token,
                    ciphertext=r.ciphertext,
                    entity_type=r.type,
                    created_at=r.created_at,
                    key_id=r.key_id,
                    offset=r.offset,
                )
                for r in batch
            ],
            delete=False,
        )

    def _batch(self, model: type[_VaultItem], items: list[_VaultItem], *, delete: bool) -> None:
        """One BatchWriteItem of puts or deletes, re-sending unprocessed items with backoff."""
        by_key = {(i.message_hash, i.token): i for i in items}
        pending = list(by_key.values())
        for round_ in range(UNPROCESSED_ROUNDS + 1):
            # pynamodb's BatchWrite re-sends UnprocessedItems `max_retry_attempts` times back to
            # back (no backoff), then raises PutError and leaves them in `failed_operations`.
            writer = model.batch_write(auto_commit=False)
            try:
                for item in pending:
                    if delete:
                        writer.delete(item)
                    else:
                        writer.save(item)
                writer.commit()
                return
            except PutError as exc:
                if not writer.failed_operations:
                    raise self._target.error(exc, "write", _WRITE) from None
                pending = [by_key[_op_key(op)] for op in writer.failed_operations]
            except _AWS_ERRORS as exc:
                raise self._target.error(exc, "write", _WRITE) from None
            if round_ < UNPROCESSED_ROUNDS:
                delay = random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**round_))
                log.info(
                    "dynamodb vault: %d item(s) unprocessed, retrying in %.2fs (round %d/%d)",
                    len(pending),
                    delay,
                    round_ + 1,
                    UNPROCESSED_ROUNDS,
                )
                self._sleep(delay)
        self._give_up(len(pending))

    def _give_up(self, count: int) -> NoReturn:
        t = self._target
        raise VaultError(
            f"DynamoDB throughput exceeded on table '{t.table}' in {t.where}: {count} item(s) "
            f"still unprocessed after {UNPROCESSED_ROUNDS} retries; nothing was released, "
            "retry later or use on-demand (PAY_PER_REQUEST) billing"
        )


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
    target = _Target(table, region, endpoint_url, profile, 5.0, 3)
    model = target.model
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
                cause = exc.cause
                code = (
                    cause.response.get("Error", {}).get("Code")
                    if isinstance(cause, botocore.exceptions.ClientError)
                    else None
                )
                if code != "ResourceInUseException":  # someone else created it meanwhile
                    raise
        if wait:
            _wait_active(model, target, wait_timeout)
    except _AWS_ERRORS as exc:
        raise target.error(exc, "create", "dynamodb:DescribeTable, dynamodb:CreateTable") from None
    log.info(
        "dynamodb vault: table %s %s in %s", table, "created" if created else "exists", target.where
    )
    return created


def _wait_active(model: type[_VaultItem], target: _Target, timeout: float) -> None:
    """Poll DescribeTable until ACTIVE (pynamodb's own wait loop has no time limit)."""
    deadline = time.monotonic() + timeout
    delay = 0.2
    while True:
        status = model.describe_table().get("TableStatus")
        if status == "ACTIVE":
            return
        if time.monotonic() >= deadline:
            raise VaultError(
                f"DynamoDB table '{target.table}' in {target.where} is still {status} after "
                f"{timeout:.0f}s; check it in the AWS console and retry"
            )
        time.sleep(delay)
        delay = min(delay * 2, 5.0)

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

import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from pynamodb.exceptions import PutError

from phiguard import aws
from phiguard.errors import VaultError
from phiguard.vaults.base import (
    AuditLog,
    BaseVault,
    Capability,
    KeyStore,
    VaultRecord,
)
from phiguard.vaults.dynamodb.audit import DynamoDBAuditLog
from phiguard.vaults.dynamodb.keys import DynamoDBKeyStore
from phiguard.vaults.dynamodb.tables import (
    DEFAULT_TABLE,
    TableTarget,
    VaultItem,
    create_companion_tables,
    create_table,
    model_for,
)

__all__ = [
    "BATCH_SIZE",
    "DEFAULT_TABLE",
    "DynamoDBVault",
    "create_companion_tables",
    "create_table",
]

log = logging.getLogger(__name__)

BATCH_SIZE = 25  # DynamoDB's BatchWriteItem limit: a 26-item request is rejected

# Rounds of re-sending the items a BatchWriteItem left unprocessed (pynamodb retries them itself
# `max_retry_attempts` times per round, back to back); between rounds we back off exponentially
# with full jitter, so the whole put is bounded (~0.1+0.2+...+3.2 s = at most ~6.3 s of sleep).
UNPROCESSED_ROUNDS = 6
BACKOFF_BASE_S = 0.1
BACKOFF_CAP_S = 5.0

_WRITE = "dynamodb:BatchWriteItem"


def _op_key(op: Any) -> tuple[str, str]:
    """(MessageHash, EntityHash) of an unprocessed PutRequest or DeleteRequest."""
    raw = op["PutRequest"]["Item"] if "PutRequest" in op else op["DeleteRequest"]["Key"]
    return raw["MessageHash"]["S"], raw["EntityHash"]["S"]


class DynamoDBVault(BaseVault):
    """Tokens in a DynamoDB table, one item per token, keyed by (MessageHash, EntityHash).

    `region`/`profile` default to botocore's standard chain (AWS_PROFILE, AWS_DEFAULT_REGION,
    AWS_REGION, ~/.aws). `endpoint_url` points at DynamoDB Local, dynalite or a VPC endpoint.
    Wrapped keys and the audit trail live in the companion tables `<table>-keys` and
    `<table>-audit` (phiguard.vaults.dynamodb.tables), at the same place.
    """

    name = "dynamodb"
    capabilities = frozenset(Capability)

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
        self._target = TableTarget.resolve(table, region, endpoint_url, profile)
        self._model = model_for(self._target, connect_timeout, max_retry_attempts)
        self._sleep = sleep
        self._closed = False
        self._keys: DynamoDBKeyStore | None = None
        self._audit: DynamoDBAuditLog | None = None

    @property
    def table(self) -> str:
        return self._target.table

    @property
    def region(self) -> str:
        return self._target.aws_target.region or ""

    def key_store(self) -> KeyStore:
        """`<table>-keys`, at this vault's region, endpoint and profile."""
        if self._keys is None:
            self._keys = DynamoDBKeyStore(self._target)
        return self._keys

    def audit_log(self) -> AuditLog:
        """`<table>-audit`, at this vault's region, endpoint and profile."""
        if self._audit is None:
            self._audit = DynamoDBAuditLog(self._target)
        return self._audit

    def put(self, records: Sequence[VaultRecord]) -> None:
        """Store `records`; returns once DynamoDB acknowledged every item.

        Items go in BatchWriteItem requests of at most 25. Items DynamoDB leaves unprocessed
        (throttling, partition limits) are re-sent with bounded exponential backoff; if some are
        still unwritten, VaultError is raised and the note must not be released. Writes are
        idempotent (same key, same item), so the caller may simply retry a failed put.
        """
        self._check_open()
        items = self._dedupe(records)
        model = self._model
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
        model = self._model
        try:
            items = list(model.query(message_hash, consistent_read=True))
        except aws.errors() as exc:
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
        return f"dynamodb:{t.aws_target.region}:{t.aws_target.endpoint_url or ''}:{t.table}"

    def delete(self, keys: Sequence[tuple[str, str]]) -> None:
        """Remove items by (MessageHash, EntityHash), with DeleteRequests in BatchWriteItem
        (the writer's own permission: no read is needed, the caller names the keys)."""
        self._check_open()
        model = self._model
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
        model = self._model
        try:
            items = list(model.scan(model.key_id != key_id, limit=limit, consistent_read=True))
        except aws.errors() as exc:
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

    def _write_batch(self, model: type[VaultItem], batch: Sequence[VaultRecord]) -> None:
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

    def _batch(self, model: type[VaultItem], items: list[VaultItem], *, delete: bool) -> None:
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
            except aws.errors() as exc:
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
            f"DynamoDB throughput exceeded on table '{t.table}'{t.where}: {count} item(s) "
            f"still unprocessed after {UNPROCESSED_ROUNDS} retries; nothing was released, "
            "retry later or use on-demand (PAY_PER_REQUEST) billing"
        )

"""The re-identification audit trail: who revealed how many values of which notes, and when.

Fail closed: `Auditor.record_reid` is called after a note was decrypted but before its text is
returned, and any failure to store the record raises, so no audit means no re-identification.

Records never hold values or text: the actor, the time, the message hashes (already public in
the de-identified text) and counts. They live next to the vault: the `audit` table of the SQLite
file (append-only: UPDATE and DELETE are refused by triggers), or the DynamoDB table
`<vault table>-audit` (hash key `AuditId`).
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from phiguard.errors import PhiguardError, VaultError
from phiguard.keys.kms import CompanionTable

ACTION_REID = "reid"


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
class AuditLog(Protocol):
    """Append-only store of audit records; `append_audit` returns once the record is durable."""

    def append_audit(self, record: AuditRecord) -> None: ...

    def audit_records(self) -> list[AuditRecord]: ...


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


def aws_actor(
    region: str | None = None, profile: str | None = None, endpoint_url: str | None = None
) -> str:
    """The AWS principal (sts:GetCallerIdentity ARN) whose credentials read the vault.

    For a vault at a non-AWS `endpoint_url` (DynamoDB Local, tests) STS is asked only if an STS
    endpoint is configured (AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL); otherwise the OS user is
    recorded and marked as such.
    """
    from phiguard.keys.kms import aws_client, aws_errors, aws_failure

    if endpoint_url and not (
        os.environ.get("AWS_ENDPOINT_URL_STS") or os.environ.get("AWS_ENDPOINT_URL")
    ):
        return f"{os_actor()} (local endpoint, no STS)"
    what = "identify the caller for the audit log (sts:GetCallerIdentity); nothing was revealed"
    try:
        arn = aws_client("sts", region, profile).get_caller_identity()["Arn"]
    except aws_errors() as exc:
        raise aws_failure(exc, what) from None
    except PhiguardError as exc:
        raise VaultError(f"cannot {what}: {exc}") from None
    return f"aws:{arn}"


class Auditor:
    """Writes one record per re-identified note, as `actor`, grouped by a per-process session."""

    def __init__(self, log: AuditLog, actor: str) -> None:
        self.log = log
        self.actor = actor
        self.session = uuid.uuid4().hex
        self.host = socket.gethostname()

    def record_reid(self, message_hashes: Sequence[str], values: int) -> None:
        record = AuditRecord(
            at=datetime.now(UTC).isoformat(timespec="milliseconds"),
            actor=self.actor,
            action=ACTION_REID,
            message_hashes=tuple(message_hashes),
            values=values,
            session=self.session,
            host=self.host,
        )
        try:
            self.log.append_audit(record)
        except PhiguardError as exc:
            raise VaultError(f"audit record not stored, nothing revealed: {exc}") from None


class MemoryAuditLog:
    """For tests and library users with their own persistence."""

    def __init__(self) -> None:
        self.records: list[AuditRecord] = []

    def append_audit(self, record: AuditRecord) -> None:
        self.records.append(record)

    def audit_records(self) -> list[AuditRecord]:
        return list(self.records)


class DynamoDBAuditLog(CompanionTable):
    """Audit records in the companion table `<vault table>-audit` (hash key `AuditId`)."""

    suffix = "-audit"

    def append_audit(self, record: AuditRecord) -> None:
        from phiguard.keys.kms import aws_errors, aws_failure

        item = {
            "AuditId": {"S": f"{record.at}#{uuid.uuid4().hex}"},
            "At": {"S": record.at},
            "Actor": {"S": record.actor},
            "Action": {"S": record.action},
            "MessageHashes": {"L": [{"S": h} for h in record.message_hashes]},
            "Values": {"N": str(record.values)},
            "Session": {"S": record.session},
            "Host": {"S": record.host},
        }
        try:
            self._client.put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression="attribute_not_exists(AuditId)",
            )
        except aws_errors() as exc:
            raise aws_failure(exc, f"write the audit table '{self.table}' (PutItem)") from None

    def audit_records(self) -> list[AuditRecord]:
        from phiguard.keys.kms import aws_errors, aws_failure

        try:
            pages = self._client.get_paginator("scan").paginate(TableName=self.table)
            items = [i for page in pages for i in page.get("Items", [])]
        except aws_errors() as exc:
            raise aws_failure(exc, f"read the audit table '{self.table}' (Scan)") from None
        records = [
            AuditRecord(
                i["At"]["S"],
                i["Actor"]["S"],
                i["Action"]["S"],
                tuple(h["S"] for h in i["MessageHashes"]["L"]),
                int(i["Values"]["N"]),
                i["Session"]["S"],
                i["Host"]["S"],
            )
            for i in items
        ]
        return sorted(records, key=lambda r: r.at)


def create_companion_tables(
    vault_table: str,
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    profile: str | None = None,
) -> list[tuple[str, bool]]:
    """Create `<table>-keys` and `<table>-audit` if missing: (name, created) for each."""
    from phiguard.keys.kms import aws_client, create_dynamodb_table

    client = aws_client("dynamodb", region, profile, endpoint_url)
    return [
        (f"{vault_table}-keys", create_dynamodb_table(client, f"{vault_table}-keys", "KeyId")),
        (f"{vault_table}-audit", create_dynamodb_table(client, f"{vault_table}-audit", "AuditId")),
    ]


def records_json(records: Sequence[AuditRecord]) -> str:
    return json.dumps([r.to_dict() for r in records], indent=2) + "\n"


def open_auditor(
    vault: object,
    *,
    table: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    profile: str | None = None,
) -> Auditor:
    """The auditor for `vault`: its own audit log as the OS user, or `<table>-audit` as the
    AWS caller. Resolved before anything is decrypted, so a missing identity reveals nothing."""
    if isinstance(vault, AuditLog):
        return Auditor(vault, os_actor())
    if getattr(vault, "name", None) == "dynamodb":
        name = table or "phiguard-vault"
        log = DynamoDBAuditLog(name, region=region, endpoint_url=endpoint_url, profile=profile)
        return Auditor(log, aws_actor(region, profile, endpoint_url))
    raise VaultError("this vault has no audit log; re-identification is refused")


def open_audit_log(
    vault: object,
    *,
    table: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    profile: str | None = None,
) -> AuditLog:
    """The audit log to list (`phiguard vault audit`)."""
    if isinstance(vault, AuditLog):
        return vault
    name = table or "phiguard-vault"
    return DynamoDBAuditLog(name, region=region, endpoint_url=endpoint_url, profile=profile)

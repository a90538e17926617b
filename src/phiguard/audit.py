"""The re-identification audit trail: who revealed how many values of which notes, and when.

Fail closed: `Auditor.record_reid` is called after a note was decrypted but before its text is
returned, and any failure to store the record raises, so no audit means no re-identification.

Records never hold values or text: the actor, the time, the message hashes (already public in
the de-identified text) and counts. They live with the vault (`vault.audit_log()`): the `audit`
table of the SQLite file (append-only: UPDATE and DELETE are refused by triggers), or the
DynamoDB table `<vault table>-audit` (hash key `AuditId`). The log also says who the caller is
(`AuditLog.actor()`): the OS account for a file, the AWS principal for DynamoDB.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from phiguard.errors import PhiguardError, VaultError
from phiguard.vaults.base import AuditLog, AuditRecord, Capability, Vault, os_actor

__all__ = [
    "ACTION_REID",
    "AuditLog",
    "AuditRecord",
    "Auditor",
    "MemoryAuditLog",
    "open_audit_log",
    "open_auditor",
    "os_actor",
    "records_json",
]

ACTION_REID = "reid"
#: Decrypted and audited, then not delivered (the output could not be written): the trail says
#: what was actually released.
ACTION_UNDELIVERED = "reid-undelivered"


class Auditor:
    """Writes one record per re-identified note, as `actor`, grouped by a per-process session."""

    def __init__(self, log: AuditLog, actor: str) -> None:
        self.log = log
        self.actor = actor
        self.session = uuid.uuid4().hex
        self.host = socket.gethostname()

    def record_reid(self, message_hashes: Sequence[str], values: int) -> None:
        """Before the text is returned: no record, no text."""
        self._append(ACTION_REID, message_hashes, values)

    def record_undelivered(self, message_hashes: Sequence[str]) -> None:
        """After a failed write of notes already recorded as revealed."""
        self._append(ACTION_UNDELIVERED, message_hashes, 0)

    def _append(self, action: str, message_hashes: Sequence[str], values: int) -> None:
        record = AuditRecord(
            at=datetime.now(UTC).isoformat(timespec="milliseconds"),
            actor=self.actor,
            action=action,
            message_hashes=tuple(message_hashes),
            values=values,
            session=self.session,
            host=self.host,
        )
        try:
            self.log.append_audit(record)
        except PhiguardError as exc:
            raise VaultError(
                f"audit record not stored, nothing revealed: {exc}", hint=exc.hint
            ) from None


class MemoryAuditLog:
    """For tests and library users with their own persistence."""

    def __init__(self) -> None:
        self.records: list[AuditRecord] = []

    def append_audit(self, record: AuditRecord) -> None:
        self.records.append(record)

    def audit_records(self) -> list[AuditRecord]:
        return list(self.records)

    def actor(self) -> str:
        return os_actor()


def records_json(records: Sequence[AuditRecord]) -> str:
    return json.dumps([r.to_dict() for r in records], indent=2) + "\n"


def open_audit_log(vault: Vault) -> AuditLog:
    """The audit log kept with `vault` (`phiguard vault audit` lists it)."""
    if Capability.AUDIT not in vault.capabilities:
        raise VaultError(f"the {vault.name} vault keeps no audit log")
    return vault.audit_log()


def open_auditor(vault: Vault) -> Auditor:
    """The auditor for `vault`: its audit log, as the caller that log knows. Resolved before
    anything is decrypted, so a missing log or identity reveals nothing."""
    if Capability.AUDIT not in vault.capabilities:
        raise VaultError(f"the {vault.name} vault keeps no audit log; re-identification is refused")
    log = vault.audit_log()
    try:
        actor = log.actor()
    except PhiguardError as exc:
        raise type(exc)(f"{exc}; nothing was revealed", hint=exc.hint) from None
    return Auditor(log, actor)

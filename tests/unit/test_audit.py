"""Every re-identification is recorded before any value is released; no record, no values.

The CLI audit trails (SQLite, DynamoDB) are in tests/integration/test_audit.py.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from phiguard import Deidentifier, Sealer, VaultError
from phiguard.audit import Auditor, AuditRecord, MemoryAuditLog
from phiguard.detectors import BaseDetector
from phiguard.errors import ConfigError
from phiguard.spans import Span
from phiguard.vaults.base import BaseVault
from phiguard.vaults.memory import MemoryVault

NOTE = "Carlos Salazar, seen 11/12/2011 by Dr. Sarkar; Salazar agreed.\n"


class Fixed(BaseDetector):
    name = "fixed"

    def detect(self, text: str) -> list[Span]:
        return [Span(0, 14, "NAME"), Span(21, 31, "DATE"), Span(39, 45, "NAME")]


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


def test_os_actor_is_not_taken_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from phiguard.audit import os_actor

    monkeypatch.setenv("USER", "mallory")
    monkeypatch.setenv("LOGNAME", "mallory")
    actor = os_actor()
    assert "mallory" not in actor and f"uid {os.geteuid()}" in actor

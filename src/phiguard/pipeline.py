"""`Deidentifier`: detect → resolve → mask or tokenize → vault, with the fail-closed order.

A de-identified text is returned only after its mapping is durably stored; if detection or
the vault write fails, the caller gets an exception and no text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from phiguard.crypto import Sealer
from phiguard.detectors import Detector, get_detector
from phiguard.errors import ConfigError
from phiguard.reid import reidentify
from phiguard.resolve import Resolver
from phiguard.spans import Span
from phiguard.transform import MaskStyle, Tokenized, mask, tokenize
from phiguard.vaults.base import Vault, VaultRecord


@dataclass(frozen=True, slots=True)
class DeidResult:
    text: str
    message_hash: str
    spans: tuple[Span, ...]

    @property
    def token_count(self) -> int:
        return len(self.spans)


class Deidentifier:
    """The library's front door; the CLI is a thin client of it.

    Build one per process and reuse it: the detector (and its model) is loaded once.
    `vault` and `sealer` are needed only for `deidentify` and `reidentify`.
    """

    def __init__(
        self,
        detector: Detector | str = "local",
        *,
        resolver: Resolver | None = None,
        vault: Vault | None = None,
        sealer: Sealer | None = None,
        detector_options: dict[str, Any] | None = None,
    ) -> None:
        self.detector = (
            get_detector(detector, **(detector_options or {}))
            if isinstance(detector, str)
            else detector
        )
        self.resolver = resolver or Resolver()
        self.vault = vault
        self.sealer = sealer

    def detect(self, text: str) -> list[Span]:
        """Resolved PHI spans (merged, filtered), offsets into `text`."""
        if not text:
            return []
        return self.resolver(text, self.detector.detect(text))

    def mask(self, text: str, style: MaskStyle | str = MaskStyle.HASH) -> str:
        return mask(text, self.detect(text), style)

    def deidentify(self, text: str) -> DeidResult:
        vault, sealer = self._vault_and_sealer()
        spans = self.detect(text)
        tokenized = tokenize(text, spans)
        vault.put(self.records(tokenized, sealer))
        return DeidResult(tokenized.text, tokenized.message_hash, tuple(spans))

    def reidentify(self, text: str) -> str:
        vault, sealer = self._vault_and_sealer()
        return reidentify(text, vault, sealer)

    @staticmethod
    def records(tokenized: Tokenized, sealer: Sealer) -> list[VaultRecord]:
        """One encrypted row per distinct token of the message."""
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        mhash = tokenized.message_hash
        rows: dict[str, VaultRecord] = {}
        for r in tokenized.replacements:
            if r.token not in rows:
                rows[r.token] = VaultRecord(
                    mhash,
                    r.token,
                    r.type,
                    sealer.seal(mhash, r.token, r.value),
                    sealer.key_id,
                    r.offset,
                    now,
                )
        return list(rows.values())

    def _vault_and_sealer(self) -> tuple[Vault, Sealer]:
        if self.vault is None or self.sealer is None:
            raise ConfigError("deidentify/reidentify need a vault and a key (Sealer)")
        return self.vault, self.sealer

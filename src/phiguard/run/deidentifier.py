"""`Deidentifier`: detect → resolve → mask or tokenize → vault, with the fail-closed order.

A de-identified text is returned only after its mapping is durably stored; if detection or
the vault write fails, the caller gets an exception and no text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from phiguard.audit import Auditor, open_auditor
from phiguard.detectors import Detector, get_detector
from phiguard.errors import ConfigError
from phiguard.keys.pseudonym import Pseudonymizer
from phiguard.keys.sealer import Sealer
from phiguard.reid import reidentify
from phiguard.resolve import Resolver
from phiguard.spans import Span
from phiguard.transform import MaskStyle, Tokenized, mask, tokenize, with_lookalikes
from phiguard.vaults.base import Capability, Vault, VaultRecord

if TYPE_CHECKING:
    from phiguard.run.batch import BatchInput, Result


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
    `vault` and `sealer` are needed only for `deidentify` and `reidentify`. `pseudonymizer`
    turns on consistent tokens (same value, same token; see phiguard.keys.pseudonym). Every
    `reidentify` is audited: by `auditor`, else in the vault's own audit log as the caller that
    log knows (OS user, AWS principal); a vault with neither is refused.
    """

    def __init__(
        self,
        detector: Detector | str = "local",
        *,
        resolver: Resolver | None = None,
        vault: Vault | None = None,
        sealer: Sealer | None = None,
        detector_options: dict[str, Any] | None = None,
        pseudonymizer: Pseudonymizer | None = None,
        auditor: Auditor | None = None,
    ) -> None:
        self.detector = (
            get_detector(detector, **(detector_options or {}))
            if isinstance(detector, str)
            else detector
        )
        self.resolver = resolver or Resolver()
        self.vault = vault
        self.sealer = sealer
        self.pseudonymizer = pseudonymizer
        self.auditor = auditor

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
        tokenized = self.tokenize(text, spans)
        vault.put(self.records(tokenized, sealer))
        return DeidResult(tokenized.text, tokenized.message_hash, tuple(spans))

    def tokenize(self, text: str, spans: list[Span] | tuple[Span, ...]) -> Tokenized:
        """Tokens for resolved `spans`: consistent ones with a pseudonymizer, else fresh salts."""
        spans = with_lookalikes(text, spans)
        if self.pseudonymizer is not None:
            return tokenize(text, spans, self.pseudonymizer.token)
        return tokenize(text, spans)

    def reidentify(self, text: str) -> str:
        vault, sealer = self._vault_and_sealer()
        if self.auditor is None:
            if Capability.AUDIT not in vault.capabilities:
                raise ConfigError(
                    f"the {vault.name} vault has no audit log; pass auditor=Auditor(...)"
                )
            self.auditor = open_auditor(vault)
        return reidentify(text, vault, sealer, self.auditor)

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

    # Streaming batch API: thin delegations to phiguard.run.batch (options documented there).

    def detect_many(
        self, records: Iterable[BatchInput], *, workers: int = 1, **options: Any
    ) -> Iterator[Result[tuple[Span, ...]]]:
        """Spans per record, in order; a failing record yields an error, not an exception."""
        from phiguard.run import batch

        return batch.detect_many(records, self, workers=workers, **options)

    def mask_many(
        self,
        records: Iterable[BatchInput],
        style: MaskStyle | str = MaskStyle.HASH,
        *,
        workers: int = 1,
        **options: Any,
    ) -> Iterator[Result[str]]:
        """Masked text per record, in order, with `workers` detection processes."""
        from phiguard.run import batch

        return batch.mask_many(records, self, style=style, workers=workers, **options)

    def deidentify_many(
        self, records: Iterable[BatchInput], *, workers: int = 1, **options: Any
    ) -> Iterator[Result[DeidResult]]:
        """De-identified text per record, in order, each released after its rows commit."""
        from phiguard.run import batch

        return batch.deidentify_many(records, self, workers=workers, **options)

"""`Deidentifier`: detect → resolve → mask or tokenize → vault, with the fail-closed order.

A de-identified text is returned only after its mapping is durably stored; if detection or
the vault write fails, the caller gets an exception and no text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from phiguard.audit import Auditor, open_auditor
from phiguard.config import Config, DetectorConfig, RunOptions
from phiguard.detectors import Detector, get_detector
from phiguard.errors import ConfigError
from phiguard.keys.policy import open_keys
from phiguard.keys.pseudonym import Pseudonymizer
from phiguard.keys.sealer import Sealer
from phiguard.known import KnownPhi
from phiguard.reid import reidentify
from phiguard.resolve import Resolver
from phiguard.run import batch
from phiguard.run.executors import Stage
from phiguard.run.records import BatchInput, DeidResult, Result
from phiguard.spans import Span
from phiguard.transform import MaskStyle, Tokenized, mask, tokenize, with_lookalikes
from phiguard.vaults import open_store
from phiguard.vaults.base import Capability, Vault, VaultRecord


class Deidentifier:
    """The library's front door; the CLI, the server and Spark are thin clients of it.

    Build one per process and reuse it: the detector (and its model) is loaded once, on first
    use (so a re-identifying pipeline never loads a model). `detector` is a backend name, a
    `DetectorConfig`, or a detector instance. `vault` and
    `sealer` are needed only for `deidentify` and `reidentify`. `pseudonymizer` turns on
    consistent tokens (same value, same token; see phiguard.keys.pseudonym). Every `reidentify`
    is audited: by `auditor`, else in the vault's own audit log as the caller that log knows (OS
    user, AWS principal); a vault with neither is refused. `run` holds the batch defaults
    (workers, rate limits, vault groups).

    `Deidentifier.open(config)` builds all of it from one `Config`, opening the vault and keys
    as a writer (deid) or a reader (reid); `close()` (or `with`) closes what it opened.
    """

    def __init__(
        self,
        detector: Detector | DetectorConfig | str = "local",
        *,
        resolver: Resolver | None = None,
        vault: Vault | None = None,
        sealer: Sealer | None = None,
        detector_options: dict[str, Any] | None = None,
        pseudonymizer: Pseudonymizer | None = None,
        auditor: Auditor | None = None,
        run: RunOptions | None = None,
    ) -> None:
        if isinstance(detector, str):
            detector = DetectorConfig.of(detector, **(detector_options or {}))
        self._detector_source = detector
        self._detector: Detector | None = None if isinstance(detector, DetectorConfig) else detector
        self.resolver = resolver or Resolver()
        self.vault = vault
        self.sealer = sealer
        self.pseudonymizer = pseudonymizer
        self.auditor = auditor
        self.run = run or RunOptions()
        self._owned: Vault | None = None

    # -- building from a Config -----------------------------------------------------------

    @classmethod
    def open(cls, config: Config, *, vault: str | None = None) -> Deidentifier:
        """The pipeline `config` describes. `vault="write"` opens the vault and keys to write
        (deid: KMS data key or local key, pseudonyms with `consistent`), `"read"` to re-identify
        (the audit identity is resolved before anything is decrypted), None opens no vault
        (detect, mask). The detector is built on first use, so a reader loads no model."""
        d = cls(config.detector, resolver=config.resolver, run=config.run)
        if vault is None:
            return d
        if vault not in ("write", "read"):
            raise ConfigError(f"vault must be 'write', 'read' or None, not {vault!r}")
        writer = vault == "write"
        st = config.store
        opened = open_store(st, create=writer)
        try:
            d.sealer, d.pseudonymizer = open_keys(
                opened,
                writer=writer,
                key_file=config.keys.key_file,
                kms_key_id=config.keys.kms_key_id if writer else None,
                consistent=config.keys.consistent and writer,
                region=st.region,
                profile=st.profile,
            )
            if not writer:
                d.auditor = open_auditor(opened)
        except BaseException:
            opened.close()
            raise
        d.vault = d._owned = opened
        return d

    def close(self) -> None:
        """Close the vault `open` opened (a vault passed in is the caller's to close)."""
        if self._owned is not None:
            self._owned.close()
            self._owned = None

    def __enter__(self) -> Deidentifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def detector(self) -> Detector:
        if self._detector is None:
            source = self._detector_source
            assert isinstance(source, DetectorConfig)
            self._detector = get_detector(source.backend, **source.kwargs)
        return self._detector

    @property
    def stage(self) -> Stage:
        """What worker processes rebuild detection from: the config, or the instance."""
        return Stage(self._detector_source, self.resolver)

    # -- one note ---------------------------------------------------------------------------

    def detect(self, text: str, known: KnownPhi | None = None) -> list[Span]:
        """Resolved PHI spans (merged, filtered), offsets into `text`. `known`: PHI the caller
        already holds for this note (its patient's name, MRN...): found wherever it occurs."""
        if not text:
            return []
        return self.resolver(text, self.detector.detect(text), known)

    def mask(
        self, text: str, style: MaskStyle | str = MaskStyle.HASH, known: KnownPhi | None = None
    ) -> str:
        return mask(text, self.detect(text, known), style)

    def deidentify(self, text: str, known: KnownPhi | None = None) -> DeidResult:
        vault, sealer = self._vault_and_sealer()
        spans = self.detect(text, known)
        tokenized = self.tokenize(text, spans)
        vault.put(self.records(tokenized, sealer))
        return DeidResult(tokenized.text, tokenized.message_hash, tuple(spans))

    def tokenize(self, text: str, spans: list[Span] | tuple[Span, ...]) -> Tokenized:
        """Tokens for resolved `spans`: consistent ones with a pseudonymizer, else fresh salts."""
        spans = with_lookalikes(text, spans)
        if self.pseudonymizer is not None:
            return tokenize(text, spans, self.pseudonymizer.token)
        return tokenize(text, spans)

    def reidentify(
        self, text: str, *, message_hash: str | None = None, partial: bool = False
    ) -> str:
        """The original text (audited); see `phiguard.reidentify` for `message_hash`/`partial`."""
        vault, sealer = self._vault_and_sealer()
        if self.auditor is None:
            if Capability.AUDIT not in vault.capabilities:
                raise ConfigError(
                    f"the {vault.name} vault has no audit log; pass auditor=Auditor(...)"
                )
            self.auditor = open_auditor(vault)
        return reidentify(
            text, vault, sealer, self.auditor, message_hash=message_hash, partial=partial
        )

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

    # -- many notes: thin delegations to phiguard.run.batch (options documented there) -----

    def detect_many(
        self, records: Iterable[BatchInput], **options: Any
    ) -> Iterator[Result[tuple[Span, ...]]]:
        """Spans per record, in order; a failing record yields an error, not an exception."""
        return batch.detect_many(records, self, **options)

    def mask_many(
        self, records: Iterable[BatchInput], style: MaskStyle | str = MaskStyle.HASH, **options: Any
    ) -> Iterator[Result[str]]:
        """Masked text per record, in order, with `workers` detection processes."""
        return batch.mask_many(records, self, style=style, **options)

    def deidentify_many(
        self, records: Iterable[BatchInput], **options: Any
    ) -> Iterator[Result[DeidResult]]:
        """De-identified text per record, in order, each released after its rows commit."""
        return batch.deidentify_many(records, self, **options)

    def reidentify_many(
        self, records: Iterable[BatchInput], *, partial: bool = False
    ) -> Iterator[Result[str]]:
        """Original text per record, in order, each audited like `reidentify`."""
        return batch.reidentify_many(records, self, partial=partial)

"""`Deidentifier`: detect → resolve → transform (a policy) → vault, with the fail-closed order.

A de-identified text is returned only after its mapping is durably stored; if detection or
the vault write fails, the caller gets an exception and no text.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from phiguard.audit import Auditor, open_auditor
from phiguard.config import Config, DetectorConfig, RunOptions
from phiguard.detectors import Detector, get_detector
from phiguard.errors import ConfigError
from phiguard.keys.mapping import mapping_rows
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
from phiguard.surrogates import Scopes
from phiguard.transform import Action, MaskStyle, Policy, Transformed, apply, mask, masking
from phiguard.transform.engine import new_token
from phiguard.vaults import open_store
from phiguard.vaults.base import Capability, Vault, VaultRecord


class Deidentifier:
    """The library's front door; the CLI, the server and Spark are thin clients of it.

    Build one per process and reuse it: the detector (and its model) is loaded once, on first
    use (so a re-identifying pipeline never loads a model). `detector` is a backend name, a
    `DetectorConfig`, or a detector instance. `vault` and
    `sealer` are needed only for `deidentify`, `surrogate` and `reidentify`. `pseudonymizer`
    turns on consistent tokens (same value, same token; see phiguard.keys.pseudonym). Every
    `reidentify` is audited: by `auditor`, else in the vault's own audit log as the caller that
    log knows (OS user, AWS principal); a vault with neither is refused. `run` holds the batch
    defaults (workers, rate limits, vault groups).

    `policy` (phiguard.transform.Policy) is what `deidentify` and `surrogate` apply (default:
    their presets, all tokens and all surrogates). Surrogates need `surrogate_key` (bytes, or a
    function giving them on first use; `open` derives it from the vault key), and
    `consistent` gives one surrogate mapping for every note instead of one per note or patient.

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
        policy: Policy | None = None,
        surrogate_key: bytes | Callable[[], bytes] | None = None,
        consistent: bool = False,
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
        self.policy = policy
        self.consistent = consistent
        self._surrogate_key = surrogate_key
        self._scopes: dict[tuple[int, int, bool, bool], Scopes] = {}
        self._owned: Vault | None = None

    # -- building from a Config -----------------------------------------------------------

    @classmethod
    def open(cls, config: Config, *, vault: str | None = None) -> Deidentifier:
        """The pipeline `config` describes. `vault="write"` opens the vault and keys to write
        (deid: KMS data key or local key, pseudonyms with `consistent`), `"read"` to re-identify
        (the audit identity is resolved before anything is decrypted), None opens no vault
        (detect, mask). The detector is built on first use, so a reader loads no model."""
        d = cls(
            config.detector,
            resolver=config.resolver,
            run=config.run,
            policy=config.policy,
            consistent=config.keys.consistent,
        )
        if vault is None:
            return d
        if vault not in ("write", "read"):
            raise ConfigError(f"vault must be 'write', 'read' or None, not {vault!r}")
        writer = vault == "write"
        st = config.store
        opened = open_store(st, create=writer)
        try:
            keys = open_keys(
                opened,
                writer=writer,
                key_file=config.keys.key_file,
                kms_key_id=config.keys.kms_key_id if writer else None,
                consistent=config.keys.consistent and writer,
                region=st.region,
                profile=st.profile,
            )
            d.sealer, d.pseudonymizer = keys.sealer, keys.pseudonymizer
            d._surrogate_key = keys.surrogate_key
            if writer and config.policy is not None and config.policy.keyed:
                d.surrogate_key()  # a key problem (KMS) stops the run before any note
            if not writer:
                d.auditor = open_auditor(opened)
        except BaseException:
            opened.close()
            raise
        d.vault = d._owned = opened
        return d

    def with_resolver(self, resolver: Resolver) -> Deidentifier:
        """This pipeline with another resolver (a request's own threshold or lists), sharing
        its loaded detector, vault, keys and surrogate settings; closing it closes nothing."""
        clone = copy.copy(self)
        clone.resolver = resolver
        clone._owned = None
        return clone

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
        self,
        text: str,
        style: MaskStyle | str = MaskStyle.HASH,
        known: KnownPhi | None = None,
        *,
        policy: Policy | None = None,
    ) -> str:
        """Masked text: '#' per character, `[TYPE]` labels, or an irreversible `policy`."""
        if policy is None:
            return mask(text, self.detect(text, known), style)
        return apply(text, self.detect(text, known), masking(policy)).text

    def deidentify(
        self, text: str, known: KnownPhi | None = None, *, policy: Policy | None = None
    ) -> DeidResult:
        """Tokens for every span (or this pipeline's `policy`), stored before it returns."""
        return self._release(text, policy or self.policy or Policy.deid(), None, known)

    def surrogate(
        self,
        text: str,
        *,
        patient: str | None = None,
        policy: Policy | None = None,
        known: KnownPhi | None = None,
    ) -> DeidResult:
        """Realistic surrogates, dates shifted by the patient's offset (a lone note's without
        `patient`); the mapping is stored before it returns, so `reidentify` undoes it."""
        return self._release(text, policy or self.policy or Policy.surrogate(), patient, known)

    def _release(
        self, text: str, policy: Policy, patient: str | None, known: KnownPhi | None
    ) -> DeidResult:
        vault, _ = self._vault_and_sealer()
        spans = self.detect(text, known)
        transformed = self.transform(text, spans, policy, patient=patient)
        vault.put(self.rows(transformed))
        return DeidResult(transformed.text, transformed.message_hash, tuple(spans))

    def transform(
        self,
        text: str,
        spans: list[Span] | tuple[Span, ...],
        policy: Policy,
        *,
        patient: str | None = None,
    ) -> Transformed:
        """`policy` applied to resolved `spans`: consistent tokens with a pseudonymizer (else
        fresh salts), surrogates from the note's scope (phiguard.surrogates.Scopes)."""
        token = self.pseudonymizer.token if self.pseudonymizer is not None else new_token
        scope = self.scopes(policy).for_note(text, patient) if policy.keyed else None
        return apply(
            text,
            spans,
            policy,
            make_token=token,
            fresh_tokens=self.pseudonymizer is None,
            surrogates=scope,
        )

    def tokenize(self, text: str, spans: list[Span] | tuple[Span, ...]) -> Transformed:
        """Tokens for resolved `spans`: consistent ones with a pseudonymizer, else fresh salts."""
        return self.transform(text, spans, Policy.deid())

    def scopes(self, policy: Policy) -> Scopes:
        """The surrogate scopes for `policy`'s date settings (built once, then reused)."""
        k = (policy.min_days, policy.max_days, policy.keep_weekday, policy.day_first)
        found = self._scopes.get(k)
        if found is None:
            found = self._scopes[k] = Scopes(
                self.surrogate_key(),
                consistent=self.consistent,
                min_days=policy.min_days,
                max_days=policy.max_days,
                keep_weekday=policy.keep_weekday,
                day_first=policy.day_first,
            )
        return found

    def surrogate_key(self) -> bytes:
        """The key of surrogates, offsets and surrogate row keys (phiguard.keys.derived)."""
        source = self._surrogate_key
        if source is None:
            raise ConfigError(
                "surrogates need a surrogate key: open the pipeline to write "
                "(Deidentifier.open(config, vault='write')) or pass surrogate_key="
            )
        return source() if callable(source) else source

    def reidentify(
        self,
        text: str,
        *,
        message_hash: str | None = None,
        partial: bool = False,
        require_mapping: bool = False,
    ) -> str:
        """The original text (see phiguard.reid.reidentify), audited."""
        vault, sealer = self._vault_and_sealer()
        if self.auditor is None:
            if Capability.AUDIT not in vault.capabilities:
                raise ConfigError(
                    f"the {vault.name} vault has no audit log; pass auditor=Auditor(...)"
                )
            self.auditor = open_auditor(vault)
        return reidentify(
            text,
            vault,
            sealer,
            self.auditor,
            message_hash=message_hash,
            partial=partial,
            require_mapping=require_mapping,
        )

    def rows(self, transformed: Transformed) -> list[VaultRecord]:
        """The sealed vault rows of a transformed note (phiguard.keys.mapping)."""
        _, sealer = self._vault_and_sealer()
        has_surrogates = any(r.action is not Action.TOKEN for r in transformed.replacements)
        keyed = has_surrogates or (transformed.policy is not None and transformed.policy.keyed)
        return mapping_rows(transformed, sealer, self.surrogate_key() if keyed else None)

    @staticmethod
    def records(tokenized: Transformed, sealer: Sealer) -> list[VaultRecord]:
        """One encrypted row per distinct token of a note with tokens only."""
        return mapping_rows(tokenized, sealer)

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
        self,
        records: Iterable[BatchInput],
        style: MaskStyle | str = MaskStyle.HASH,
        *,
        policy: Policy | None = None,
        **options: Any,
    ) -> Iterator[Result[str]]:
        """Masked text per record, in order, with `workers` detection processes."""
        return batch.mask_many(records, self, style=style, policy=policy, **options)

    def deidentify_many(
        self, records: Iterable[BatchInput], **options: Any
    ) -> Iterator[Result[DeidResult]]:
        """De-identified text per record, in order, each released after its rows commit."""
        return batch.deidentify_many(records, self, **options)

    def surrogate_many(
        self, records: Iterable[BatchInput], **options: Any
    ) -> Iterator[Result[DeidResult]]:
        """Surrogate text per record, in order, each released after its rows commit; an
        `Item`'s `patient` groups a patient's notes (one offset, one name mapping)."""
        return batch.surrogate_many(records, self, **options)

    def reidentify_many(
        self,
        records: Iterable[BatchInput],
        *,
        partial: bool = False,
        require_mapping: bool = False,
    ) -> Iterator[Result[str]]:
        """Original text per record, in order, each audited like `reidentify`."""
        return batch.reidentify_many(
            records, self, partial=partial, require_mapping=require_mapping
        )

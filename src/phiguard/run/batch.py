"""Streaming batch API: many notes in, one `Result` per note out, in the same order.

- **Generators in, generators out**, memory flat: see `phiguard.run.executors` for how
  detection is scheduled (inline, worker processes, or threads under a rate limit).
- **One failed record never stops the batch.** Every input yields exactly one `Result`,
  holding either the output or a `Failure` (its kind and PHI-free message).
- **Fail closed, one vault writer.** This process tokenizes, seals and writes the vault, in
  input order. Rows of a group of records go in one `vault.put` (one SQLite transaction;
  DynamoDB batches of 25 inside the vault), and no record of the group is yielded before that
  call returns. A vault failure is not a record's fault (server gone, throttled past retries,
  access denied): it ends the run with `VaultError`, records already yielded being stored.
- **No orphan rows.** By default a run journal (`phiguard.vaults.journal`) records each
  group's keys before the write and marks its notes released just before they are yielded:
  when the generator ends early or fails, the rows of notes not yielded are deleted again, and
  interrupted runs' leftovers are swept first.
- **Deterministic rows are never journaled.** Only a note whose text holds a fresh-salt token
  is this run's alone. A note whose output is deterministic (surrogates, consistent tokens, or
  nothing replaced) can be written, byte for byte and with the same row keys, by another run
  that released it: deleting "this run's" rows could take that note's mapping away. Such rows
  are idempotent (a re-run rewrites the same keys) and stay if the run fails (sealed, keyed by
  a text nobody was given); see docs/surrogates.md.

Options: every keyword (workers, chunk_size, max_in_flight, max_tps, vault_batch, max_delay,
mp_context) overrides the pipeline's `RunOptions` (see phiguard.config) for this call.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from phiguard.config import RunOptions
from phiguard.detectors import Detector
from phiguard.errors import ConfigError, Failure
from phiguard.keys.pseudonym import Pseudonymizer
from phiguard.keys.sealer import Sealer
from phiguard.run.executors import Detected, Stage, detected
from phiguard.run.records import BatchInput, DeidResult, Item, Result, as_item
from phiguard.spans import Span
from phiguard.transform import MaskStyle, Policy, Transformed, apply, mask, masking
from phiguard.vaults.base import Vault, VaultRecord
from phiguard.vaults.journal import Journal, sweep

__all__ = [
    "Pipeline",
    "deidentify_many",
    "detect_many",
    "mask_many",
    "reidentify_many",
    "surrogate_many",
]

#: `journal="auto"`: journal when the vault can delete rows and tokens are fresh-salt ones.
JournalChoice = Journal | Literal["auto"] | None


class Pipeline(Protocol):
    """What the batch functions need from a `phiguard.Deidentifier`."""

    @property
    def detector(self) -> Detector: ...

    @property
    def stage(self) -> Stage: ...

    run: RunOptions
    vault: Vault | None
    sealer: Sealer | None
    pseudonymizer: Pseudonymizer | None
    policy: Policy | None

    def transform(
        self,
        text: str,
        spans: list[Span] | tuple[Span, ...],
        policy: Policy,
        *,
        patient: str | None = None,
    ) -> Transformed: ...

    def rows(self, transformed: Transformed) -> list[VaultRecord]: ...

    def surrogate_key(self) -> bytes: ...

    def reidentify(
        self,
        text: str,
        *,
        message_hash: str | None = None,
        partial: bool = False,
        require_mapping: bool = False,
    ) -> str: ...


def _items(records: Iterable[BatchInput]) -> Iterator[Item]:
    return (as_item(i, x) for i, x in enumerate(records))


def _options(pipeline: Pipeline, overrides: dict[str, Any]) -> RunOptions:
    unknown = set(overrides) - set(RunOptions.__dataclass_fields__)
    if unknown:
        raise TypeError(f"unknown batch option(s): {', '.join(sorted(unknown))}")
    return replace(pipeline.run, **{k: v for k, v in overrides.items() if v is not None})


def _detected(
    records: Iterable[BatchInput], pipeline: Pipeline, run: RunOptions
) -> Iterator[Detected | None]:
    return detected(_items(records), pipeline.stage, run, pipeline.detector)


def _result(d: Detected, value: Any, spans: tuple[Span, ...] = ()) -> Result[Any]:
    return Result(d.index, d.item.id, value, None, spans, d.item.context)


def _failed(d: Detected, error: Failure | None) -> Result[Any]:
    return Result(d.index, d.item.id, None, error, (), d.item.context)


def detect_many(
    records: Iterable[BatchInput], pipeline: Pipeline, **options: Any
) -> Iterator[Result[tuple[Span, ...]]]:
    """Resolved PHI spans per input, in input order."""
    for d in _detected(records, pipeline, _options(pipeline, options)):
        if d is not None:
            yield Result(d.index, d.item.id, d.spans, d.error, d.spans or (), d.item.context)


def mask_many(
    records: Iterable[BatchInput],
    pipeline: Pipeline,
    *,
    style: MaskStyle | str = MaskStyle.HASH,
    policy: Policy | None = None,
    **options: Any,
) -> Iterator[Result[str]]:
    """Masked text per input, in input order; `policy`: an irreversible policy (mask, label,
    keep per type) instead of `style`."""
    style = MaskStyle(style)
    checked = masking(policy) if policy is not None else None
    for d in _detected(records, pipeline, _options(pipeline, options)):
        if d is None:
            continue
        if d.spans is None:
            yield _failed(d, d.error)
            continue
        try:
            if checked is None:
                masked = mask(d.item.text, d.spans, style)
            else:
                masked = apply(d.item.text, d.spans, checked).text
        except Exception as exc:
            yield _failed(d, Failure.of(exc))
            continue
        yield _result(d, masked, d.spans)


@dataclass(slots=True)
class _Pending:
    detected: Detected
    result: DeidResult | None = None
    rows: list[VaultRecord] = field(default_factory=list)
    error: Failure | None = None
    unique: bool = False  # its text holds a fresh-salt token: its rows are this run's alone


def deidentify_many(
    records: Iterable[BatchInput],
    pipeline: Pipeline,
    *,
    journal: JournalChoice = "auto",
    policy: Policy | None = None,
    **options: Any,
) -> Iterator[Result[DeidResult]]:
    """De-identified text per input, in input order, each yielded only after its vault rows
    are committed.

    Rows of up to `vault_batch` records go in one `vault.put`; a group is also written when it
    is `max_delay` seconds old or when detection would otherwise make the consumer wait, so
    results keep streaming. A failing `vault.put` raises `VaultError` (no later record is
    yielded). `journal`: "auto" journals this call (see the module docstring) and closes the
    journal when the generator ends; pass a `Journal` to manage it yourself (the job does, for
    outputs released only at commit), or None for no journal. `policy`: what each PHI type
    becomes (default: the pipeline's policy, else a token for every span).
    """
    chosen = policy or pipeline.policy or Policy.deid()
    return _released(records, pipeline, chosen, journal, options)


def surrogate_many(
    records: Iterable[BatchInput],
    pipeline: Pipeline,
    *,
    journal: JournalChoice = "auto",
    policy: Policy | None = None,
    **options: Any,
) -> Iterator[Result[DeidResult]]:
    """Like `deidentify_many` with realistic surrogates and shifted dates by default (the
    pipeline's policy, else `Policy.surrogate()`). An `Item`'s `patient` puts the note in its
    patient's scope: one date offset and one name mapping across all of that patient's notes."""
    chosen = policy or pipeline.policy or Policy.surrogate()
    return _released(records, pipeline, chosen, journal, options)


def _released(
    records: Iterable[BatchInput],
    pipeline: Pipeline,
    policy: Policy,
    journal: JournalChoice,
    options: dict[str, Any],
) -> Iterator[Result[DeidResult]]:
    vault, sealer = pipeline.vault, pipeline.sealer
    if vault is None or sealer is None:
        raise ConfigError("de-identifying needs a vault and a key (Sealer)")
    run = _options(pipeline, options)
    if policy.keyed:
        pipeline.surrogate_key()  # a missing or unreachable key fails the run, not each note
    own = journal == "auto"
    jr = auto_journal(pipeline) if journal == "auto" else journal
    try:
        yield from _deidentified(records, pipeline, policy, vault, run, jr)
    finally:
        if own and jr is not None:
            jr.close()


def auto_journal(pipeline: Pipeline, *, streaming: bool = True) -> Journal | None:
    """Sweep the leftovers of interrupted runs on the vault, then start this run's journal
    (fresh-salt tokens only: consistent tokens are shared by identical notes)."""
    if pipeline.vault is None:
        return None
    sweep(pipeline.vault)
    if pipeline.pseudonymizer is not None:
        return None
    return Journal.start(pipeline.vault, streaming=streaming)


def _deidentified(
    records: Iterable[BatchInput],
    pipeline: Pipeline,
    policy: Policy,
    vault: Vault,
    run: RunOptions,
    journal: Journal | None,
) -> Iterator[Result[DeidResult]]:
    group: list[_Pending] = []
    started = 0.0
    for d in _detected(records, pipeline, run):
        if d is None:
            yield from _flush(group, vault, journal)
            continue
        p = _Pending(d, error=d.error)
        if d.spans is not None:
            try:
                out = pipeline.transform(d.item.text, d.spans, policy, patient=d.item.patient)
                p.rows = pipeline.rows(out)
                p.result = DeidResult(out.text, out.message_hash, d.spans)
                p.unique = out.unique
            except Exception as exc:
                p.error = Failure.of(exc)
        if not group:
            started = time.monotonic()
        group.append(p)
        if len(group) >= run.vault_batch or time.monotonic() - started >= run.max_delay:
            yield from _flush(group, vault, journal)
    yield from _flush(group, vault, journal)


def _flush(
    group: list[_Pending], vault: Vault, journal: Journal | None
) -> Iterator[Result[DeidResult]]:
    """Commit the group's rows, then release its records in order (fail closed)."""
    if not group:
        return
    rows = [r for p in group if p.error is None for r in p.rows]
    if journal is not None:
        journal.intend([r for p in group if p.error is None and p.unique for r in p.rows])
    vault.put(rows)  # raises: nothing of this group is released
    if journal is not None:
        journal.released(p.result.message_hash for p in group if p.result is not None)
    batch = list(group)
    group.clear()
    for p in batch:
        if p.error is not None or p.result is None:
            yield _failed(p.detected, p.error)
        else:
            yield _result(p.detected, p.result, p.result.spans)


def reidentify_many(
    records: Iterable[BatchInput],
    pipeline: Pipeline,
    *,
    partial: bool = False,
    require_mapping: bool = False,
) -> Iterator[Result[str]]:
    """Original text per input, in order; a note whose tokens the vault lacks fails alone.

    An `Item` may carry the `message_hash` of its text (a `deid --format json` document does):
    then an edited text is found, and with `partial` its remaining tokens restored.

    Goes through `pipeline.reidentify`, so every re-identification is audited the same way
    as a single one. Runs in the caller's thread: it is bound by vault reads, not CPU.
    `require_mapping`: a note the vault holds nothing for fails (see phiguard.reid).
    """
    for index, x in enumerate(records):
        item = as_item(index, x)
        if not item.text:
            yield Result(index, item.id, item.text, None, (), item.context)
            continue
        try:
            value = pipeline.reidentify(
                item.text,
                message_hash=item.message_hash,
                partial=partial,
                require_mapping=require_mapping,
            )
        except Exception as exc:
            yield Result(index, item.id, None, Failure.of(exc), (), item.context)
            continue
        yield Result(index, item.id, value, None, (), item.context)

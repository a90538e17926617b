"""Streaming batch API: many notes in, results out in the same order, memory flat.

Why this shape:

- **Generators in, generators out.** Input is pulled lazily and at most `max_in_flight`
  records (plus one vault group) are held at any time, so a 1 GB export costs the same
  memory as a 10 MB one.
- **One failed record never stops the batch.** Every input yields exactly one `Result`,
  holding either the output or an error reason (exception type + its PHI-free message;
  the text of unexpected exceptions is withheld because it may quote the note).
- **Detection scales with cores.** The local detector is CPU-bound, so with `workers > 1`
  it runs in worker processes, each building its own detector once (in the pool
  initializer) from a small picklable `PipelineConfig`; the model itself is never pickled.
  Comprehend is I/O-bound, so it runs in threads under a token-bucket rate limit instead.
- **Fail closed, one vault writer.** The parent process tokenizes, seals and writes the
  vault, in input order. Rows of a group of records go in one `vault.put` (one SQLite
  transaction; DynamoDB batches of 25 inside the vault), and no record of the group is
  yielded before that call returns. A vault failure is not a record's fault (server gone,
  throttled past retries, access denied): it ends the run with `VaultError`, records
  already yielded being stored. With a `phiguard.vaults.journal.Journal`, the rows of records not
  yet yielded are removed again, so a re-run leaves no orphans.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import pickle
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from phiguard.detectors import Detector, get_detector
from phiguard.errors import ConfigError, DetectionError, PhiguardError
from phiguard.keys.sealer import Sealer
from phiguard.resolve import Resolver
from phiguard.run.deidentifier import Deidentifier, DeidResult
from phiguard.spans import Span
from phiguard.transform import MaskStyle, Tokenized, mask, tokenize
from phiguard.vaults.base import Vault, VaultRecord
from phiguard.vaults.journal import Journal

__all__ = [
    "DEFAULT_DETECTPHI_TPS",
    "BatchInput",
    "Item",
    "PipelineConfig",
    "Result",
    "TokenBucket",
    "deidentify_many",
    "detect_many",
    "error_reason",
    "mask_many",
    "reidentify_many",
]

#: Default rate limit for Comprehend Medical DetectPHI requests, in requests per second.
#: 100 TPS is the default DetectPHI quota documented by AWS ("Guidelines and quotas" of
#: Comprehend Medical); accounts and regions differ, so set `max_tps` (CLI `--max-tps`)
#: to your account's quota as shown in the Service Quotas console.
DEFAULT_DETECTPHI_TPS = 100.0

#: Defaults sized for clinical notes of a few KB: a chunk amortizes inter-process traffic,
#: the window keeps both cores busy while capping memory, a vault group amortizes commits.
DEFAULT_CHUNK_SIZE = 16
DEFAULT_MAX_IN_FLIGHT = 256
DEFAULT_MAX_IN_FLIGHT_CHARS = 64_000_000
DEFAULT_VAULT_BATCH = 64
DEFAULT_MAX_DELAY = 1.0

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Item:
    """One input record: `id` names it in results and errors (never log the text)."""

    id: Any
    text: str
    context: Any = None  # carried untouched to the Result (e.g. the rest of a JSONL row)


#: What the batch functions accept: a plain string (its id is its 0-based position),
#: an `(id, text)` pair, or an `Item`.
BatchInput = str | tuple[Any, str] | Item


@dataclass(frozen=True, slots=True)
class Result(Generic[T]):
    """The outcome for one input, in input order: `value` or `error`, never both."""

    index: int
    id: Any
    value: T | None
    error: str | None = None
    spans: tuple[Span, ...] = ()
    context: Any = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def unwrap(self) -> T:
        """The value, or a `PhiguardError` naming the record and the reason."""
        if self.error is not None or self.value is None:
            raise PhiguardError(f"record {self.id}: {self.error}")
        return self.value


@dataclass(frozen=True)
class PipelineConfig:
    """What a worker process needs to build its own pipeline; small and picklable.

    `backend` is a detector name (built with `get_detector` in each worker, so a spaCy
    model loads once per process) or a picklable detector instance (tests, custom
    detectors).
    """

    backend: str | Detector = "local"
    detector_options: tuple[tuple[str, Any], ...] = ()
    resolver: Resolver = field(default_factory=Resolver)

    def build(self) -> tuple[Detector, Resolver]:
        if isinstance(self.backend, str):
            return get_detector(self.backend, **dict(self.detector_options)), self.resolver
        return self.backend, self.resolver

    @classmethod
    def of(cls, pipeline: Deidentifier | PipelineConfig) -> PipelineConfig:
        """The config that rebuilds `pipeline`'s detector: by name when it came from
        `get_detector` (looked up in its per-process cache), else the instance itself."""
        if isinstance(pipeline, PipelineConfig):
            return pipeline
        from phiguard import detectors

        for (name, options), det in detectors._cache.items():
            if det is pipeline.detector:
                return cls(name, options, pipeline.resolver)
        return cls(pipeline.detector, (), pipeline.resolver)


class TokenBucket:
    """Thread-safe rate limiter: `acquire(n)` blocks until n requests fit in the rate.

    Reservation style: a caller takes its tokens at once (the balance may go negative)
    and sleeps off the debt, so concurrent callers are served in arrival order.
    """

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ConfigError(f"max_tps must be positive, got {rate}")
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self._tokens = self.burst
        self._clock, self._sleep = clock, sleep
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self, n: float = 1.0) -> None:
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= n
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)


# --- detection, shared by the inline, thread and process executors ---------------------

_Outcome = tuple[tuple[Span, ...] | None, str | None]  # (spans, None) or (None, reason)


def error_reason(exc: BaseException) -> str:
    """A PHI-free reason: our errors' messages are PHI-free by contract, others are not."""
    if isinstance(exc, PhiguardError):
        return f"{type(exc).__name__}: {exc}"
    return f"{type(exc).__name__} (message withheld: it may quote the note)"


def _requests(detector: Detector, texts: Sequence[str]) -> float:
    """Estimated service requests for `texts` (one per `max_bytes` chunk), for rate limits."""
    max_bytes = int(getattr(detector, "max_bytes", 20_000)) or 20_000
    return float(
        sum(max(1, math.ceil(len(t.encode("utf-8", "surrogatepass")) / max_bytes)) for t in texts)
    )


def _detect_texts(
    detector: Detector,
    resolver: Resolver,
    texts: Sequence[str],
    limiter: TokenBucket | None = None,
) -> list[_Outcome]:
    """Resolved spans or a reason, per text. `detect_many` is used when the detector has
    it (spaCy's nlp.pipe, Comprehend packing); if it fails, texts are retried one by one
    so a bad note fails alone."""
    out: list[_Outcome] = [((), None)] * len(texts)
    todo = [i for i, t in enumerate(texts) if t]
    many = getattr(detector, "detect_many", None)
    if many is not None and len(todo) > 1:
        try:
            batch = [texts[i] for i in todo]
            if limiter is not None:
                packed = max(1.0, math.ceil(_requests(detector, ["".join(batch)])))
                limiter.acquire(packed)
            found = list(many(batch))
            if len(found) != len(batch):
                raise DetectionError("detect_many returned a wrong number of results")
            for i, spans in zip(todo, found, strict=True):
                out[i] = (tuple(resolver(texts[i], spans)), None)
            return out
        except Exception:
            pass
    for i in todo:
        try:
            if limiter is not None:
                limiter.acquire(_requests(detector, [texts[i]]))
            out[i] = (tuple(resolver(texts[i], detector.detect(texts[i]))), None)
        except Exception as exc:
            out[i] = (None, error_reason(exc))
    return out


# Worker-process state: built once by the pool initializer, used by every task.
_worker: tuple[Detector, Resolver] | None = None
_worker_error: BaseException | None = None


def _init_worker(config: PipelineConfig) -> None:
    """Build this process's detector once. Ctrl-C is the parent's to handle."""
    global _worker, _worker_error
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _worker = config.build()
    except BaseException as exc:  # reported on the first task, to the parent
        _worker_error = exc


def _worker_detect(texts: list[str]) -> list[_Outcome]:
    if _worker is None:
        raise _worker_error or DetectionError("worker process has no detector")
    return _detect_texts(_worker[0], _worker[1], texts)


def _worker_ready() -> int:
    if _worker is None:
        raise _worker_error or DetectionError("worker process has no detector")
    return os.getpid()


@dataclass(slots=True)
class _Detected:
    index: int
    item: Item
    spans: tuple[Span, ...] | None
    error: str | None


def _as_item(index: int, x: BatchInput) -> Item:
    if isinstance(x, Item):
        return x
    if isinstance(x, str):
        return Item(index, x)
    return Item(x[0], x[1])


@dataclass(frozen=True)
class _Run:
    """How to run detection; see the public functions for the meaning of each field."""

    workers: int = 1
    chunk_size: int = DEFAULT_CHUNK_SIZE
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    max_in_flight_chars: int = DEFAULT_MAX_IN_FLIGHT_CHARS
    max_tps: float | None = None
    mp_context: str | None = None

    def __post_init__(self) -> None:
        if self.workers < 1 or self.chunk_size < 1 or self.max_in_flight < 1:
            raise ConfigError("workers, chunk_size and max_in_flight must be at least 1")


def _is_io_bound(detector: Detector | str) -> bool:
    name = detector if isinstance(detector, str) else getattr(detector, "name", "")
    return name == "comprehend"


def _detected(
    items: Iterable[BatchInput],
    pipeline: Deidentifier | PipelineConfig,
    run: _Run,
) -> Iterator[_Detected | None]:
    """Detection results in input order. Yields None just before it would wait for a
    worker, so a consumer can flush buffered work (vault groups) instead of idling."""
    config = PipelineConfig.of(pipeline)
    backend: Detector | str = config.backend
    io_bound = _is_io_bound(backend)
    inputs = (_as_item(i, x) for i, x in enumerate(items))
    if run.workers == 1 and not io_bound:
        detector, resolver = (
            (pipeline.detector, pipeline.resolver)
            if isinstance(pipeline, Deidentifier)
            else config.build()
        )
        yield from _inline(inputs, detector, resolver, run.chunk_size)
        return
    executor: Executor
    work: Callable[[list[str]], list[_Outcome]]
    if io_bound:
        detector, resolver = (
            (pipeline.detector, pipeline.resolver)
            if isinstance(pipeline, Deidentifier)
            else config.build()
        )
        limiter = TokenBucket(run.max_tps or DEFAULT_DETECTPHI_TPS)
        executor = ThreadPoolExecutor(run.workers, thread_name_prefix="phiguard-detect")

        def work(texts: list[str]) -> list[_Outcome]:
            return _detect_texts(detector, resolver, texts, limiter)

        # Threads share one client: smaller chunks keep `workers` requests in flight.
        chunk = max(1, min(run.chunk_size, run.max_in_flight // run.workers))
    else:
        try:
            pickle.dumps(config)
        except Exception:
            raise ConfigError(
                "workers > 1 needs a detector that worker processes can rebuild: "
                "build the Deidentifier with a backend name (e.g. 'local')"
            ) from None
        ctx = mp.get_context(run.mp_context or _default_start_method())
        executor = ProcessPoolExecutor(
            run.workers, mp_context=ctx, initializer=_init_worker, initargs=(config,)
        )
        work = _worker_detect
        chunk = max(1, min(run.chunk_size, run.max_in_flight // run.workers))
    try:
        if not io_bound:
            _start(executor, run.workers)
        yield from _windowed(inputs, executor, work, chunk, run)
    except BrokenProcessPool:
        raise DetectionError(
            "a detection worker process died (out of memory?); records in flight were not released"
        ) from None
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _default_start_method() -> str:
    """fork where available: workers start in milliseconds and share an already-loaded
    model copy-on-write; elsewhere spawn (each worker loads the model once)."""
    return "fork" if "fork" in mp.get_all_start_methods() else "spawn"


def _start(executor: Executor, workers: int) -> None:
    """Start every worker now and surface a detector that cannot be built (e.g. model not
    installed) before any record is processed or any output written."""
    for f in [executor.submit(_worker_ready) for _ in range(workers)]:
        f.result()


def _inline(
    inputs: Iterator[Item], detector: Detector, resolver: Resolver, chunk_size: int
) -> Iterator[_Detected]:
    index = 0
    while True:
        chunk = _take(inputs, chunk_size, DEFAULT_MAX_IN_FLIGHT_CHARS)
        if not chunk:
            return
        outcomes = _detect_texts(detector, resolver, [it.text for it in chunk])
        for item, (spans, err) in zip(chunk, outcomes, strict=True):
            yield _Detected(index, item, spans, err)
            index += 1


def _take(inputs: Iterator[Item], n: int, max_chars: int) -> list[Item]:
    chunk: list[Item] = []
    chars = 0
    for item in inputs:
        chunk.append(item)
        chars += len(item.text)
        if len(chunk) >= n or chars >= max_chars:
            break
    return chunk


def _windowed(
    inputs: Iterator[Item],
    executor: Executor,
    work: Callable[[list[str]], list[_Outcome]],
    chunk_size: int,
    run: _Run,
) -> Iterator[_Detected | None]:
    pending: deque[tuple[list[Item], int, Future[list[_Outcome]]]] = deque()
    in_flight = chars = index = 0
    exhausted = False
    while True:
        while not exhausted and (
            not pending or (in_flight < run.max_in_flight and chars < run.max_in_flight_chars)
        ):
            room = min(chunk_size, max(1, run.max_in_flight - in_flight))
            chunk = _take(inputs, room, max(1, run.max_in_flight_chars - chars))
            if not chunk:
                exhausted = True
                break
            size = sum(len(it.text) for it in chunk)
            pending.append((chunk, size, executor.submit(work, [it.text for it in chunk])))
            in_flight += len(chunk)
            chars += size
        if not pending:
            return
        chunk, size, fut = pending[0]
        if not fut.done():
            yield None
        outcomes = fut.result()
        pending.popleft()
        in_flight -= len(chunk)
        chars -= size
        for item, (spans, err) in zip(chunk, outcomes, strict=True):
            yield _Detected(index, item, spans, err)
            index += 1


# --- public API ----------------------------------------------------------------------


def detect_many(
    items: Iterable[BatchInput],
    pipeline: Deidentifier | PipelineConfig,
    *,
    workers: int = 1,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    max_tps: float | None = None,
    mp_context: str | None = None,
) -> Iterator[Result[tuple[Span, ...]]]:
    """Resolved PHI spans per input, in input order.

    `workers`: processes for the local detector (each loads its model once), concurrent
    requests for Comprehend. `chunk_size`: records per worker task. `max_in_flight`:
    records read ahead of the consumer (the memory bound). `max_tps`: Comprehend requests
    per second (default `DEFAULT_DETECTPHI_TPS`). `mp_context`: multiprocessing start
    method (default fork on POSIX).
    """
    run = _Run(workers, chunk_size, max_in_flight, max_tps=max_tps, mp_context=mp_context)
    for d in _detected(items, pipeline, run):
        if d is None:
            continue
        yield Result(d.index, d.item.id, d.spans, d.error, d.spans or (), d.item.context)


def mask_many(
    items: Iterable[BatchInput],
    pipeline: Deidentifier | PipelineConfig,
    *,
    style: MaskStyle | str = MaskStyle.HASH,
    workers: int = 1,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    max_tps: float | None = None,
    mp_context: str | None = None,
) -> Iterator[Result[str]]:
    """Masked text per input, in input order (see `detect_many` for the options)."""
    style = MaskStyle(style)
    run = _Run(workers, chunk_size, max_in_flight, max_tps=max_tps, mp_context=mp_context)
    for d in _detected(items, pipeline, run):
        if d is None:
            continue
        if d.spans is None:
            yield Result(d.index, d.item.id, None, d.error, (), d.item.context)
            continue
        try:
            masked = mask(d.item.text, d.spans, style)
        except Exception as exc:
            yield Result(d.index, d.item.id, None, error_reason(exc), (), d.item.context)
            continue
        yield Result(d.index, d.item.id, masked, None, d.spans, d.item.context)


@dataclass(slots=True)
class _Pending:
    detected: _Detected
    result: DeidResult | None = None
    rows: list[VaultRecord] = field(default_factory=list)
    error: str | None = None


def deidentify_many(
    items: Iterable[BatchInput],
    pipeline: Deidentifier | PipelineConfig,
    *,
    vault: Vault | None = None,
    sealer: Sealer | None = None,
    workers: int = 1,
    vault_batch: int = DEFAULT_VAULT_BATCH,
    max_delay: float = DEFAULT_MAX_DELAY,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    max_tps: float | None = None,
    mp_context: str | None = None,
    journal: Journal | None = None,
) -> Iterator[Result[DeidResult]]:
    """De-identified text per input, in input order, each yielded only after its vault
    rows are committed.

    `vault`/`sealer` default to the Deidentifier's. Rows of up to `vault_batch` records
    go in one `vault.put`; a group is also written when it is `max_delay` seconds old or
    when detection would otherwise make the consumer wait, so results keep streaming.
    A failing `vault.put` raises `VaultError` (no later record is yielded). `journal`
    records every row's key before it is written and each note as released before it is
    yielded (see phiguard.vaults.journal); the caller closes it.
    """
    if isinstance(pipeline, Deidentifier):
        vault = vault or pipeline.vault
        sealer = sealer or pipeline.sealer
    if vault is None or sealer is None:
        raise ConfigError("deidentify_many needs a vault and a key (Sealer)")
    if vault_batch < 1:
        raise ConfigError("vault_batch must be at least 1")
    run = _Run(workers, chunk_size, max_in_flight, max_tps=max_tps, mp_context=mp_context)
    # The Deidentifier's own tokenize honours its settings (e.g. consistent pseudonyms).
    tokenize_with: Callable[[str, tuple[Span, ...]], Tokenized] = getattr(
        pipeline, "tokenize", tokenize
    )
    group: list[_Pending] = []
    started = 0.0
    for d in _detected(items, pipeline, run):
        if d is None:
            yield from _flush(group, vault, journal)
            continue
        p = _Pending(d, error=d.error)
        if d.spans is not None:
            try:
                tokenized: Tokenized = tokenize_with(d.item.text, d.spans)
                p.rows = Deidentifier.records(tokenized, sealer)
                p.result = DeidResult(tokenized.text, tokenized.message_hash, d.spans)
            except Exception as exc:
                p.error = error_reason(exc)
        if not group:
            started = time.monotonic()
        group.append(p)
        if len(group) >= vault_batch or time.monotonic() - started >= max_delay:
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
        journal.intend(rows)
    vault.put(rows)  # raises: nothing of this group is released
    if journal is not None:
        journal.released(p.result.message_hash for p in group if p.result is not None)
    batch = list(group)
    group.clear()
    for p in batch:
        d = p.detected
        if p.error is not None or p.result is None:
            yield Result(d.index, d.item.id, None, p.error, (), d.item.context)
        else:
            yield Result(d.index, d.item.id, p.result, None, p.result.spans, d.item.context)


def reidentify_many(items: Iterable[BatchInput], pipeline: Deidentifier) -> Iterator[Result[str]]:
    """Original text per input, in order; a note whose tokens the vault lacks fails alone.

    Goes through `pipeline.reidentify`, so every re-identification is audited the same way
    as a single one. Runs in the caller's thread: it is bound by vault reads, not CPU.
    """
    for index, x in enumerate(items):
        item = _as_item(index, x)
        if not item.text:
            yield Result(index, item.id, item.text, None, (), item.context)
            continue
        try:
            value = pipeline.reidentify(item.text)
        except Exception as exc:
            yield Result(index, item.id, None, error_reason(exc), (), item.context)
            continue
        yield Result(index, item.id, value, None, (), item.context)

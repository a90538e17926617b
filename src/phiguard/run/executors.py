"""Detection scheduling: inline, in threads (I/O-bound detectors) or in worker processes.

- **Flat memory.** Input is pulled lazily; at most `max_in_flight` records (and
  `max_in_flight_chars` characters) are read ahead of the consumer.
- **Detection scales with cores.** A CPU-bound detector runs in worker processes, each building
  its own detector once (in the pool initializer) from a small picklable `Stage`; the model
  itself is never pickled. An I/O-bound detector (a service) runs in threads sharing one client
  and, if it is metered, one limiter on requests/s and characters/s (`phiguard.run.limits`).
- **A bad note fails alone.** `detect_many` is used when the detector batches well; if the batch
  fails, its texts are retried one by one, so one record's failure never fails its neighbours.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from phiguard.config import DetectorConfig, RunOptions
from phiguard.detectors import Detector, get_detector
from phiguard.errors import ConfigError, DetectionError, Failure
from phiguard.known import KnownPhi
from phiguard.resolve import Resolver
from phiguard.run.limits import Quota, meter
from phiguard.run.records import Item
from phiguard.spans import Span

_Outcome = tuple[tuple[Span, ...] | None, Failure | None]  # (spans, None) or (None, failure)


@dataclass(frozen=True)
class Stage:
    """What detection needs in any process: where the detector comes from (a config rebuilt
    with `get_detector`, or a picklable instance) and the resolver."""

    detector: DetectorConfig | Detector
    resolver: Resolver

    def build(self) -> tuple[Detector, Resolver]:
        if isinstance(self.detector, DetectorConfig):
            return get_detector(self.detector.backend, **self.detector.kwargs), self.resolver
        return self.detector, self.resolver


@dataclass(slots=True)
class Detected:
    """One record's detection outcome, in input order."""

    index: int
    item: Item
    spans: tuple[Span, ...] | None
    error: Failure | None


#: What a detection task carries per record: the text and the PHI its caller already knows.
Task = list[tuple[str, KnownPhi | None]]


def detect_texts(
    detector: Detector,
    resolver: Resolver,
    texts: Sequence[str],
    known: Sequence[KnownPhi | None] | None = None,
) -> list[_Outcome]:
    """Resolved spans or a failure, per text (`known[i]`: text i's known PHI)."""
    knowns = known if known is not None else [None] * len(texts)
    out: list[_Outcome] = [((), None)] * len(texts)
    todo = [i for i, t in enumerate(texts) if t]
    if detector.capabilities.batching and len(todo) > 1:
        try:
            batch = [texts[i] for i in todo]
            found = detector.detect_many(batch)
            if len(found) != len(batch):
                raise DetectionError("detect_many returned a wrong number of results")
            for i, spans in zip(todo, found, strict=True):
                out[i] = (tuple(resolver(texts[i], spans, knowns[i])), None)
            return out
        except Exception:
            pass  # retried one by one below, so the failing note is the only one to fail
    for i in todo:
        try:
            out[i] = (tuple(resolver(texts[i], detector.detect(texts[i]), knowns[i])), None)
        except Exception as exc:
            out[i] = (None, Failure.of(exc))
    return out


# Worker-process state: built once by the pool initializer, used by every task.
_worker: tuple[Detector, Resolver] | None = None
_worker_error: BaseException | None = None


def _init_worker(stage: Stage) -> None:
    """Build this process's detector once. Ctrl-C and SIGTERM are the parent's to handle."""
    global _worker, _worker_error
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the parent stops us when it unwinds
    try:
        _worker = stage.build()
    except BaseException as exc:  # reported on the first task, to the parent
        _worker_error = exc


def _run_task(detector: Detector, resolver: Resolver, task: Task) -> list[_Outcome]:
    return detect_texts(detector, resolver, [t for t, _ in task], [k for _, k in task])


def _worker_detect(task: Task) -> list[_Outcome]:
    if _worker is None:
        raise _worker_error or DetectionError("worker process has no detector")
    return _run_task(_worker[0], _worker[1], task)


def _worker_ready() -> int:
    if _worker is None:
        raise _worker_error or DetectionError("worker process has no detector")
    return os.getpid()


def detected(
    items: Iterable[Item],
    stage: Stage,
    run: RunOptions,
    built: Detector | None = None,
) -> Iterator[Detected | None]:
    """Detection results in input order. Yields None just before it would wait for a
    worker, so a consumer can flush buffered work (vault groups) instead of idling.

    `built` is the caller's own detector, if it has one; else it is built here, in this
    process, even when workers detect (with fork they share it copy-on-write).
    """
    inputs = iter(items)
    detector, resolver = (built, stage.resolver) if built is not None else stage.build()
    if run.workers == 1 and not detector.capabilities.io_bound:
        yield from _inline(inputs, detector, resolver, run)
        return
    executor: Executor
    work: Callable[[Task], list[_Outcome]]
    # Threads share one client, processes one task queue: smaller chunks keep all busy.
    chunk = max(1, min(run.chunk_size, run.max_in_flight // run.workers))
    if detector.capabilities.io_bound:
        # A metered service detector asks one shared limiter before every request it sends.
        meter(detector, Quota.of(run.max_tps, run.max_cps))
        executor = ThreadPoolExecutor(run.workers, thread_name_prefix="phiguard-detect")

        def work(task: Task) -> list[_Outcome]:
            return _run_task(detector, resolver, task)

    else:
        try:
            pickle.dumps(stage)
        except Exception:
            raise ConfigError(
                "workers > 1 needs a detector that worker processes can rebuild: "
                "build the Deidentifier with a backend name (e.g. 'local')"
            ) from None
        ctx = mp.get_context(run.mp_context or _default_start_method())
        executor = ProcessPoolExecutor(
            run.workers, mp_context=ctx, initializer=_init_worker, initargs=(stage,)
        )
        work = _worker_detect
    try:
        if not detector.capabilities.io_bound:
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
    inputs: Iterator[Item], detector: Detector, resolver: Resolver, run: RunOptions
) -> Iterator[Detected]:
    index = 0
    while True:
        chunk = _take(inputs, run.chunk_size, run.max_in_flight_chars)
        if not chunk:
            return
        outcomes = _run_task(detector, resolver, _task(chunk))
        for item, (spans, err) in zip(chunk, outcomes, strict=True):
            yield Detected(index, item, spans, err)
            index += 1


def _task(chunk: list[Item]) -> Task:
    return [(it.text, it.known) for it in chunk]


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
    work: Callable[[Task], list[_Outcome]],
    chunk_size: int,
    run: RunOptions,
) -> Iterator[Detected | None]:
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
            pending.append((chunk, size, executor.submit(work, _task(chunk))))
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
            yield Detected(index, item, spans, err)
            index += 1

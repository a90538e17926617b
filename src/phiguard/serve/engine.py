"""The pipeline of one server worker process, run on one thread of its own.

Why one thread: detection is CPU-bound (the GIL gives threads nothing), SQLite connections
belong to the thread that opened them, and queued requests then wait their turn instead of
contending. Parallelism comes from worker processes (`--workers`), each with its own model.

Every request carries a deadline (queueing included): work that finds it passed stops, and a
de-identification that passes it is rolled back, never committed. A batch's vault rows go
through a run journal that is committed only when the whole answer is ready, so a request that
fails, times out or dies with the process leaves no mapping behind (the next request's sweep
deletes it), and an answered one never loses its mapping.

Only `Deidentifier.open`, its public constructor, `Auditor` and the batch functions are used,
so vault, key and audit internals can change beneath.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from phiguard.audit import Auditor, AuditRecord
from phiguard.config import Config
from phiguard.errors import PhiguardError
from phiguard.resolve import Resolver
from phiguard.run.batch import auto_journal
from phiguard.run.deidentifier import Deidentifier
from phiguard.run.records import Item, Result
from phiguard.serve.responses import RECORD_KINDS, ApiError
from phiguard.vaults.base import Vault

log = logging.getLogger("phiguard.serve")
T = TypeVar("T")

WARM_UP = "Warm-up: Jane Roe was seen at Springfield Clinic on 03/04/2011, phone 555-0100."
PROBE_HASH = "0" * 64  # no message hashes to this: reading it only proves the vault answers
GRACE_S = 1.0  # how long past its deadline the loop waits for an answer already on its way
RETRY_OPEN_S = 1.0  # a vault that would not open is retried at most this often
MAX_SHARED = 64  # requests one detection pass may serve (bounds the latency of a pass)


@dataclass(slots=True)
class _Job:
    """A detect or mask request waiting for the pipeline thread (see `Engine.shared`)."""

    op: Callable[..., list[Result[Any]]]
    args: tuple[Any, ...]
    items: list[Item]
    deadline: float
    future: Future[list[Result[Any]]]


class Expired(Exception):
    """The request's deadline passed; nothing was released."""


Items = list[Item]


class Engine:
    """`call(op, ...)` runs `op` on the pipeline thread under the request deadline."""

    def __init__(self, config: Config, *, timeout: float) -> None:
        self.config = config
        self.timeout = timeout
        self.model_ready = False
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="phiguard-pipeline")
        self._waiting: deque[_Job] = deque()  # shared jobs; append/popleft are thread-safe
        self._detecting: Deidentifier | None = None
        self._writer: Deidentifier | None = None
        self._reader: Deidentifier | None = None
        self._open_error: tuple[float, PhiguardError] | None = None

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the model (a failure is fatal: raised) and open the vault (a failure is
        not: the server starts unready and retries on the next request)."""
        await asyncio.wrap_future(self._pool.submit(self._start))

    def _start(self) -> None:
        self._detecting = Deidentifier.open(self.config)
        warm_up(self._detecting)
        self.model_ready = True
        try:
            self._vaults()
        except PhiguardError as exc:
            log.warning("vault not available yet (%s); /readyz says so until it is", exc)

    async def stop(self) -> None:
        await asyncio.wrap_future(self._pool.submit(self._close))
        self._pool.shutdown(wait=True)

    def _close(self) -> None:
        for d in (self._writer, self._reader):
            if d is not None:
                d.close()
        self._writer = self._reader = None

    # -- calling ----------------------------------------------------------------------------

    async def call(self, op: Callable[..., T], *args: Any) -> T:
        deadline = time.monotonic() + self.timeout
        return await self._answer(self._pool.submit(self._guarded, deadline, op, *args))

    async def shared(self, op: Callable[..., list[Result[Any]]], items: Items, *args: Any) -> Any:
        """Like `call`, for detect and mask (no vault, nothing committed): requests that are
        waiting together with the same options share one detection pass, so concurrent
        one-note requests get the batched speed of `detect_many` and one thread hop."""
        job = _Job(op, args, items, time.monotonic() + self.timeout, Future())
        self._waiting.append(job)
        self._pool.submit(self._drain)
        return await self._answer(job.future)

    async def _answer(self, fut: Future[T]) -> T:
        try:
            return await asyncio.wait_for(asyncio.wrap_future(fut), self.timeout + GRACE_S)
        except (TimeoutError, Expired):
            fut.cancel()
            raise ApiError(
                503,
                "timeout",
                f"the request took longer than {self.timeout:g} s; nothing was released",
                headers={"retry-after": "5"},
            ) from None
        except PhiguardError as exc:
            raise ApiError.of(exc) from None

    @staticmethod
    def _guarded(deadline: float, op: Callable[..., T], *args: Any) -> T:
        _check(deadline)
        return op(deadline, *args)

    def _drain(self) -> None:
        """Run every waiting shared job, grouped by operation and options (pipeline thread).
        A group's records go through one call; each job then gets its own records back, and
        fails alone if one of them met a service failure."""
        groups: dict[tuple[Any, ...], list[_Job]] = {}
        while self._waiting and sum(len(g) for g in groups.values()) < MAX_SHARED:
            job = self._waiting.popleft()
            if not job.future.set_running_or_notify_cancel():
                continue  # its caller gave up
            if time.monotonic() > job.deadline:
                job.future.set_exception(Expired())
                continue
            groups.setdefault((job.op, *job.args), []).append(job)
        for (op, *args), jobs in groups.items():
            items = [item for job in jobs for item in job.items]
            if len(jobs) > 1:
                log.debug(
                    "one %s pass for %d requests (%d notes)", op.__name__, len(jobs), len(items)
                )
            try:
                results = op(max(j.deadline for j in jobs), items, *args)
            except BaseException as exc:
                for job in jobs:
                    job.future.set_exception(exc)
                continue
            start = 0
            for job in jobs:
                mine = [
                    replace(r, index=r.index - start)
                    for r in results[start : start + len(job.items)]
                ]
                start += len(job.items)
                failed = _service_failure(mine)
                if failed is None:
                    job.future.set_result(mine)
                else:
                    job.future.set_exception(failed)

    # -- operations (on the pipeline thread; each takes the deadline first) ------------------

    # detect and mask run through `shared`: their service failures are checked per request
    def detect(self, deadline: float, items: Items, resolver: Resolver) -> list[Result[Any]]:
        d = self._derive(self._detector(), resolver)
        return _collect(d.detect_many(items), deadline, check=False)

    def mask(
        self, deadline: float, items: Items, resolver: Resolver, style: str
    ) -> list[Result[Any]]:
        d = self._derive(self._detector(), resolver)
        return _collect(d.mask_many(items, style=style), deadline, check=False)

    def deidentify(self, deadline: float, items: Items, resolver: Resolver) -> list[Result[Any]]:
        return self._release(deadline, items, resolver, surrogates=False)

    def surrogate(self, deadline: float, items: Items, resolver: Resolver) -> list[Result[Any]]:
        return self._release(deadline, items, resolver, surrogates=True)

    def _release(
        self, deadline: float, items: Items, resolver: Resolver, *, surrogates: bool
    ) -> list[Result[Any]]:
        d = self._derive(self._vaults()[0], resolver)
        journal = auto_journal(d, streaming=False)  # None for deterministic rows
        many = d.surrogate_many if surrogates else d.deidentify_many
        try:
            results = _collect(many(items, journal=journal), deadline)
            _check(deadline)
            if journal is not None:
                journal.commit()  # the answer is complete: its notes count as released
            return results
        finally:
            if journal is not None:
                journal.close()  # uncommitted: this request's rows are deleted again

    def reidentify(self, deadline: float, items: Items, actor: str) -> list[Result[Any]]:
        reader = self._vaults()[1]
        d = Deidentifier(
            self.config.detector,
            vault=reader.vault,
            sealer=reader.sealer,
            auditor=Auditor(_vault(reader).audit_log(), actor),
        )
        return _collect(d.reidentify_many(items), deadline)

    def audit(self, deadline: float) -> list[AuditRecord]:
        return _vault(self._vaults()[1]).audit_log().audit_records()

    def ready(self, deadline: float) -> dict[str, Any]:
        """Model loaded, and the vault answers a read (for writing and for reading)."""
        out: dict[str, Any] = {"model": self.model_ready}
        try:
            for d in self._vaults():
                assert d.vault is not None
                d.vault.get(PROBE_HASH)
            out["vault"] = True
        except PhiguardError as exc:  # the probe is open to anyone: the kind, not the detail
            log.info("readiness: vault not available (%s)", exc)
            out["vault"] = False
            out["reason"] = f"vault not available ({type(exc).__name__})"
        return out

    # -- helpers ----------------------------------------------------------------------------

    def _detector(self) -> Deidentifier:
        if self._detecting is None:
            self._detecting = Deidentifier.open(self.config)
        return self._detecting

    def _derive(self, base: Deidentifier, resolver: Resolver) -> Deidentifier:
        """`base` with this request's resolver, sharing its loaded detector, vault and keys."""
        return base if resolver is base.resolver else base.with_resolver(resolver)

    def _vaults(self) -> tuple[Deidentifier, Deidentifier]:
        """The writer (deid) and the reader (reid), opened on first need and kept."""
        if self._writer is not None and self._reader is not None:
            return self._writer, self._reader
        if self._open_error is not None and time.monotonic() - self._open_error[0] < RETRY_OPEN_S:
            raise self._open_error[1]
        try:
            if self._writer is None:
                self._writer = Deidentifier.open(self.config, vault="write")
            if self._reader is None:
                self._reader = Deidentifier.open(self.config, vault="read")
        except PhiguardError as exc:
            self._open_error = (time.monotonic(), exc)
            raise
        self._open_error = None
        return self._writer, self._reader


def warm_up(d: Deidentifier) -> None:
    """Build the detector; load an in-process model by running it once (a service is not
    called: that would be a billed request per worker start)."""
    if not d.detector.capabilities.io_bound:
        d.detect(WARM_UP)


def resolver_for(base: Resolver, options: Any) -> Resolver:
    """The server's resolver refined by a request's options (see schemas.DetectionOptions)."""
    entities = base.entities
    if options.entities is not None:
        wanted = frozenset(options.entities)
        entities = wanted if entities is None else entities & wanted
    threshold = base.threshold if options.threshold is None else options.threshold
    if (
        entities == base.entities
        and threshold == base.threshold
        and not options.allow
        and not options.deny
    ):
        return base
    return replace(
        base,
        entities=entities,
        threshold=threshold,
        allow=base.allow | frozenset(options.allow),
        deny=base.deny + tuple(options.deny),
    )


def _check(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise Expired


def _service_failure(results: list[Result[Any]]) -> ApiError | None:
    """The first failure that is not a record's own (it fails the whole request)."""
    for r in results:
        if r.error is not None and r.error.kind not in RECORD_KINDS:
            return ApiError.of_failure(r.error)
    return None


def _collect(
    results: Iterator[Result[Any]], deadline: float, *, check: bool = True
) -> list[Result[Any]]:
    """Every result, stopping at the deadline; with `check`, at the first service failure
    (nothing of the request is released)."""
    out: list[Result[Any]] = []
    try:
        for r in results:
            out.append(r)
            if check and (failed := _service_failure([r])) is not None:
                raise failed
            _check(deadline)
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()
    return out


def _vault(d: Deidentifier) -> Vault:
    assert d.vault is not None  # Deidentifier.open(vault="read"/"write") sets it
    return d.vault

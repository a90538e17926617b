"""The detector interface: a name, declared capabilities, and text in, spans out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from phiguard.spans import Span


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a detector is good at, so the run layer can schedule it without probing.

    - `batching`: `detect_many` does better than a loop (spaCy's nlp.pipe, request packing).
    - `max_request_bytes`: a service's per-request UTF-8 limit; rate limits count requests of
      this size. None for an in-process detector.
    - `io_bound`: waits on a network service, so it runs concurrently in threads (sharing a
      rate limit) instead of in worker processes.
    """

    batching: bool = False
    max_request_bytes: int | None = None
    io_bound: bool = False


@runtime_checkable
class Detector(Protocol):
    """A PHI detector.

    `detect` returns spans with offsets into exactly the `text` it was given (Python str
    indices). It may return overlapping spans: the resolver settles them. It raises
    `phiguard.errors.DetectionError` (with no PHI in the message) when it cannot answer:
    callers then release nothing for that text. `detect_many` returns one span list per text,
    in order.
    """

    name: str
    capabilities: Capabilities

    def detect(self, text: str) -> list[Span]: ...

    def detect_many(self, texts: Sequence[str]) -> list[list[Span]]: ...


class RequestLimiter(Protocol):
    """Called by a metered detector before each service request it sends (retries included);
    blocks until the request fits the quota, or raises to stop (e.g. a Lambda deadline)."""

    def acquire(self, requests: float = 1.0, chars: float = 0.0) -> None: ...


@runtime_checkable
class Metered(Protocol):
    """A detector whose service requests count against per-second quotas: it asks `limiter`
    (if set) before each one. The run attaches one shared limiter (phiguard.run.limits)."""

    limiter: RequestLimiter | None


class BaseDetector:
    """Defaults for detectors that only implement `detect` (tests, custom rules)."""

    name: str = "custom"
    capabilities: Capabilities = Capabilities()

    def detect(self, text: str) -> list[Span]:  # pragma: no cover - subclasses implement it
        raise NotImplementedError

    def detect_many(self, texts: Sequence[str]) -> list[list[Span]]:
        return [self.detect(t) for t in texts]

"""Detect PHI with AWS Comprehend Medical's DetectPHI API.

DetectPHI takes at most 20,000 UTF-8 bytes per request, so long notes are cut with
`phiguard.detectors.chunking` and every entity is shifted back by its chunk's start. The service
documents its offsets as code points (Python str indices), but a silent mis-map would
leave PHI unmasked, so each entity's offsets are checked against its `Text` and repaired
or rejected (see `_locate`).

Errors never carry note text: only AWS error codes, HTTP statuses, request ids, offsets.
"""

from __future__ import annotations

import logging
import random
import time
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import Any

from phiguard import aws
from phiguard.detectors.base import Capabilities, RequestLimiter
from phiguard.detectors.chunking import chunk_text, utf8_len
from phiguard.errors import DetectionError
from phiguard.spans import PhiType, Span

__all__ = ["RETRYABLE_CODES", "ComprehendDetector"]

log = logging.getLogger(__name__)

SOURCE = "comprehend"

#: Service error codes worth another attempt after a backoff.
RETRYABLE_CODES = frozenset(
    {
        "TooManyRequestsException",
        "ThrottlingException",
        "ServiceUnavailableException",
        "InternalServerException",
    }
)

# Transient transport failures (by botocore class name) retried like throttling.
_RETRYABLE_TRANSPORT = frozenset({"ReadTimeoutError", "ConnectionClosedError"})

#: How the service is named in errors.
SERVICE = "Comprehend Medical"

# DetectPHI's own refusals, with what to do about them.
_ADVICE = {
    "TextSizeLimitExceededException": "a request exceeded DetectPHI's size limit; lower max_bytes",
    "InvalidEncodingException": "DetectPHI rejected the text encoding",
}

_PHI_TYPES = {t.value: t.value for t in PhiType}

# How far from the reported offsets an entity's `Text` may be found when repairing.
_SEARCH_RADIUS = 32

# Below this size a truncated (paginated) response is not re-split further.
_MIN_SPLIT_BYTES = 200


class ComprehendDetector:
    """PHI spans from Comprehend Medical, with real scores and no threshold applied.

    Scores are returned untouched because the shared resolver applies `--threshold`;
    filtering here would make the threshold mean different things per backend.
    `sleep` and `rand` exist so tests can check the backoff without waiting.
    """

    name = "comprehend"

    def __init__(
        self,
        region: str | None = None,
        profile: str | None = None,
        client: Any = None,
        max_bytes: int = 20_000,
        max_attempts: int = 8,
        base_delay: float = 0.2,
        max_delay: float = 10.0,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if not 4 <= max_bytes <= 20_000:
            raise ValueError(f"max_bytes must be within 4..20000, got {max_bytes}")
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        if base_delay < 0 or max_delay < 0:
            raise ValueError("base_delay and max_delay must not be negative")
        self.max_bytes = max_bytes
        self.capabilities = Capabilities(batching=True, max_request_bytes=max_bytes, io_bound=True)
        self.max_attempts = max_attempts
        #: Asked before every DetectPHI request (phiguard.run.limits attaches the run's quota).
        self.limiter: RequestLimiter | None = None
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._sleep = sleep
        self._rand = rand
        if client is not None:
            self._target = aws.Target(region, profile)
            self._client = client
        else:
            self._target = aws.resolve(aws.Target(region, profile), SERVICE, DetectionError)
            self._client = _make_client(self._target)

    # -- public API ---------------------------------------------------------------------

    def detect(self, text: str) -> list[Span]:
        """Spans in `text`; one DetectPHI call per chunk of at most `max_bytes` bytes."""
        spans: list[Span] = []
        for chunk in chunk_text(text, self.max_bytes):
            spans.extend(s.shifted(chunk.start) for s in self.detect_chunk(chunk.text))
        return spans

    def detect_many(self, texts: Sequence[str], *, pack: bool = True) -> list[list[Span]]:
        """Spans for each text; with `pack`, short texts share requests to cut cost.

        Packing is what makes many short notes cheap: DetectPHI bills at least one
        100-character unit per request, and throttling is per request, not per byte.
        """
        if not pack:
            return [self.detect(t) for t in texts]
        from phiguard.detectors.comprehend.packing import pack as pack_texts
        from phiguard.detectors.comprehend.packing import unpack

        out: list[list[Span]] = [[] for _ in texts]
        for batch in pack_texts(texts, self.max_bytes):
            for note, span in unpack(batch, self.detect_chunk(batch.text)):
                out[note].append(span)
        for spans in out:
            spans.sort()
        return out

    def detect_chunk(self, text: str) -> list[Span]:
        """Spans for one request-sized text (at most `max_bytes` bytes), offsets into it."""
        if not text.strip():
            return []  # whitespace holds no PHI, and an empty Text is a validation error
        response = self._call(text)
        if response.get("PaginationToken"):
            # DetectPHI has no way to ask for the next page: re-ask with smaller pieces
            # rather than silently drop the entities that did not fit the response.
            return self._detect_split(text)
        spans = []
        widths = _Widths(text)
        for entity in response.get("Entities", []):
            span = _to_span(widths, entity)
            if span is not None:
                spans.append(span)
        return spans

    # -- internals ----------------------------------------------------------------------

    def _detect_split(self, text: str) -> list[Span]:
        size = utf8_len(text)
        if size < _MIN_SPLIT_BYTES:
            raise DetectionError(
                f"Comprehend Medical truncated its answer for a {size}-byte request; "
                "cannot split further"
            )
        log.debug("truncated DetectPHI response for %d bytes; splitting in two", size)
        spans: list[Span] = []
        for chunk in chunk_text(text, max(4, (size + 1) // 2)):
            spans.extend(s.shifted(chunk.start) for s in self.detect_chunk(chunk.text))
        return spans

    def _call(self, text: str) -> Mapping[str, Any]:
        """One DetectPHI call, retried with capped exponential backoff and full jitter."""
        for attempt in range(1, self.max_attempts + 1):
            if self.limiter is not None:
                self.limiter.acquire(1.0, float(len(text)))
            try:
                response: Mapping[str, Any] = self._client.detect_phi(Text=text)
                return response
            except Exception as exc:  # classified below; unknown kinds are re-raised
                retryable, error = _classify(exc, self._target)
                if error is None:
                    raise
                if not retryable or attempt == self.max_attempts:
                    if retryable:
                        error = DetectionError(f"{error}; gave up after {attempt} attempts")
                    raise error from None  # the cause may quote service text; keep it out
                delay = self.backoff(attempt)
                log.debug(
                    "DetectPHI attempt %d failed (%s); retrying in %.2fs", attempt, error, delay
                )
                self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def backoff(self, attempt: int) -> float:
        """Delay after failed `attempt` (1-based): full jitter under a capped exponential.

        Full jitter spreads retries from many workers so they stop hitting the quota at
        the same instant (see the AWS Architecture Blog, "Exponential Backoff And Jitter").
        """
        cap = min(self.max_delay, self.base_delay * float(2 ** min(attempt - 1, 60)))
        return cap * self._rand()


def _make_client(target: aws.Target) -> Any:
    """A comprehendmedical client from the standard credential chain, errors made readable.

    phiguard does its own retrying (with jitter and a clear final error); botocore's retries
    on top would multiply the attempts.
    """
    return aws.client(
        "comprehendmedical",
        target,
        label=SERVICE,
        error=DetectionError,
        max_attempts=1,
        connect_timeout=60.0,  # botocore's default, as before
    )


def _classify(exc: Exception, target: aws.Target) -> tuple[bool, DetectionError | None]:
    """(retryable, error to raise) for a boto3/botocore failure; (False, None) if foreign.

    Throttling, unavailability and dropped connections are retried; the wording of the final
    error is the shared one (phiguard.aws), with Comprehend's advice.
    """
    if not aws.is_aws_error(exc):
        return False, None
    code = aws.error_code(exc)
    retryable = code in RETRYABLE_CODES or type(exc).__name__ in _RETRYABLE_TRANSPORT
    return retryable, aws.translate(exc, _call(target), DetectionError)


def _call(target: aws.Target) -> aws.Call:
    return aws.Call(
        SERVICE,
        "detect PHI with Comprehend Medical",
        "comprehendmedical:DetectPHI",
        target,
        advice=_ADVICE,
        throttled="lower concurrency or ask for a higher DetectPHI quota (Service Quotas)",
    )


def _to_span(widths: _Widths, entity: Mapping[str, Any]) -> Span | None:
    """The span for one DetectPHI entity, offsets verified against the text sent."""
    try:
        begin = int(entity["BeginOffset"])
        end = int(entity["EndOffset"])
    except (KeyError, TypeError, ValueError):
        raise DetectionError("DetectPHI returned an entity without usable offsets") from None
    etype = str(entity.get("Type", ""))
    located = _locate(widths, begin, end, entity.get("Text"))
    if located is None:
        raise DetectionError(
            f"DetectPHI entity {etype or '?'} at {begin}..{end} does not match the text sent; "
            "refusing to guess where it is"
        )
    start, stop = located
    if start == stop:
        return None
    return Span(
        start,
        stop,
        _PHI_TYPES.get(etype, PhiType.OTHER.value),
        float(entity.get("Score", 0.0)),
        SOURCE,
    )


def _locate(widths: _Widths, begin: int, end: int, found: object) -> tuple[int, int] | None:
    """Where an entity really is in `text`, or None if that cannot be told safely.

    Tried in order: the offsets as code points (documented), as UTF-16 code units and as
    UTF-8 bytes (what other AWS APIs and Java/JS services use), then the one occurrence
    of the entity's text near the reported offsets. An ambiguous or missing match is
    refused: masking the wrong occurrence would leak the real one.
    """
    text = widths.text
    n = len(text)
    if not isinstance(found, str) or not found:
        return (begin, end) if 0 <= begin <= end <= n else None
    if 0 <= begin <= end <= n and text[begin:end] == found:
        return begin, end
    for units in (widths.utf16, widths.utf8):
        b, e = _index_of(units, begin), _index_of(units, end)
        if b is not None and e is not None and text[b:e] == found:
            return b, e
    lo = max(0, begin - _SEARCH_RADIUS)
    hi = min(n, max(end, begin + len(found)) + _SEARCH_RADIUS)
    hits = []
    at = text.find(found, lo, hi)
    while at >= 0:
        hits.append(at)
        at = text.find(found, at + 1, hi)
    if len(hits) == 1:
        return hits[0], hits[0] + len(found)
    return None


class _Widths:
    """Per-chunk prefix sums for offset repair, computed only if an entity needs them."""

    def __init__(self, text: str) -> None:
        self.text = text

    @cached_property
    def utf16(self) -> list[int]:
        return _prefix_sums(self.text, lambda c: 2 if ord(c) > 0xFFFF else 1)

    @cached_property
    def utf8(self) -> list[int]:
        return _prefix_sums(self.text, lambda c: len(c.encode("utf-8", "surrogatepass")))


def _index_of(units: list[int], offset: int) -> int | None:
    """The str index whose prefix width is exactly `offset`, if there is one."""
    i = bisect_left(units, offset)
    return i if i < len(units) and units[i] == offset else None


def _prefix_sums(text: str, width: Callable[[str], int]) -> list[int]:
    """Running widths: `out[i]` is the width of `text[:i]` (len(text) + 1 entries)."""
    out = [0]
    total = 0
    for ch in text:
        total += width(ch)
        out.append(total)
    return out

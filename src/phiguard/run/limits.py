"""Service quotas, held by every thread of a run: requests per second and characters per second.

Comprehend Medical's DetectPHI has two default quotas (AWS "Guidelines and quotas" for
Comprehend Medical): 100 transactions per second and 40,000 characters per second. Packing
builds requests of up to 20,000 bytes, so counting requests alone would send up to 50x the
character quota and live on throttling retries; `QuotaLimiter` holds both.

The guarantee is a sliding window: in no window of `window` seconds (1 s) do the requests sent
exceed `max_tps` nor their characters `max_cps`. Callers reserve a send time under one lock
(so threads are served in arrival order) and sleep until it comes; a request is reserved again
for every retry, since a throttled request still counts against the quota.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from phiguard.detectors.base import Metered
from phiguard.errors import ConfigError

#: Default DetectPHI request quota, in requests per second (AWS "Guidelines and quotas" of
#: Comprehend Medical). Accounts and regions differ: set `max_tps` (CLI `--max-tps`) to what the
#: Service Quotas console shows for yours.
DEFAULT_DETECTPHI_TPS = 100.0
#: Default DetectPHI character quota, in characters per second (same source; `--max-cps`).
DEFAULT_DETECTPHI_CPS = 40_000.0


@dataclass(frozen=True, slots=True)
class Quota:
    """Requests and characters allowed per second."""

    tps: float = DEFAULT_DETECTPHI_TPS
    cps: float = DEFAULT_DETECTPHI_CPS

    @classmethod
    def of(cls, tps: float | None, cps: float | None) -> Quota:
        """The quota with None meaning the DetectPHI default."""
        return cls(tps or DEFAULT_DETECTPHI_TPS, cps or DEFAULT_DETECTPHI_CPS)

    def __post_init__(self) -> None:
        if self.tps <= 0:
            raise ConfigError(f"max_tps must be positive, got {self.tps}")
        if self.cps <= 0:
            raise ConfigError(f"max_cps must be positive, got {self.cps}")

    def min_seconds(self, requests: int, chars: int) -> float:
        """The shortest time `requests` requests holding `chars` characters can take."""
        return max(requests / self.tps, chars / self.cps)


class _Window:
    """Amounts scheduled in the last `window` seconds, oldest first, for one quota."""

    def __init__(self, limit: float, window: float) -> None:
        self.limit, self.window = limit, window
        self.sent: deque[tuple[float, float]] = deque()  # (send time, amount), times ascending
        self.total = 0.0

    def earliest(self, at: float, amount: float) -> float:
        """The first time >= `at` when `amount` more fits the window (an amount above the
        limit is sent alone in its window: it cannot be split)."""
        amount = min(amount, self.limit)
        total = self.total
        for t, n in self.sent:
            if t + self.window <= at:  # already out of the window ending at `at`
                total -= n
                continue
            if total + amount <= self.limit:
                break
            at, total = t + self.window, total - n
        return at

    def add(self, at: float, amount: float) -> None:
        while self.sent and self.sent[0][0] + self.window <= at:
            self.total -= self.sent.popleft()[1]
        self.sent.append((at, amount))
        self.total += amount


class QuotaLimiter:
    """Thread-safe limiter on requests/s and characters/s over any one-second window.

    `acquire(requests, chars)` blocks until sending fits both quotas. `clock` and `sleep` are
    there so a test can run a whole simulated run on a fake clock.
    """

    def __init__(
        self,
        quota: Quota | None = None,
        *,
        window: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.quota = quota or Quota()
        self._requests = _Window(self.quota.tps * window, window)
        self._chars = _Window(self.quota.cps * window, window)
        self._clock, self._sleep = clock, sleep
        self._last = float("-inf")
        self._lock = threading.Lock()

    def acquire(self, requests: float = 1.0, chars: float = 0.0) -> None:
        with self._lock:
            now = self._clock()
            at = max(now, self._last)  # never ahead of an earlier caller
            while True:
                fits = max(self._requests.earliest(at, requests), self._chars.earliest(at, chars))
                if fits == at:
                    break
                at = fits
            self._requests.add(at, requests)
            self._chars.add(at, chars)
            self._last = at
        if at > now:
            self._sleep(at - now)


def meter(detector: object, quota: Quota) -> None:
    """Give a metered detector a limiter for `quota`, shared by every thread and every run of
    this process (quotas are per account and region), unless it already has one for it."""
    if not isinstance(detector, Metered):
        return
    if getattr(detector.limiter, "quota", None) == quota:  # a limiter (or a wrapper) for it
        return
    detector.limiter = QuotaLimiter(quota)

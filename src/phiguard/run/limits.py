"""Rate limits for detection services, shared by every thread of a run."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from phiguard.errors import ConfigError

#: Default rate limit for Comprehend Medical DetectPHI requests, in requests per second.
#: 100 TPS is the default DetectPHI quota documented by AWS ("Guidelines and quotas" of
#: Comprehend Medical); accounts and regions differ, so set `max_tps` (CLI `--max-tps`)
#: to your account's quota as shown in the Service Quotas console.
DEFAULT_DETECTPHI_TPS = 100.0


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

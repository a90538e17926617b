"""What every phiguard Lambda handler shares: the deadline, PHI-free errors, PHI-free logs.

- **Stop before the deadline.** `Deadline` reads `context.get_remaining_time_in_millis()`;
  handlers check it before each step that cannot be taken back (every DetectPHI request, the
  vault write, each record of a batch) and stop with `DeadlineExceeded` while there is still
  time to say so, instead of being killed mid-way. Nothing is released by a stopped handler.
- **Errors Step Functions can match.** The Lambda runtime reports an exception's class name
  as the error (`DetectionError`, `VaultError`, `InputError`, `DeadlineExceeded`, ...), which
  the state machine's Retry and Catch match on. phiguard's messages are PHI-free by contract;
  any other exception may quote the note, so it becomes `InternalError` naming only its type
  and line.
- **Logs hold no PHI**: handler name, counts, types, durations. Third-party loggers (botocore
  may log request bodies) are held at ERROR.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from phiguard.errors import PhiguardError
from phiguard.logs import THIRD_PARTY
from phiguard.run.limits import Quota, QuotaLimiter

log = logging.getLogger("phiguard.aws_lambda")

#: Milliseconds kept in hand when a handler stops for the deadline (override with
#: PHIGUARD_DEADLINE_MARGIN_MS): enough for one more answer to reach the caller.
DEFAULT_MARGIN_MS = 3000

R = TypeVar("R")


class DeadlineExceeded(PhiguardError):
    """A handler stopped before its Lambda deadline; nothing was released."""

    exit_code = 4


class InternalError(PhiguardError):
    """An unexpected error; its message, which could quote the note, was withheld."""


class Deadline:
    """The invocation's deadline, from the Lambda context (none outside Lambda)."""

    def __init__(self, context: Any, margin_ms: float) -> None:
        self._remaining: Callable[[], float] | None = getattr(
            context, "get_remaining_time_in_millis", None
        )
        self.margin_ms = margin_ms

    def remaining_ms(self) -> float | None:
        return None if self._remaining is None else float(self._remaining())

    def check(self, before: str) -> None:
        """Raise `DeadlineExceeded` if less than the margin is left before `before`."""
        left = self.remaining_ms()
        if left is not None and left < self.margin_ms:
            raise DeadlineExceeded(
                f"stopped {left:.0f} ms before the Lambda deadline, before {before}; nothing "
                "was released (raise the function timeout or send smaller inputs)"
            )


class _Invocation:
    """The deadline of the invocation running now. Lambda runs one invocation at a time per
    container; a plain attribute (not a ContextVar) so detection threads see it too."""

    deadline: Deadline | None = None


class DeadlineGate:
    """A `RequestLimiter` for metered detectors: every service request waits for the quota
    (this container's share: see docs/aws.md), then checks the invocation's deadline."""

    def __init__(self, limiter: QuotaLimiter) -> None:
        self.limiter = limiter

    @property
    def quota(self) -> Quota:
        """The quota held (so the run layer keeps this gate instead of replacing it)."""
        return self.limiter.quota

    def acquire(self, requests: float = 1.0, chars: float = 0.0) -> None:
        self.limiter.acquire(requests, chars)
        if _Invocation.deadline is not None:
            _Invocation.deadline.check("a detection request")


def current_deadline() -> Deadline:
    """The running invocation's deadline (a no-deadline one outside a handler)."""
    return _Invocation.deadline or Deadline(None, 0)


def _margin() -> float:
    value = os.environ.get("PHIGUARD_DEADLINE_MARGIN_MS", str(DEFAULT_MARGIN_MS))
    try:
        return float(value)
    except ValueError:
        return float(DEFAULT_MARGIN_MS)


def _where(exc: BaseException) -> str:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return f" at {Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}" if tb else ""


def lambda_handler(fn: Callable[[Any, Any], R]) -> Callable[[Any, Any], R]:
    """Wrap a handler: set the deadline, log one PHI-free line, map errors (module docstring)."""
    name = fn.__name__

    @functools.wraps(fn)
    def run(event: Any, context: Any) -> R:
        _Invocation.deadline = Deadline(context, _margin())
        started = time.monotonic()
        try:
            result = fn(event, context)
        except PhiguardError as exc:
            log.warning("%s: %s: %s", name, type(exc).__name__, exc)
            raise exc from None
        except Exception as exc:
            where = _where(exc)
            log.error("%s: internal error %s%s", name, type(exc).__name__, where)
            raise InternalError(
                f"internal error ({type(exc).__name__}{where}); its message was withheld, "
                "nothing was released"
            ) from None
        finally:
            _Invocation.deadline = None
        log.info("%s: done in %.0f ms", name, (time.monotonic() - started) * 1000)
        return result

    return run


def quiet_third_party_logs() -> None:
    """phiguard at INFO (or PHIGUARD_LOG_LEVEL), every library that might log a body at ERROR."""
    level = os.environ.get("PHIGUARD_LOG_LEVEL", "INFO").upper()
    logging.getLogger("phiguard").setLevel(level if level in logging._nameToLevel else "INFO")
    for lib in THIRD_PARTY:
        logging.getLogger(lib).setLevel(logging.ERROR)

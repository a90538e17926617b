"""Comprehend at its real quotas: requests/s and characters/s both held, by all threads at once.

A whole batch run (threads, packing, the real ComprehendDetector on a Stubber-backed botocore
client) runs on a virtual clock: each thread has its own time, moved forward only by the
limiter's sleeps, so every request is stamped with the moment the limiter let it go. Then every
one-second window of the log is checked against both quotas.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from phiguard import Deidentifier, RunOptions
from phiguard.detectors.comprehend.detector import ComprehendDetector
from phiguard.errors import ConfigError
from phiguard.run.limits import Quota, QuotaLimiter, meter

WORDS = ("patient", "seen", "today", "for", "follow", "up", "of", "chest", "pain", "stable")


class VirtualClock:
    """Per-thread virtual time: `clock()` syncs the calling thread to the latest time any thread
    reached, `sleep(s)` moves only the caller forward. No real time passes."""

    def __init__(self) -> None:
        self.latest = 0.0
        self._lock = threading.Lock()
        self._local = threading.local()

    def clock(self) -> float:
        with self._lock:
            self._local.t = max(getattr(self._local, "t", 0.0), self.latest)
            return float(self._local.t)

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        with self._lock:
            self._local.t = getattr(self._local, "t", 0.0) + seconds
            self.latest = max(self.latest, self._local.t)

    def now(self) -> float:
        return float(getattr(self._local, "t", 0.0))


def _notes(n: int, low: int, high: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        size = rng.randint(low, high)
        words: list[str] = []
        length = 0
        while length < size:
            words.append(rng.choice(WORDS))
            length += len(words[-1]) + 1
        out.append(" ".join(words) + ".")
    return out


@pytest.fixture()
def metered(aws_env: None) -> Iterator[tuple[ComprehendDetector, VirtualClock, list[Any]]]:
    """A real DetectPHI client answered by a Stubber; each request is logged as (virtual time
    it was let go, characters)."""
    client = boto3.client("comprehendmedical", region_name="us-east-1")
    clock = VirtualClock()
    sent: list[tuple[float, int]] = []
    lock = threading.Lock()

    def record(params: dict[str, Any], **_: Any) -> None:
        with lock:
            sent.append((clock.now(), len(params["Text"])))

    client.meta.events.register("provide-client-params.comprehendmedical.DetectPHI", record)
    with Stubber(client) as stub:
        for _ in range(2000):  # more than any run below sends; answered in any thread order
            stub.add_response("detect_phi", {"Entities": [], "ModelVersion": "2.0.0"})
        yield ComprehendDetector(client=client), clock, sent


def _held(
    metered: tuple[ComprehendDetector, VirtualClock, list[Any]],
    notes: list[str],
    quota: Quota,
    **run: Any,
) -> list[tuple[float, int]]:
    """Run `notes` through a batch at `quota`; check every one-second window holds both
    quotas; the request log, (virtual time, characters)."""
    detector, clock, sent = metered
    detector.limiter = QuotaLimiter(quota, clock=clock.clock, sleep=clock.sleep)
    d = Deidentifier(detector, run=RunOptions(max_tps=quota.tps, max_cps=quota.cps, **run))
    results = list(d.mask_many(notes))
    assert [r.value for r in results] == notes  # nothing found, nothing lost, in order
    requests, chars = _worst_windows(sent)
    assert requests <= quota.tps and chars <= quota.cps
    return list(sent)


def _worst_windows(sent: list[tuple[float, int]]) -> tuple[int, int]:
    """Most requests and most characters in any window (t - 1 s, t]."""
    log = sorted(sent)
    most_requests = most_chars = 0
    for t, _ in log:
        inside = [c for s, c in log if s <= t and s + 1.0 > t]
        most_requests = max(most_requests, len(inside))
        most_chars = max(most_chars, sum(inside))
    return most_requests, most_chars


def test_packed_long_notes_are_held_to_the_character_quota(
    metered: tuple[ComprehendDetector, VirtualClock, list[Any]],
) -> None:
    sent = _held(metered, _notes(400, 500, 6000, seed=1), Quota(tps=100, cps=40_000), workers=8)
    assert max(c for _, c in sent) > 10_000  # packing did build big requests
    total = sum(c for _, c in sent)
    # packed requests carry ~20,000 characters: the character quota binds, not the request one
    assert len(sent) / 100 < total / 40_000
    # ...and it is used: a strict window loses some room to ~20,000-character requests that do
    # not tile it (measured: 82% of 40,000/s on this corpus), never more than a quarter
    took = max(t for t, _ in sent) + 1.0  # the last request's window
    assert 0.75 * 40_000 <= total / took <= 40_000


def test_one_request_per_short_note_is_held_to_the_request_quota(
    metered: tuple[ComprehendDetector, VirtualClock, list[Any]],
) -> None:
    notes = _notes(700, 20, 60, seed=2)
    # chunk_size 1: no packing, one note per request
    sent = _held(metered, notes, Quota(tps=100, cps=40_000), workers=8, chunk_size=1)
    assert len(sent) == 700
    assert 6.0 - 0.01 <= max(t for t, _ in sent) <= 7.0  # 700 requests at 100/s


def test_quotas_below_the_defaults_hold_too(
    metered: tuple[ComprehendDetector, VirtualClock, list[Any]],
) -> None:
    sent = _held(metered, _notes(120, 200, 3000, seed=3), Quota(tps=3, cps=25_000), workers=4)
    assert len(sent) > 3 * 2  # long enough for the window to matter


def test_a_retried_request_counts_again(aws_env: None) -> None:
    client = boto3.client("comprehendmedical", region_name="us-east-1")
    clock = VirtualClock()
    with Stubber(client) as stub:
        stub.add_client_error("detect_phi", "ThrottlingException", http_status_code=400)
        stub.add_response("detect_phi", {"Entities": [], "ModelVersion": "2.0.0"})
        stub.add_response("detect_phi", {"Entities": [], "ModelVersion": "2.0.0"})
        detector = ComprehendDetector(client=client, sleep=lambda s: None)
        detector.limiter = QuotaLimiter(
            Quota(tps=1, cps=40_000), clock=clock.clock, sleep=clock.sleep
        )
        detector.detect("one note")
        detector.detect("another")  # after the retry: the third request of the quota of 1/s
    assert clock.now() == pytest.approx(2.0)


def test_the_run_attaches_one_limiter_per_quota(aws_env: None) -> None:
    detector = ComprehendDetector(client=boto3.client("comprehendmedical", region_name="us-east-1"))
    meter(detector, Quota())
    first = detector.limiter
    meter(detector, Quota())
    assert detector.limiter is first  # later runs share the process's quota
    meter(detector, Quota(tps=10))
    assert isinstance(detector.limiter, QuotaLimiter) and detector.limiter.quota.tps == 10
    # a Lambda's gate (quota, then deadline) is kept by the run layer: it holds the quota too
    from phiguard.aws_lambda.runtime import DeadlineGate

    gate = DeadlineGate(QuotaLimiter(Quota()))
    detector.limiter = gate
    meter(detector, Quota())
    assert detector.limiter is gate


def test_bad_quotas_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="max_cps"):
        RunOptions(max_cps=0)
    with pytest.raises(ConfigError, match="max_tps"):
        Quota(tps=-1)


def test_dry_run_prints_the_minimum_time_at_both_quotas(run: Any, tmp_path: Path) -> None:
    note = " ".join(["word"] * 1600)[:8000]  # 8,000 ASCII characters: two fit one request
    corpus = tmp_path / "notes.jsonl"
    corpus.write_text("".join(f'{{"text": "{note}"}}\n' for _ in range(50)), encoding="utf-8")
    r = run("deid", "--backend", "comprehend", "--dry-run", "--jsonl", str(corpus))
    assert r.code == 0, r.err
    # 400,000 characters: 10 s at 40,000/s whether packed (25 requests) or not (50)
    line = r.text.splitlines()[-1]
    assert line == (
        "minimum time at 100 requests/s and 40000 characters/s: 10.0 s one request per note, "
        "10.0 s packed"
    )
    r = run(
        "deid", "--backend", "comprehend", "--dry-run", "--max-tps", "1", "--jsonl", f"{corpus}"
    )
    assert r.text.splitlines()[-1].endswith(
        "at 1 requests/s and 40000 characters/s: 50.0 s one request per note, 25.0 s packed"
    )

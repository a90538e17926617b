"""Prometheus metrics: counts, types and latencies only; never text, ids or keys.

Routes are labelled by their template (unknown paths as "other"), so a caller cannot grow the
label set. With several worker processes `phiguard serve` points PROMETHEUS_MULTIPROC_DIR at a
private directory before they start, and /metrics adds up every worker's values.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter(
    "phiguard_http_requests_total", "HTTP requests answered", ["route", "method", "status"]
)
LATENCY = Histogram(
    "phiguard_http_request_duration_seconds",
    "Time from the request's arrival to the end of its answer",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
IN_FLIGHT = Gauge(
    "phiguard_http_requests_in_flight", "Requests being answered", multiprocess_mode="livesum"
)
NOTES = Counter(
    "phiguard_notes_total", "Notes processed, by operation and outcome", ["operation", "outcome"]
)
SPANS = Counter("phiguard_phi_spans_total", "PHI spans found, by type", ["operation", "type"])
AUTH_FAILURES = Counter(
    "phiguard_auth_failures_total", "Refused authentications, by reason", ["reason"]
)


def render() -> tuple[bytes, str]:
    """The exposition text: this process's metrics, or every worker's in multiprocess mode."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


def process_exited(pid: int) -> None:
    """Drop a stopped worker's live gauges (multiprocess mode)."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]

"""Detectors are chosen by name; each lives in its own module and is imported on demand."""

from __future__ import annotations

from typing import Any

from phiguard.detectors.base import Detector
from phiguard.errors import ConfigError

BACKENDS = ("local", "comprehend")

_cache: dict[tuple[str, tuple[tuple[str, Any], ...]], Detector] = {}


def get_detector(name: str = "local", **options: Any) -> Detector:
    """Build (once per process and option set) and return the detector called `name`.

    Model loading is slow, so detectors are cached: ETL jobs call this per note for free.
    """
    key = (name, tuple(sorted(options.items())))
    if key in _cache:
        return _cache[key]
    detector: Detector
    if name == "local":
        from phiguard.detectors.local.detector import LocalDetector

        detector = LocalDetector(**options)
    elif name == "comprehend":
        from phiguard.detectors.comprehend.detector import ComprehendDetector

        detector = ComprehendDetector(**options)
    else:
        raise ConfigError(f"unknown backend {name!r}; choose one of: {', '.join(BACKENDS)}")
    _cache[key] = detector
    return detector


__all__ = ["BACKENDS", "Detector", "get_detector"]

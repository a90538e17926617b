"""Detectors are chosen by name from a registry; each backend is imported only when asked for."""

from __future__ import annotations

import importlib
from typing import Any

from phiguard.detectors.base import BaseDetector, Capabilities, Detector
from phiguard.errors import ConfigError

#: Backend name → "module:class". A backend's module is imported on first use, so the
#: comprehend backend needs no spaCy and the local one no boto3.
REGISTRY: dict[str, str] = {
    "local": "phiguard.detectors.local.detector:LocalDetector",
    "comprehend": "phiguard.detectors.comprehend.detector:ComprehendDetector",
    "comprehend-async": "phiguard.detectors.comprehend.jobs:AsyncComprehendDetector",
}
BACKENDS = tuple(REGISTRY)

_built: dict[tuple[str, tuple[tuple[str, Any], ...]], Detector] = {}


def get_detector(name: str = "local", **options: Any) -> Detector:
    """Build (once per process and option set) and return the detector called `name`.

    Model loading is slow, so detectors are cached: ETL jobs call this per note for free.
    """
    key = (name, tuple(sorted(options.items())))
    found = _built.get(key)
    if found is not None:
        return found
    target = REGISTRY.get(name)
    if target is None:
        raise ConfigError(f"unknown backend {name!r}; choose one of: {', '.join(BACKENDS)}")
    module, _, cls = target.partition(":")
    detector: Detector = getattr(importlib.import_module(module), cls)(**options)
    _built[key] = detector
    return detector


__all__ = ["BACKENDS", "REGISTRY", "BaseDetector", "Capabilities", "Detector", "get_detector"]

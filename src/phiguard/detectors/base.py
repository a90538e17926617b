"""The detector interface: anything with a name that turns text into spans."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from phiguard.spans import Span


@runtime_checkable
class Detector(Protocol):
    """A PHI detector.

    `detect` returns spans with offsets into exactly the `text` it was given (Python str
    indices). It may return overlapping spans: the resolver settles them. It raises
    `phiguard.errors.DetectionError` (with no PHI in the message) when it cannot answer:
    callers then release nothing for that text.
    """

    name: str

    def detect(self, text: str) -> list[Span]: ...

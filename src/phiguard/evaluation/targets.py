"""Accuracy targets and whether a report meets them (`phiguard eval --targets`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from phiguard.errors import PhiguardError
from phiguard.evaluation.gold import GoldSet
from phiguard.evaluation.scoring import EvalReport

EXIT_TARGETS_FAILED = 8
"""`phiguard eval --targets` exit status when any target is missed (documented in docs/cli.md)."""


class TargetsNotMet(PhiguardError):
    """Raised by callers that want `--targets` failures to travel as an error."""

    exit_code = EXIT_TARGETS_FAILED


# --------------------------------------------------------------------------- gold data


@dataclass(frozen=True, slots=True)
class Target:
    """A minimum for one metric: `label` None means the overall row."""

    metric: str  # "recall" or "precision"
    minimum: float
    label: str | None = None
    level: str = "token"

    def describe(self) -> str:
        row = self.label or "overall"
        return f"{self.level} {row} {self.metric} >= {self.minimum:g}"


@dataclass(frozen=True, slots=True)
class TargetResult:
    """`passed` is None when the metric is undefined (e.g. no gold tokens of that label)."""

    gold_name: str
    target: Target
    value: float | None
    passed: bool | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "gold": self.gold_name,
            "target": self.target.describe(),
            "value": None if self.value is None else round(self.value, 4),
            "status": {True: "PASS", False: "FAIL", None: "N/A"}[self.passed],
        }


CORPUS_TARGETS: tuple[Target, ...] = (
    Target("recall", 0.98),
    Target("precision", 0.85),
    *(Target("recall", 0.95, label) for label in ("NAME", "DATE", "LOCATION", "PHONE")),
)
"""The project's targets on an annotated corpus (the PhysioNet dev set), token level."""

SAMPLE_TARGETS: tuple[Target, ...] = (Target("recall", 1.0),)
"""On the hand-made sample every PHI token must go."""


def default_targets(gold: GoldSet) -> tuple[Target, ...]:
    """Corpus targets for JSONL corpora, recall 1.0 for single-document sample files."""
    return SAMPLE_TARGETS if gold.format == "sample" else CORPUS_TARGETS


def check_targets(report: EvalReport, targets: Iterable[Target]) -> list[TargetResult]:
    """Compare a report with targets, unrounded: recall 1.0 means not one token left."""
    results = []
    for t in targets:
        level = report.levels[t.level]
        row = level.overall if t.label is None else level.by_label.get(t.label)
        value = None if row is None else getattr(row, t.metric)
        passed = None if value is None else value >= t.minimum
        results.append(TargetResult(report.name, t, value, passed))
    return results


# --------------------------------------------------------------------------- formatting

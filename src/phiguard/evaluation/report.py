"""Reports of an evaluation: text tables and JSON, with no note text unless asked."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from phiguard.evaluation.scoring import LEVELS, EvalReport, Scores
from phiguard.evaluation.targets import TargetResult


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.4f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Plain aligned columns (first left, others right): readable on a terminal and in a pipe."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for r in [header, *rows]:
        cells = [
            str(c).ljust(w) if i == 0 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def _breakdown(
    report: EvalReport,
    by: str,
    title: str,
    header: Sequence[str],
    cells: Callable[[Scores], list[str]],
) -> list[str]:
    """One row per label (`by="by_label"`) or predicted type (`"by_type"`), one pair of
    cells per scoring level; nothing when the report has none."""
    keys = sorted({k for ls in report.levels.values() for k in getattr(ls, by)})
    if not keys:
        return []
    rows = [
        [
            key,
            *(
                c
                for level in LEVELS
                for c in cells(getattr(report.levels[level], by).get(key, Scores()))
            ),
        ]
        for key in keys
    ]
    return ["", title, *_table(header, rows)]


def format_text(report: EvalReport) -> str:
    """A human-readable report. Contains note text only if the report holds examples."""
    cps = f"{report.characters / report.seconds:,.0f} chars/s" if report.seconds else "-"
    lines = [
        f"== {report.name or 'gold'}: detector {report.detector}, {report.documents} documents, "
        f"{report.characters:,} chars, {report.seconds:.2f}s ({cps})",
    ]
    if report.config:
        lines.append("   " + ", ".join(f"{k}={v}" for k, v in report.config))
    lines.append("")
    rows = []
    for level, ls in report.levels.items():
        o = ls.overall
        rows.append(
            [
                level,
                str(o.gold),
                str(o.found),
                str(o.predicted),
                str(o.correct),
                _pct(o.precision),
                _pct(o.recall),
                _pct(o.f1),
                _pct(o.f2),
            ]
        )
    lines += _table(
        ["level", "gold", "found", "pred", "correct", "precision", "recall", "F1", "F2"], rows
    )

    lines += _breakdown(
        report,
        "by_label",
        "recall by gold label (found/gold; found by a span of any type)",
        ["label", "token", "recall", "overlap", "recall", "exact", "recall"],
        lambda s: [f"{s.found}/{s.gold}", _pct(s.recall)],
    )
    lines += _breakdown(
        report,
        "by_type",
        "precision by predicted type (correct/predicted; correct = on PHI of any label)",
        ["type", "token", "precision", "overlap", "precision", "exact", "precision"],
        lambda s: [f"{s.correct}/{s.predicted}", _pct(s.precision)],
    )

    lines += [
        "",
        f"missed gold spans (a token left): {report.missed_total}; "
        f"false-positive spans (no gold overlap): {report.false_positive_total}",
    ]
    if report.examples:
        lines += ["", "examples (CONTAIN PHI):"]
        for e in report.examples:
            lines.append(
                f"  {e.kind:<14} {e.record_id} {e.start}..{e.end} {e.label:<12} {e.context}"
            )
    return "\n".join(lines)


def format_targets(results: Iterable[TargetResult]) -> str:
    """One `PASS`/`FAIL`/`N/A` line per target."""
    return "\n".join(
        f"{r.to_dict()['status']:<4}  {r.gold_name}: {r.target.describe()}  (got {_pct(r.value)})"
        for r in results
    )


def format_json(
    reports: Sequence[EvalReport], targets: Sequence[TargetResult] | None = None
) -> str:
    """The JSON document `phiguard eval --format json` prints."""
    doc: dict[str, Any] = {"reports": [r.to_dict() for r in reports]}
    if targets is not None:
        doc["targets"] = [t.to_dict() for t in targets]
        doc["targets_passed"] = all(t.passed is not False for t in targets)
    return json.dumps(doc, indent=2)

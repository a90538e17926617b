"""Reports of an evaluation: text tables and JSON, with no note text unless asked."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
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

    labels = sorted({k for ls in report.levels.values() for k in ls.by_label})
    if labels:
        lines += ["", "recall by gold label (found/gold; found by a span of any type)"]
        rows = []
        for label in labels:
            row = [label]
            for level in LEVELS:
                s = report.levels[level].by_label.get(label, Scores())
                row += [f"{s.found}/{s.gold}", _pct(s.recall)]
            rows.append(row)
        lines += _table(["label", "token", "recall", "overlap", "recall", "exact", "recall"], rows)

    types = sorted({k for ls in report.levels.values() for k in ls.by_type})
    if types:
        lines += [
            "",
            "precision by predicted type (correct/predicted; correct = on PHI of any label)",
        ]
        rows = []
        for type_ in types:
            row = [type_]
            for level in LEVELS:
                s = report.levels[level].by_type.get(type_, Scores())
                row += [f"{s.correct}/{s.predicted}", _pct(s.precision)]
            rows.append(row)
        lines += _table(
            ["type", "token", "precision", "overlap", "precision", "exact", "precision"], rows
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

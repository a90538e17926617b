"""Score a detector against gold PHI annotations: the library behind `phiguard eval`.

Three levels are scored, each with precision, recall, F1 and F2 (recall weighted: a leak
costs more than an over-redaction):

- **token**: text is split into `\\w+` tokens. A token is gold PHI if any gold span overlaps
  it and predicted PHI if any predicted span overlaps it, whatever the types. This is the
  "was it removed" measure, insensitive to the annotators' boundary conventions (the PhysioNet
  gold marks "mary" and "souza" as two spans; a detector finding "mary souza" is right).
- **entity_overlap**: a gold span is found if any predicted span overlaps it; a predicted span
  is correct if it overlaps any gold span.
- **entity_exact**: same, but the offsets must be identical.

Scoring is type-agnostic: a name removed as a LOCATION is still removed. So recall is reported
per *gold label* (how much of each kind of PHI was removed, by any span) and precision per
*predicted type* (how much of what each type flags is PHI of any kind). Per-label precision is
not reported: with type-agnostic matching it has no sound definition.

Nothing here puts note text in a report unless the caller asks for examples (`show_misses`),
because misses and false positives are PHI with context.
"""

from __future__ import annotations

import json
import re
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from phiguard.errors import DetectionError, InputError, PhiguardError
from phiguard.io import read_text
from phiguard.spans import Span

__all__ = [
    "CORPUS_TARGETS",
    "EXIT_TARGETS_FAILED",
    "LEVELS",
    "SAMPLE_TARGETS",
    "EvalReport",
    "Example",
    "GoldRecord",
    "GoldSet",
    "GoldSpan",
    "LevelScores",
    "Postprocess",
    "Scores",
    "Target",
    "TargetResult",
    "TargetsNotMet",
    "annotated_age_policy",
    "check_targets",
    "default_targets",
    "detect_all",
    "evaluate",
    "format_json",
    "format_targets",
    "format_text",
    "load_gold",
    "score",
]

LEVELS = ("token", "entity_overlap", "entity_exact")

EXIT_TARGETS_FAILED = 8
"""`phiguard eval --targets` exit status when any target is missed (documented in docs/cli.md)."""

Postprocess = Callable[[str, list[Span]], list[Span]]
"""Applied to each text's raw spans before scoring, e.g. a `phiguard.resolve.Resolver`."""

_TOKEN = re.compile(r"\w+")


class TargetsNotMet(PhiguardError):
    """Raised by callers that want `--targets` failures to travel as an error."""

    exit_code = EXIT_TARGETS_FAILED


# --------------------------------------------------------------------------- gold data


@dataclass(frozen=True, slots=True)
class GoldSpan:
    """One gold annotation; `label` is the normalised label (NAME, DATE, LOCATION, ...)."""

    start: int
    end: int
    label: str
    orig_label: str = ""


@dataclass(frozen=True, slots=True)
class GoldRecord:
    """One annotated document."""

    id: str
    text: str
    spans: tuple[GoldSpan, ...]


@dataclass(frozen=True, slots=True)
class GoldSet:
    """The records of one gold file; `name` is the file name (used to pick targets)."""

    name: str
    path: str
    format: str  # "jsonl" (PhysioNet corpus) or "sample" (one document, text in a side file)
    records: tuple[GoldRecord, ...]


def _as_int(value: object, where: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{where}: span field {key!r} must be an integer")
    return value


def _parse_record(obj: object, text: str | None, where: str, default_id: str) -> GoldRecord:
    """Validate one record; error messages give positions and field names, never text."""
    if not isinstance(obj, dict):
        raise InputError(f"{where}: expected a JSON object")
    if text is None:
        text = obj.get("text")
        if not isinstance(text, str):
            raise InputError(f"{where}: missing string field 'text'")
    rec_id = obj.get("id", default_id)
    raw_spans = obj.get("spans")
    if not isinstance(raw_spans, list):
        raise InputError(f"{where}: missing list field 'spans'")
    spans: list[GoldSpan] = []
    for i, raw in enumerate(raw_spans):
        at = f"{where}, span {i}"
        if not isinstance(raw, dict):
            raise InputError(f"{at}: expected a JSON object")
        start = _as_int(raw.get("start"), at, "start")
        end = _as_int(raw.get("end"), at, "end")
        if not 0 <= start < end <= len(text):
            raise InputError(f"{at}: offsets {start}..{end} outside text of length {len(text)}")
        label = raw.get("label")
        if not isinstance(label, str) or not label:
            raise InputError(f"{at}: missing string field 'label'")
        expected = raw.get("text")
        if isinstance(expected, str) and text[start:end] != expected:
            raise InputError(f"{at}: span text does not match the offsets {start}..{end}")
        orig = raw.get("orig_label")
        spans.append(GoldSpan(start, end, label.upper(), orig if isinstance(orig, str) else ""))
    spans.sort(key=lambda s: (s.start, s.end))
    return GoldRecord(str(rec_id), text, tuple(spans))


def load_gold(path: str | Path) -> GoldSet:
    """Load a gold file: PhysioNet-style JSONL (one record a line) or a sample `.json` object.

    The sample format is `{"id", "text_file", "spans"}` with `text_file` relative to the JSON
    file (an inline `"text"` is accepted too). Any problem raises `InputError` naming the file
    and line, never the note text.
    """
    p = Path(path)
    raw = read_text(p, "gold file ")
    if not raw.strip():
        raise InputError(f"gold file is empty: {p}")
    records: list[GoldRecord] = []
    if p.suffix.lower() == ".jsonl":
        # split on "\n" only: str.splitlines() would also break on U+2028 inside a note
        for lineno, line in enumerate(raw.split("\n"), 1):
            if not line.strip():
                continue
            where = f"{p}:{lineno}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{where}: invalid JSON ({exc.msg})") from None
            records.append(_parse_record(obj, None, where, f"line{lineno}"))
        return GoldSet(p.name, str(p), "jsonl", tuple(records))
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(f"{p}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    objs = obj if isinstance(obj, list) else [obj]
    for i, item in enumerate(objs):
        where = f"{p} [record {i}]" if isinstance(obj, list) else str(p)
        text: str | None = None
        if isinstance(item, dict) and "text" not in item:
            text_file = item.get("text_file")
            if not isinstance(text_file, str):
                raise InputError(f"{where}: needs a string field 'text' or 'text_file'")
            text = read_text(p.parent / text_file, "gold text file ")
        default_id = p.name.removesuffix(".json").removesuffix(".gold")
        records.append(_parse_record(item, text, where, default_id))
    if not records:
        raise InputError(f"gold file has no records: {p}")
    return GoldSet(p.name, str(p), "sample", tuple(records))


# --------------------------------------------------------------------------- scores


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def _fbeta(p: float | None, r: float | None, beta: float) -> float | None:
    if p is None or r is None:
        return None
    b2 = beta * beta
    den = b2 * p + r
    return (1 + b2) * p * r / den if den else 0.0


@dataclass(frozen=True, slots=True)
class Scores:
    """Counts and the metrics derived from them.

    Recall and precision are counted separately (`found`/`gold`, `correct`/`predicted`)
    because with overlap matching one predicted span can find two gold spans. A metric whose
    denominator is zero is `None` (JSON null), e.g. precision for a per-label row.
    """

    gold: int = 0
    found: int = 0
    predicted: int = 0
    correct: int = 0

    @property
    def recall(self) -> float | None:
        return _ratio(self.found, self.gold)

    @property
    def precision(self) -> float | None:
        return _ratio(self.correct, self.predicted)

    @property
    def f1(self) -> float | None:
        return _fbeta(self.precision, self.recall, 1.0)

    @property
    def f2(self) -> float | None:
        return _fbeta(self.precision, self.recall, 2.0)

    def __add__(self, other: Scores) -> Scores:
        return Scores(
            self.gold + other.gold,
            self.found + other.found,
            self.predicted + other.predicted,
            self.correct + other.correct,
        )

    def to_dict(self) -> dict[str, Any]:
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 4)

        return {
            "gold": self.gold,
            "found": self.found,
            "predicted": self.predicted,
            "correct": self.correct,
            "precision": r(self.precision),
            "recall": r(self.recall),
            "f1": r(self.f1),
            "f2": r(self.f2),
        }


@dataclass(frozen=True, slots=True)
class LevelScores:
    """One level: overall scores, recall per gold label, precision per predicted type."""

    overall: Scores
    by_label: dict[str, Scores]
    by_type: dict[str, Scores]

    def to_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall.to_dict(),
            "by_label": {k: v.to_dict() for k, v in sorted(self.by_label.items())},
            "by_type": {k: v.to_dict() for k, v in sorted(self.by_type.items())},
        }


@dataclass(frozen=True, slots=True)
class Example:
    """A miss or false positive. `context` holds PHI: only built when the caller asks."""

    kind: str  # "miss" or "false_positive"
    record_id: str
    start: int
    end: int
    label: str  # gold label for a miss, predicted type for a false positive
    context: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.record_id,
            "start": self.start,
            "end": self.end,
            "label": self.label,
            "context": self.context,
        }


@dataclass(frozen=True, slots=True)
class EvalReport:
    """Everything `phiguard eval` prints for one gold file. No note text unless `examples`."""

    name: str
    detector: str
    documents: int
    characters: int
    seconds: float
    levels: dict[str, LevelScores]
    examples: tuple[Example, ...] = ()
    missed_total: int = 0
    false_positive_total: int = 0
    config: tuple[tuple[str, str], ...] = ()  # detector settings worth printing (age policy)

    @property
    def token(self) -> LevelScores:
        return self.levels["token"]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "detector": self.detector,
            "documents": self.documents,
            "characters": self.characters,
            "seconds": round(self.seconds, 3),
            "chars_per_second": round(self.characters / self.seconds) if self.seconds else None,
            "missed_spans": self.missed_total,
            "false_positive_spans": self.false_positive_total,
            "config": dict(self.config),
            "levels": {k: v.to_dict() for k, v in self.levels.items()},
        }
        if self.examples:
            out["examples"] = [e.to_dict() for e in self.examples]
        return out


class _Acc:
    """Mutable accumulator for one level while scoring."""

    def __init__(self) -> None:
        self.overall = Scores()
        self.by_label: dict[str, Scores] = {}
        self.by_type: dict[str, Scores] = {}

    def label(self, label: str, hit: bool) -> None:
        self.by_label[label] = self.by_label.get(label, Scores()) + Scores(1, int(hit), 0, 0)

    def type(self, type_: str, ok: bool) -> None:
        self.by_type[type_] = self.by_type.get(type_, Scores()) + Scores(0, 0, 1, int(ok))

    def freeze(self) -> LevelScores:
        return LevelScores(self.overall, dict(self.by_label), dict(self.by_type))


def _any_overlap(items: Sequence[tuple[int, int]], others: Sequence[tuple[int, int]]) -> list[bool]:
    """For each item, whether any of `others` overlaps it: O((n + m) log m), not O(n * m)."""
    ordered = sorted(others)
    starts = [s for s, _ in ordered]
    max_end: list[int] = []  # max_end[k]: the furthest end among the first k + 1 spans
    for _, e in ordered:
        max_end.append(max(e, max_end[-1]) if max_end else e)
    out = []
    for start, end in items:
        k = bisect_left(starts, end)  # ordered[:k] are the spans starting before `end`
        out.append(k > 0 and max_end[k - 1] > start)
    return out


def _context(text: str, start: int, end: int, window: int) -> str:
    left = text[max(0, start - window) : start]
    right = text[end : end + window]
    return " ".join(f"{left}[[{text[start:end]}]]{right}".split())


def _score_record(
    record: GoldRecord,
    predicted: Sequence[Span],
    accs: dict[str, _Acc],
    examples: list[Example],
    want_examples: int,
    window: int,
) -> tuple[int, int]:
    """Add one document's counts to `accs`; return (missed gold spans, false-positive spans)."""
    text = record.text
    gold = record.spans
    # Identical offsets count once: raw detector output may repeat a span under two types.
    pred_by_offsets: dict[tuple[int, int], Span] = {}
    for s in sorted(predicted, key=lambda s: (s.start, s.end, -s.score)):
        pred_by_offsets.setdefault((s.start, s.end), s)
    preds = list(pred_by_offsets.values())
    pred_offsets = set(pred_by_offsets)
    gold_offsets = {(g.start, g.end) for g in gold}

    # Token level.
    tok = accs["token"]
    tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
    tok_starts = [t[0] for t in tokens]

    def covering(spans: Iterable[tuple[int, int]]) -> list[set[int]]:
        # For each token index: indices into `spans` that overlap it.
        hit: list[set[int]] = [set() for _ in tokens]
        for idx, (s, e) in enumerate(spans):
            i = max(0, bisect_left(tok_starts, s) - 1)
            while i < len(tokens) and tokens[i][0] < e:
                if tokens[i][1] > s:
                    hit[i].add(idx)
                i += 1
        return hit

    gold_cov = covering((g.start, g.end) for g in gold)
    pred_cov = covering((p.start, p.end) for p in preds)
    tok_gold = tok_found = tok_pred = tok_correct = 0
    token_found: list[bool] = []
    for gi, pi in zip(gold_cov, pred_cov, strict=True):
        is_gold, is_pred = bool(gi), bool(pi)
        token_found.append(is_pred)
        tok_gold += is_gold
        tok_found += is_gold and is_pred
        tok_pred += is_pred
        tok_correct += is_gold and is_pred
        for label in sorted({gold[j].label for j in gi}):
            tok.label(label, is_pred)
        for type_ in sorted({preds[j].type for j in pi}):
            tok.type(type_, is_gold)
    tok.overall += Scores(tok_gold, tok_found, tok_pred, tok_correct)

    # Entity levels.
    ov, ex = accs["entity_overlap"], accs["entity_exact"]
    gold_hit = _any_overlap([(g.start, g.end) for g in gold], [(p.start, p.end) for p in preds])
    pred_hit = _any_overlap([(p.start, p.end) for p in preds], [(g.start, g.end) for g in gold])
    for g, hit in zip(gold, gold_hit, strict=True):
        ov.label(g.label, hit)
        ex.label(g.label, (g.start, g.end) in pred_offsets)
    for p, hit in zip(preds, pred_hit, strict=True):
        ov.type(p.type, hit)
        ex.type(p.type, (p.start, p.end) in gold_offsets)
    ov.overall += Scores(len(gold), sum(gold_hit), len(preds), sum(pred_hit))
    ex.overall += Scores(
        len(gold),
        sum((g.start, g.end) in pred_offsets for g in gold),
        len(preds),
        sum((p.start, p.end) in gold_offsets for p in preds),
    )

    # Misses: gold spans with a word token left unredacted. False positives: predicted spans
    # touching no gold span.
    missed = []
    for g in gold:
        i = max(0, bisect_left(tok_starts, g.start) - 1)
        while i < len(tokens) and tokens[i][0] < g.end:
            if tokens[i][1] > g.start and not token_found[i]:
                missed.append(g)
                break
            i += 1
    false_pos = [p for p, hit in zip(preds, pred_hit, strict=True) if not hit]
    have_misses = sum(e.kind == "miss" for e in examples)
    for g in missed[: max(0, want_examples - have_misses)]:
        ctx = _context(text, g.start, g.end, window)
        examples.append(Example("miss", record.id, g.start, g.end, g.label, ctx))
    have_fps = sum(e.kind == "false_positive" for e in examples)
    for p in false_pos[: max(0, want_examples - have_fps)]:
        ctx = _context(text, p.start, p.end, window)
        examples.append(Example("false_positive", record.id, p.start, p.end, p.type, ctx))
    return len(missed), len(false_pos)


def score(
    records: Sequence[GoldRecord],
    predictions: Sequence[Sequence[Span]],
    *,
    name: str = "",
    detector: str = "",
    seconds: float = 0.0,
    show_misses: int = 0,
    context: int = 40,
    config: Iterable[tuple[str, str]] = (),
) -> EvalReport:
    """Score predictions (one list per record, same order) against the gold records.

    `show_misses` > 0 collects up to that many misses and as many false positives, each with
    `context` characters of text either side. Those contain PHI; the default collects none.
    """
    if len(records) != len(predictions):
        raise ValueError(f"{len(records)} records but {len(predictions)} prediction lists")
    accs = {level: _Acc() for level in LEVELS}
    examples: list[Example] = []
    missed = false_pos = 0
    for record, preds in zip(records, predictions, strict=True):
        m, f = _score_record(record, preds, accs, examples, show_misses, context)
        missed += m
        false_pos += f
    return EvalReport(
        name=name,
        detector=detector,
        documents=len(records),
        characters=sum(len(r.text) for r in records),
        seconds=seconds,
        levels={level: acc.freeze() for level, acc in accs.items()},
        examples=tuple(examples),
        missed_total=missed,
        false_positive_total=false_pos,
        config=tuple(config),
    )


class _SupportsDetect(Protocol):
    name: str

    def detect(self, text: str) -> list[Span]: ...


def detect_all(
    texts: Sequence[str],
    detector: _SupportsDetect,
    postprocess: Postprocess | None = None,
    *,
    warm_up: bool = False,
) -> tuple[list[list[Span]], float]:
    """Run the detector (batched via `detect_many` when it has one); return spans and seconds.

    The time covers detection and postprocessing, i.e. what a user of the pipeline waits for.
    `warm_up` first runs one tiny text untimed, so lazy model loading is not counted as
    throughput (leave it off for paid services: it is one more call).
    """
    if warm_up:
        detector.detect("Seen today.")
    started = time.perf_counter()
    detect_many = getattr(detector, "detect_many", None)
    if callable(detect_many):
        raw = [list(spans) for spans in detect_many(list(texts))]
    else:
        raw = [detector.detect(t) for t in texts]
    if len(raw) != len(texts):
        raise DetectionError(
            f"detector {detector.name!r} returned {len(raw)} results for {len(texts)} texts"
        )
    out: list[list[Span]] = []
    for i, (text, spans) in enumerate(zip(texts, raw, strict=True)):
        if postprocess is not None:
            spans = postprocess(text, spans)
        for s in spans:
            if s.end > len(text):
                raise DetectionError(
                    f"detector {detector.name!r} returned offsets {s.start}..{s.end} beyond "
                    f"the end of text #{i} (length {len(text)})"
                )
        out.append(list(spans))
    return out, time.perf_counter() - started


def evaluate(
    gold: GoldSet | Sequence[GoldRecord],
    detector: _SupportsDetect,
    postprocess: Postprocess | None = None,
    *,
    show_misses: int = 0,
    context: int = 40,
    config: Iterable[tuple[str, str]] = (),
    warm_up: bool = False,
) -> EvalReport:
    """Detect PHI in every gold text and score it. See the module docstring for the metrics."""
    records = gold.records if isinstance(gold, GoldSet) else tuple(gold)
    name = gold.name if isinstance(gold, GoldSet) else ""
    texts = [r.text for r in records]
    predictions, seconds = detect_all(texts, detector, postprocess, warm_up=warm_up)
    return score(
        records,
        predictions,
        name=name,
        detector=getattr(detector, "name", type(detector).__name__),
        seconds=seconds,
        show_misses=show_misses,
        context=context,
        config=config,
    )


def annotated_age_policy(gold: GoldSet) -> str:
    """The age policy the annotators followed: "all" if any AGE span is 89 or under.

    HIPAA Safe Harbor (and the PhysioNet gold) treat only ages over 89 as PHI; other gold sets
    (the ED sample) mark every age. Scoring a detector against a guideline it was not
    configured for measures the configuration, not the detector, so `phiguard eval` runs the
    local detector with the matching policy unless `--age-policy` is given.
    """
    for record in gold.records:
        for s in record.spans:
            digits = re.sub(r"\D", "", record.text[s.start : s.end])
            if s.label == "AGE" and digits and int(digits) <= 89:
                return "all"
    return "over89"


# --------------------------------------------------------------------------- targets


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

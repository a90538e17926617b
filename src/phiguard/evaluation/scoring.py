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

import re
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from phiguard.detectors.base import Detector
from phiguard.errors import DetectionError
from phiguard.evaluation.gold import GoldRecord, GoldSet
from phiguard.spans import Span

LEVELS = ("token", "entity_overlap", "entity_exact")

Postprocess = Callable[[str, list[Span]], list[Span]]
"""Applied to each text's raw spans before scoring, e.g. a `phiguard.resolve.Resolver`."""

_TOKEN = re.compile(r"\w+")


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


def detect_all(
    texts: Sequence[str],
    detector: Detector,
    postprocess: Postprocess | None = None,
    *,
    warm_up: bool = False,
) -> tuple[list[list[Span]], float]:
    """Run the detector over every text (`detect_many`: batched); return spans and seconds.

    The time covers detection and postprocessing, i.e. what a user of the pipeline waits for.
    `warm_up` first runs one tiny text untimed, so lazy model loading is not counted as
    throughput (leave it off for paid services: it is one more call).
    """
    if warm_up:
        detector.detect("Seen today.")
    started = time.perf_counter()
    raw = [list(spans) for spans in detector.detect_many(list(texts))]
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
    detector: Detector,
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
        detector=detector.name,
        seconds=seconds,
        show_misses=show_misses,
        context=context,
        config=config,
    )

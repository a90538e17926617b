"""Patient-disjoint k-fold cross-validation of the trained model on the dev notes (`make cv`).

    .venv/bin/python tools/cv_model.py [--dev PATH] [-k 5] [--quick] [--json OUT]

For each fold: train on the synthetic data plus the re-surrogated notes of the other folds'
patients, then score the unseen fold's *original* notes with phiguard's token scorer. Reported
per fold and as mean ± standard deviation, for the model alone and for the local detector with
that fold's model (rules + spaCy + the vetted model spans, as shipped). The rules
were written while reading every dev note, so the model + rules number is optimistic; the
model-alone number is the honest one. A synthetic-only model (never sees a dev note) is scored
on every fold too, to show what the dev contexts add. Prints no note text.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_model as tm
from phiguard.detectors.local import model as crf
from phiguard.evaluation import EvalReport, GoldRecord, load_gold, score
from phiguard.spans import Span
from synth.resurrogate import patient_of

LABELS = ("NAME", "DATE", "LOCATION", "PHONE")


def folds_of(ids: Sequence[str], k: int) -> list[int]:
    """Fold number per record: patients are dealt to folds by a stable hash of their id."""
    patients = sorted(
        {patient_of(i) for i in ids}, key=lambda p: hashlib.md5(p.encode()).hexdigest()
    )
    fold = {p: n % k for n, p in enumerate(patients)}
    return [fold[patient_of(i)] for i in ids]


def summary(report: EvalReport) -> dict[str, float | None]:
    tok = report.levels["token"]
    out: dict[str, float | None] = {
        "precision": tok.overall.precision,
        "recall": tok.overall.recall,
        "f2": tok.overall.f2,
    }
    for label in LABELS:
        row = tok.by_label.get(label)
        out[f"recall_{label}"] = row.recall if row else None
    out["gold_tokens"] = float(tok.overall.gold)
    return out


def rules_spans(records: Sequence[GoldRecord]) -> list[list[Span]]:
    from phiguard.detectors.local.detector import LocalDetector

    det = LocalDetector(trained_model=False)
    return [list(s) for s in det.detect_many([r.text for r in records])]


def shipped(model_dir: Path, records: Sequence[GoldRecord]) -> list[list[Span]]:
    """What the local detector returns with this fold's model: rules, spaCy, and the model's
    spans after the detector's own vetting, as users get them."""
    from phiguard.detectors.local.detector import LocalDetector

    det = LocalDetector(trained_model=str(model_dir))
    return [list(s) for s in det.detect_many([r.text for r in records])]


def mean_sd(rows: Sequence[dict[str, float | None]], key: str) -> tuple[float, float]:
    vals = [r[key] for r in rows if r[key] is not None]
    if not vals:
        return float("nan"), float("nan")
    return statistics.fmean(vals), statistics.stdev(vals) if len(vals) > 1 else 0.0  # type: ignore


def fmt(x: float | None) -> str:
    return "  -   " if x is None else f"{x:.4f}"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dev", type=Path, default=tm.DEFAULT_DEV)
    ap.add_argument("-k", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="tiny synthetic data, few iterations")
    ap.add_argument("--no-rules", action="store_true", help="skip the model + rules rows")
    ap.add_argument("--no-baseline", action="store_true", help="skip the synthetic-only model")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    tm.fixed_hash_seed()
    if not args.dev.is_file():
        print(f"error: dev corpus not found: {args.dev}", file=sys.stderr)
        return 2
    t0 = time.time()
    params = tm.QUICK if args.quick else tm.FULL
    gold = load_gold(args.dev)
    raw = tm.read_jsonl(args.dev)
    records = list(gold.records)
    folds = folds_of([r.id for r in records], args.k)
    pools = tm.load_pools([args.dev], quick=args.quick)
    synth = tm.synthetic(pools["train"], params)
    lexicon = tm.build_lexicon(pools["train"])
    rules = None if args.no_rules else rules_spans(records)
    results: dict[str, list[dict[str, float | None]]] = {
        "model": [],
        "model+rules": [],
        "synthetic-only model": [],
        "rules": [],
    }
    with tempfile.TemporaryDirectory(prefix="phiguard-cv-") as tmp:
        baseline = None
        if not args.no_baseline:
            tm.train(synth, lexicon, Path(tmp) / "synth", params)
            baseline = crf.Model(Path(tmp) / "synth")
        for f in range(args.k):
            test = [r for r, k in zip(records, folds, strict=True) if k == f]
            train_dev = [r for r, k in zip(raw, folds, strict=True) if k != f]
            sur = tm.surrogated(train_dev, pools["train"], params)
            out = tm.train(synth + sur, lexicon, Path(tmp) / f"fold{f}", params)
            model = crf.Model(out)
            preds = model.predict([r.text for r in test])
            results["model"].append(summary(score(test, preds)))
            if baseline is not None:
                results["synthetic-only model"].append(
                    summary(score(test, baseline.predict([r.text for r in test])))
                )
            if rules is not None:
                fold_rules = [s for s, k in zip(rules, folds, strict=True) if k == f]
                results["rules"].append(summary(score(test, fold_rules)))
                results["model+rules"].append(summary(score(test, shipped(out, test))))
            row = results["model"][-1]
            print(
                f"fold {f}: {len(test)} notes, model token R {fmt(row['recall'])} "
                f"P {fmt(row['precision'])}",
                file=sys.stderr,
                flush=True,
            )
    keys = ["recall", "precision", "f2", *(f"recall_{x}" for x in LABELS)]
    print(
        f"\npatient-disjoint {args.k}-fold CV on {args.dev.name} ({len(records)} notes), "
        f"token level, {'quick' if args.quick else 'full'} training, "
        f"{time.time() - t0:.0f} s"
    )
    print(f"{'system':<22}" + "".join(f"{k:>18}" for k in keys))
    for name, rows in results.items():
        if not rows:
            continue
        cells = []
        for k in keys:
            m, sd = mean_sd(rows, k)
            cells.append(f"{m:.4f} ± {sd:.4f}")
        print(f"{name:<22}" + "".join(f"{c:>18}" for c in cells))
    print("\nper fold (token recall / precision):")
    for name, rows in results.items():
        if rows:
            print(
                f"  {name:<22}"
                + "  ".join(f"{fmt(r['recall'])}/{fmt(r['precision'])}" for r in rows)
            )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "k": args.k,
                    "quick": args.quick,
                    "seconds": round(time.time() - t0),
                    "folds": results,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

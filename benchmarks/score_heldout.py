"""Score the local detector on the invented held-out sets (tests/data/heldout/).

    .venv/bin/python benchmarks/score_heldout.py [--sets queries,pii,clean] [--show-misses N]

Prints token recall/precision per set, entity any-overlap and full-cover recall, and the share
of PHI-free lines that get any span (false flags). These sentences were written for the check
and are not tuned on; see docs/accuracy.md, "Held out".
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from phiguard.detectors.local.detector import LocalDetector
from phiguard.evaluation import score
from phiguard.resolve import Resolver
from support.heldout import load

_WORD = re.compile(r"\w+")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--show-misses", type=int, default=0)
    ap.add_argument("--threshold", type=float, default=0.0)
    ap.add_argument("--no-trained-model", action="store_true", help="rules and spaCy only")
    ap.add_argument("--sets", default="queries,pii,clean", help="e.g. fresh_queries,fresh_pii")
    args = ap.parse_args()
    det = LocalDetector(age_policy="all", trained_model=not args.no_trained_model)
    resolver = Resolver(threshold=args.threshold)
    names = args.sets.split(",")
    for name in (n for n in names if not n.endswith("clean")):
        records = load(name)
        preds = [resolver(r.text, det.detect(r.text)) for r in records]
        rep = score(records, preds, name=name, show_misses=args.show_misses)
        tok = rep.levels["token"]
        by = "  ".join(
            f"{k} {v.recall:.3f}" for k, v in sorted(tok.by_label.items()) if v.recall is not None
        )
        full = whole = 0
        for r, p in zip(records, preds, strict=True):
            for g in r.spans:
                whole += 1
                toks = list(_WORD.finditer(r.text, g.start, g.end))
                full += all(any(s.start < t.end() and t.start() < s.end for s in p) for t in toks)
        ov = rep.levels["entity_overlap"].overall
        print(
            f"{name:14s} token R {tok.overall.recall:.4f} P {tok.overall.precision:.4f} | "
            f"entity overlap R {ov.recall:.4f} full-cover {full / whole:.4f} | {by}"
        )
        for ex in rep.examples:
            print(f"   {ex.kind} {ex.label}: {ex.context!r}")
    for name in (n for n in names if n.endswith("clean")):
        clean = load(name)
        flagged = [r for r in clean if resolver(r.text, det.detect(r.text))]
        share = len(flagged) / len(clean)
        print(f"{name:14s} false-flag lines {len(flagged)}/{len(clean)} = {share:.3f}")
        for r in flagged[: args.show_misses]:
            spans = resolver(r.text, det.detect(r.text))
            print("   fp:", [(r.text[s.start : s.end], s.type, s.source) for s in spans])


if __name__ == "__main__":
    main()

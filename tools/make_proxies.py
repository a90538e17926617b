"""Write the held-out proxy sets: clinician queries and general-PII sentences with gold spans.

    .venv/bin/python tools/make_proxies.py [--n 300] [--seed 20261201] [--out tests/data]

They use template families the training generator never uses (tools/synth/data/proxy_*.txt),
names and places from the held-out partition of the public pools only (no string the training
data can contain), and their own seed. They are synthetic proxies for the real held-out sets,
not a measurement on real text (docs/accuracy.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_model as tm
from synth import styles

FILES = {"proxy-query": "proxy_queries.jsonl", "proxy-general": "proxy_general.jsonl"}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=20261201)
    ap.add_argument("--out", type=Path, default=tm.REPO / "tests" / "data")
    args = ap.parse_args(argv)
    tm.fixed_hash_seed()
    pools = tm.load_pools([tm.DEFAULT_DEV])
    for style, name in FILES.items():
        recs = list(styles.generate(style, args.n, pools["heldout"], args.seed, typo_rate=0.0))
        path = args.out / name
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), "utf-8")
        spans = sum(len(r["spans"]) for r in recs if isinstance(r["spans"], list))
        print(f"{path}: {len(recs)} documents, {spans} spans")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

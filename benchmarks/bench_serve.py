"""Throughput and latency of `phiguard serve` next to `phiguard mask --jsonl --workers 2`.

    .venv/bin/python benchmarks/bench_serve.py [--notes N] [--workers 2] [--json OUT]

On the same notes (../shared/eval/physionet-dev.jsonl when present, else the invented notes
in tests/data/synthetic_notes.jsonl), in one run:

1. the CLI: `phiguard mask --jsonl FILE --workers W`, timed on N notes and on a few notes; the
   difference removes process start and model load, leaving its steady notes/s;
2. the server: `phiguard serve --workers W` (access log on, as deployed), one note per
   `POST /v1/mask`, at concurrency 1, 8 and 32 over keep-alive connections: notes/s and p50,
   p90, p99 latency; plus one batch row (16 notes per request, concurrency 4).

The CLI runs again after each server measurement (the server idles meanwhile), and each row is
compared with the mean of the CLI runs just before and after it: the machine's other load then
weighs on both sides alike. Every answer is checked against the CLI's output (same bytes). The load
generator is a small asyncio HTTP/1.1 client in this process (its CPU per request is printed:
it shares the cores with the server). Prints no note text; temp files are removed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_pipeline import free_cores

REPO = Path(__file__).resolve().parents[1]
DEV = REPO.parent / "shared" / "eval" / "physionet-dev.jsonl"
SYNTHETIC = REPO / "tests" / "data" / "synthetic_notes.jsonl"
PHIGUARD = [sys.executable, "-m", "phiguard_cli"]
HEADER = (
    "| run | concurrency | notes/s | vs CLI | p50 ms | p90 ms | p99 ms | server CPU ms/note "
    "| client CPU ms/request |\n|---|---|---|---|---|---|---|---|---|"
)


def corpus(n: int, seed: int = 5) -> tuple[str, list[str]]:
    source = DEV if DEV.exists() else SYNTHETIC
    with source.open(encoding="utf-8") as fh:
        notes = [json.loads(line)["text"] for line in fh]
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < n:
        order = notes[:]
        rng.shuffle(order)
        out.extend(order[: n - len(out)])
    return source.name, out


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def tree_cpu(pid: int) -> float:
    """CPU seconds used so far by `pid` and its live descendants (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return total


def run_cli(notes: list[str], workers: int, tmp: Path, env: dict[str, str]) -> tuple[float, float]:
    src, out = tmp / f"cli-{len(notes)}.jsonl", tmp / f"cli-{len(notes)}.out.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(notes)))
    cmd = [
        *PHIGUARD,
        "-q",
        "mask",
        "--jsonl",
        str(src),
        "--workers",
        str(workers),
        "--out",
        str(out),
    ]
    t0, c0 = time.perf_counter(), _children_cpu()
    subprocess.run(cmd, check=True, env=env)
    return time.perf_counter() - t0, _children_cpu() - c0


def cli_outputs(tmp: Path, n: int) -> list[str]:
    lines = (tmp / f"cli-{n}.out.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines]


class Server:
    def __init__(self, home: Path, workers: int, env: dict[str, str]) -> None:
        from phiguard.serve import apikeys

        home.mkdir(parents=True, exist_ok=True)
        self.key = apikeys.add(home / "api-keys.json", "bench", ("mask",))
        self.port = _free_port()
        self.log = (home.parent / "serve.log").open("wb")
        self.proc = subprocess.Popen(
            [*PHIGUARD, "serve", "--port", str(self.port), "--workers", str(workers)],
            env={**env, "PHIGUARD_HOME": str(home)},
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,
        )
        deadline = time.monotonic() + 180
        while not self._ready():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("phiguard serve did not start")
            time.sleep(0.3)

    def _ready(self) -> bool:
        import urllib.request

        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        self.log.close()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _load(
    port: int, key: str, bodies: list[bytes], concurrency: int
) -> tuple[list[float], list[bytes]]:
    """Send every body once over `concurrency` keep-alive connections; latencies, answers."""
    head = (
        f"POST /v1/mask HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
        "Content-Type: application/json\r\n"
    ).encode()
    todo = iter(range(len(bodies)))
    latencies: list[float] = []
    answers: list[bytes] = [b""] * len(bodies)

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for i in todo:
            body = bodies[i]
            t0 = time.perf_counter()
            writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
            raw = await reader.readuntil(b"\r\n\r\n")
            status = int(raw.split(b" ", 2)[1])
            length = next(
                int(line.split(b":", 1)[1])
                for line in raw.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            data = await reader.readexactly(length)
            latencies.append(time.perf_counter() - t0)
            if status != 200:
                raise SystemExit(f"request {i}: HTTP {status}")
            answers[i] = data
        writer.close()

    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return latencies, answers


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


def measure(server: Server, bodies: list[bytes], concurrency: int, notes: int) -> dict[str, Any]:
    asyncio.run(_load(server.port, server.key, bodies[: max(20, concurrency * 2)], concurrency))
    cpu0, t0, s0 = time.process_time(), time.perf_counter(), tree_cpu(server.proc.pid)
    latencies, answers = asyncio.run(_load(server.port, server.key, bodies, concurrency))
    wall = time.perf_counter() - t0
    return {
        "server_cpu_ms_per_note": (tree_cpu(server.proc.pid) - s0) / notes * 1000,
        "requests": len(bodies),
        "seconds": wall,
        "latencies": latencies,
        "answers": answers,
        "client_cpu_ms": (time.process_time() - cpu0) / len(bodies) * 1000,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notes", type=int, default=1500, help="notes per measurement")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", default=None, help="also write the numbers here")
    args = ap.parse_args()
    source, notes = corpus(args.notes)
    load_before = os.getloadavg()
    cores = free_cores()
    print(
        f"notes: {len(notes)} from {source}; load average {load_before[0]:.2f}; "
        f"free cores for two busy processes: {cores:.2f}",
        flush=True,
    )
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="phiguard-bench-serve-") as tmpdir:
        tmp = Path(tmpdir)
        env = {**os.environ, "PHIGUARD_HOME": str(tmp / "cli-home")}
        env.pop("PHIGUARD_KEY", None)
        small = notes[:20]
        t_small, c_small = run_cli(small, args.workers, tmp, env)
        cli_rates: list[float] = []
        cli_cpus: list[float] = []

        def cli() -> float:
            """One CLI run on all notes: steady notes/s (start-up and model load removed)."""
            t_all, c_all = run_cli(notes, args.workers, tmp, env)
            cli_rates.append((len(notes) - len(small)) / (t_all - t_small))
            cli_cpus.append((c_all - c_small) / (len(notes) - len(small)) * 1000)
            print(f"CLI: {cli_rates[-1]:.1f} notes/s, {cli_cpus[-1]:.2f} CPU ms/note", flush=True)
            return cli_rates[-1]

        cli()
        expected = cli_outputs(tmp, len(notes))
        server = Server(tmp / "serve-home", args.workers, env)
        bodies = [json.dumps({"text": t}).encode() for t in notes]
        batches = [
            json.dumps(
                {"records": [{"id": j, "text": t} for j, t in enumerate(notes[i : i + 16])]}
            ).encode()
            for i in range(0, len(notes), 16)
        ]
        runs = [("1 note/request", c, bodies, 1) for c in (1, 8, 32)]
        runs.append(("16 notes/request", 4, batches, 16))
        try:
            for mode, c, payloads, per in runs:
                before = cli_rates[-1]
                m = measure(server, payloads, c, len(notes))
                if per == 1:
                    got = [json.loads(a)["text"] for a in m["answers"]]
                else:
                    got = [r["text"] for a in m["answers"] for r in json.loads(a)["records"]]
                assert got == expected, "server and CLI masked differently"
                after = cli()  # the server idles meanwhile: the two CLI runs bracket this one
                rows.append(
                    {
                        "mode": mode,
                        "concurrency": c,
                        "cli": (before + after) / 2,
                        **_summary(m, per),
                    }
                )
                print(f"serve {mode}, concurrency {c}: {rows[-1]['notes_per_s']:.1f} notes/s")
        finally:
            server.stop()
    load_after = os.getloadavg()
    cli_rate, cli_cpu = statistics.median(cli_rates), statistics.median(cli_cpus)
    print(f"load average after: {load_after[0]:.2f}\n")
    print(HEADER)
    print(
        f"| CLI mask --jsonl --workers {args.workers} (median of {len(cli_rates)} runs) | - "
        f"| {cli_rate:.1f} | 1.00x | | | | {cli_cpu:.2f} | |"
    )
    for r in rows:
        print(_row(r))
    single = [r for r in rows if r["mode"] == "1 note/request"]
    best = max(single, key=lambda r: r["notes_per_s"] / r["cli"])
    p99_8 = next(r["p99_ms"] for r in single if r["concurrency"] == 8)
    ratio = best["notes_per_s"] / best["cli"]
    print(
        f"target throughput >= 0.8x CLI: {ratio:.2f}x at concurrency {best['concurrency']} "
        f"({'met' if ratio >= 0.8 else 'MISSED'}); "
        f"target p99 <= 100 ms at concurrency 8: {p99_8:.1f} ms "
        f"({'met' if p99_8 <= 100 else 'MISSED'})"
    )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "cli_notes_per_s": cli_rate,
                    "cli_runs_notes_per_s": cli_rates,
                    "cli_runs_cpu_ms_per_note": cli_cpus,
                    "cli_cpu_ms_per_note": cli_cpu,
                    "rows": rows,
                    "load": [load_before, load_after],
                    "free_cores": cores,
                    "source": source,
                },
                indent=2,
            )
        )


def _summary(m: dict[str, Any], per_request: int) -> dict[str, Any]:
    lat = m["latencies"]
    return {
        "notes_per_s": m["requests"] * per_request / m["seconds"],
        "p50_ms": _pct(lat, 0.50),
        "p90_ms": _pct(lat, 0.90),
        "p99_ms": _pct(lat, 0.99),
        "client_cpu_ms": m["client_cpu_ms"],
        "server_cpu_ms_per_note": m["server_cpu_ms_per_note"],
    }


def _row(r: dict[str, Any]) -> str:
    return (
        f"| serve {r['mode']} | {r['concurrency']} | {r['notes_per_s']:.1f} | "
        f"{r['notes_per_s'] / r['cli']:.2f}x | {r['p50_ms']:.1f} | {r['p90_ms']:.1f} | "
        f"{r['p99_ms']:.1f} | {r['server_cpu_ms_per_note']:.2f} | {r['client_cpu_ms']:.2f} |"
    )


if __name__ == "__main__":
    main()

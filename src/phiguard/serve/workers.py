"""Several server processes on one port, each with its own listening socket (SO_REUSEPORT).

Why not uvicorn's `--workers`: its workers share one listening socket, and the first to wake
accepts every connection that is waiting, so a client pool that opens 8 keep-alive connections
at once puts them all on one worker while the other idles (measured: concurrency 8 ran at one
worker's speed). With a socket per worker the kernel spreads connections over the workers.

The workers are forked after `preflight` loaded the model, so they share its memory
copy-on-write and start in a second. A worker that dies is replaced; one that fails at
startup stops them all. SIGTERM/SIGINT are passed on: each worker finishes its in-flight
requests (uvicorn's graceful shutdown) before the supervisor returns.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import socket
import sys
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from typing import Any

from phiguard.errors import ConfigError

log = logging.getLogger("phiguard.serve")
STARTUP_FAILURE = 3  # uvicorn's exit code for a server that never started


def _socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _worker(host: str, port: int, options: dict[str, Any]) -> None:
    import uvicorn

    for sig in (signal.SIGTERM, signal.SIGINT):  # uvicorn installs its own while it serves
        signal.signal(sig, signal.SIG_DFL)
    try:
        sock = _socket(host, port)
    except OSError as exc:
        log.error("cannot listen on %s:%d (%s)", host, port, exc.strerror)
        sys.exit(STARTUP_FAILURE)
    server = uvicorn.Server(uvicorn.Config(**options))
    server.run(sockets=[sock])
    sys.exit(0 if server.started else STARTUP_FAILURE)


def supervise(host: str, port: int, workers: int, options: dict[str, Any]) -> None:
    """Run `workers` processes serving uvicorn `options` on host:port until a signal."""
    if not hasattr(socket, "SO_REUSEPORT"):  # pragma: no cover - not on Linux/macOS
        raise ConfigError("several server workers need SO_REUSEPORT (Linux, macOS)")
    try:
        _socket(host, port).close()  # the port is free (or shared with reuse-port sockets)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror})") from None
    ctx = mp.get_context("fork")
    stopping: list[int] = []

    def start() -> BaseProcess:
        p = ctx.Process(target=_worker, args=(host, port, options), daemon=False)
        p.start()
        return p

    def stop(signum: int, frame: object) -> None:
        stopping.append(signum)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    procs = [start() for _ in range(workers)]
    log.info(
        "serving on %s:%d with %d worker processes %s", host, port, workers, [p.pid for p in procs]
    )
    failed = False
    try:
        while not stopping and not failed:
            wait([p.sentinel for p in procs], timeout=0.5)
            for i, p in enumerate(procs):
                if p.is_alive() or stopping:
                    continue
                if p.exitcode == STARTUP_FAILURE:
                    failed = True
                    break
                log.warning("worker %d exited (%s); starting another", p.pid, p.exitcode)
                procs[i] = start()
    finally:
        for p in procs:
            if p.is_alive() and p.pid is not None:
                os.kill(p.pid, signal.SIGTERM)
        for p in procs:
            p.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if failed:
        raise ConfigError("the server did not start (the reason is logged above)")
    log.info(
        "stopped by %s after finishing in-flight requests",
        signal.Signals(stopping[0]).name if stopping else "a worker",
    )

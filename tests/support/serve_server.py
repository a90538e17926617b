"""A real `phiguard serve` process on a free 127.0.0.1 port, for the HTTP tests.

    with ServeProcess(home, "--store", "sqlite") as srv:
        srv.post("/v1/mask", key, {"text": "..."})

The server runs `python -m phiguard_cli serve` in its own process group with PHIGUARD_HOME set
to `home`; its stderr goes to `srv.log_path` (read it to prove no PHI was logged). `stop()`
sends SIGTERM (graceful), `kill()` SIGKILL to the whole group (mid-batch crash tests).

PYTEST_DONT_REWRITE
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

START_TIMEOUT_S = 90.0  # model load on a busy 2-core machine

try:  # the DynamoDB test server moves under tests/support/ with the tests reorganisation
    from support.dynamodb_server import running_server  # type: ignore[import-not-found]
except ImportError:
    from dynamodb_server import running_server  # noqa: F401


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def add_key(home: Path, name: str, scopes: str) -> str:
    """A new API key in `home`'s key file, through the library (the CLI is tested apart)."""
    from phiguard.serve import apikeys

    return apikeys.add(home / "api-keys.json", name, apikeys.parse_scopes(scopes))


class ServeProcess:
    """`phiguard serve ARGS` on a free port; a context manager that always stops it."""

    def __init__(
        self,
        home: Path,
        *args: str,
        env: dict[str, str] | None = None,
        workers: int = 1,
        scheme: str = "http",
        verify: Any = True,
        global_args: tuple[str, ...] = (),
        wait_ready: bool = True,
    ) -> None:
        self.home = home
        self.port = free_port()
        self.base = f"{scheme}://127.0.0.1:{self.port}"
        self.log_path = home.parent / f"serve-{self.port}.log"
        self.env = {**os.environ, "PHIGUARD_HOME": str(home), **(env or {})}
        self.env.pop("PHIGUARD_KEY", None)
        self.cmd = [
            sys.executable,
            "-m",
            "phiguard_cli",
            *global_args,
            "serve",
            "--port",
            str(self.port),
            "--workers",
            str(workers),
            *args,
        ]
        self.verify = verify
        self.wait_ready = wait_ready
        self.proc: subprocess.Popen[bytes] | None = None
        self.client = httpx.Client(base_url=self.base, timeout=60, verify=verify)

    def __enter__(self) -> ServeProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.client.close()

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.cmd, env=self.env, stdout=log, stderr=log, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"phiguard serve exited with {self.proc.returncode}:\n{self.log()[-3000:]}"
                )
            try:
                r = self.client.get("/readyz" if self.wait_ready else "/healthz", timeout=2)
                if r.status_code == 200 or (not self.wait_ready and r.status_code < 500):
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"phiguard serve did not become ready:\n{self.log()[-3000:]}")
            time.sleep(0.2)

    def stop(self, timeout: float = 60) -> int | None:
        """SIGTERM, as a service manager sends it; returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        """SIGKILL this server's process group (parent and workers), nothing else."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    # -- requests ---------------------------------------------------------------------------

    def post(self, path: str, key: str | None, body: Any, **kw: Any) -> httpx.Response:
        headers = {"content-type": "application/json", **kw.pop("headers", {})}
        if key is not None:
            headers["authorization"] = f"Bearer {key}"
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.client.post(path, content=content, headers=headers, **kw)

    def get(self, path: str, key: str | None = None, **kw: Any) -> httpx.Response:
        headers = kw.pop("headers", {})
        if key is not None:
            headers["authorization"] = f"Bearer {key}"
        return self.client.get(path, headers=headers, **kw)

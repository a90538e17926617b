"""Start the server: check the pipeline once here, then hand uvicorn the app factory.

The check (`preflight`) opens the vault for writing and reading and loads the model in this
process, so a wrong model, vault or key stops `phiguard serve` with the CLI's one line and
exit code before any port is opened; with one worker the model stays loaded for it. Worker
processes get the settings from the environment (see settings.py); uvicorn finishes in-flight
requests on SIGTERM/SIGINT (up to `graceful_timeout` seconds) before the lifespan shutdown
closes the vault.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from phiguard.errors import ConfigError
from phiguard.run.deidentifier import Deidentifier
from phiguard.serve.apikeys import load
from phiguard.serve.engine import warm_up
from phiguard.serve.settings import ENV, ServeSettings

log = logging.getLogger("phiguard.serve")
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # = metrics.MULTIPROC_ENV; not imported: see run()


@dataclass(frozen=True, slots=True)
class Listen:
    """Where and how uvicorn listens."""

    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    certfile: str | None = None
    keyfile: str | None = None
    graceful_timeout: float = 30.0
    forwarded_allow_ips: str | None = None

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ConfigError("the server needs at least 1 worker process")
        if (self.certfile is None) != (self.keyfile is None):
            raise ConfigError("TLS needs both a certificate file and its private key file")
        for f in (self.certfile, self.keyfile):
            if f is not None and not Path(f).is_file():
                raise ConfigError(f"TLS file {f} not found")


def preflight(settings: ServeSettings) -> int:
    """Open what the workers will open; raise the library's error if anything is wrong.
    Returns the number of API keys (a server with none and no OIDC answers only 401)."""
    keys = len(load(Path(settings.api_keys))) if settings.api_keys is not None else 0
    if keys == 0 and settings.oidc is None:
        log.warning("no API keys and no OIDC: every /v1 request will be refused (401)")
    with Deidentifier.open(settings.config, vault="write") as writer:
        warm_up(writer)
    with Deidentifier.open(settings.config, vault="read"):
        pass
    return keys


def run(settings: ServeSettings, listen: Listen) -> None:
    """Serve until SIGTERM/SIGINT: one uvicorn server in this process, or several worker
    processes (workers.py) sharing one metrics directory, removed at exit."""
    import uvicorn

    os.environ[ENV] = settings.to_env()
    metrics_dir = None
    if listen.workers > 1 and not os.environ.get(MULTIPROC_ENV):
        metrics_dir = tempfile.mkdtemp(prefix="phiguard-metrics-")
        os.environ[MULTIPROC_ENV] = metrics_dir
    logging.getLogger("uvicorn.error").setLevel(logging.INFO)
    if not log.isEnabledFor(logging.INFO):  # start, stop and worker lines, as in the workers
        log.setLevel(logging.INFO)
    options: dict[str, Any] = {
        "app": "phiguard.serve.app:app_from_env",
        "factory": True,
        "host": listen.host,
        "port": listen.port,
        "ssl_certfile": listen.certfile,
        "ssl_keyfile": listen.keyfile,
        "timeout_graceful_shutdown": int(listen.graceful_timeout),
        "forwarded_allow_ips": listen.forwarded_allow_ips,
        "proxy_headers": listen.forwarded_allow_ips is not None,
        "log_config": None,
        "access_log": False,  # ours (accesslog.py) never logs query strings or stray paths
        "server_header": False,
        "lifespan": "on",
    }
    # uvicorn drains in-flight requests on SIGTERM/SIGINT, then raises the signal again with the
    # previous handler in place: this one makes that a clean exit (0) instead of a kill.
    previous = {s: signal.signal(s, _stopped) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        if listen.workers > 1:
            from phiguard.serve.workers import supervise

            supervise(listen.host, listen.port, listen.workers, options)
        else:
            uvicorn.run(**options)
    except SystemExit as exc:  # uvicorn's way of saying it could not start (port in use...)
        if exc.code not in (0, None):
            raise ConfigError("the server did not start (the reason is logged above)") from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
            os.environ.pop(MULTIPROC_ENV, None)


def _stopped(signum: int, frame: object) -> None:
    log.info("stopped by %s after finishing in-flight requests", signal.Signals(signum).name)
    raise SystemExit(0)

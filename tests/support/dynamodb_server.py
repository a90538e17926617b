"""A real DynamoDB-compatible server for the tests: dynalite (npm), else moto_server.

dynalite validates requests the way DynamoDB does (a 26-item BatchWriteItem is rejected, keys
are checked against the schema), so the vault is tested against behaviour, not against a mock.

tests/conftest.py imports the `dynamodb_endpoint` session fixture from here, so any test can
ask for it (the URL). The session fixture also sets fake AWS credentials and region for the
whole session, and restores the environment afterwards.
`PHIGUARD_TEST_DYNAMODB_ENDPOINT=http://host:port` uses an already running server instead.
A missing server FAILS the tests (CI must run them): `npm ci` at the repo root installs it.

PYTEST_DONT_REWRITE (no asserts here)
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

__all__ = [
    "dynamodb_endpoint",
    "fake_aws_env",
    "free_port",
    "running_server",
    "server_command",
    "server_kind",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
DYNALITE = REPO_ROOT / "node_modules" / ".bin" / "dynalite"
ENDPOINT_ENV = "PHIGUARD_TEST_DYNAMODB_ENDPOINT"
START_TIMEOUT_S = 30.0

FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "phiguard-test",
    "AWS_SECRET_ACCESS_KEY": "phiguard-test",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",  # never wait on an instance-metadata lookup
    # keep a developer's ~/.aws (profiles, SSO, real keys) out of the tests
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
UNSET_AWS_ENV = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")

MISSING_SERVER = (
    "no DynamoDB-compatible server for the DynamoDB vault tests: run `npm ci --no-audit "
    "--no-fund` at the repo root (Node >= 20; installs node_modules/.bin/dynalite), or "
    "`pip install 'moto[server]'` for moto_server, or set "
    f"{ENDPOINT_ENV}=http://127.0.0.1:PORT to a running server"
)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_command(port: int) -> list[str] | None:
    """The command line of the best available server on `port`, or None if there is none."""
    node = shutil.which("node")
    if DYNALITE.exists() and node:
        # --createTableMs: tables turn ACTIVE after 50 ms (500 by default), still CREATING first
        return [
            str(DYNALITE),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--createTableMs",
            "50",
            "--deleteTableMs",
            "50",
        ]
    venv_moto = Path(sys.executable).with_name("moto_server")
    moto = str(venv_moto) if venv_moto.exists() else shutil.which("moto_server")
    if moto:
        return [moto, "-H", "127.0.0.1", "-p", str(port)]
    return None


def server_kind() -> str:
    """'external', 'dynalite' or 'moto': which server the session fixture runs."""
    if os.environ.get(ENDPOINT_ENV):
        return "external"
    cmd = server_command(0)
    if cmd is None:
        return "none"
    return "dynalite" if cmd[0] == str(DYNALITE) else "moto"


def _answers(endpoint: str) -> bool:
    """True once the server answers a DynamoDB ListTables call over HTTP."""
    req = urllib.request.Request(
        endpoint + "/",
        data=b"{}",
        method="POST",
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "X-Amz-Date": "20240101T000000Z",
            "Authorization": (
                "AWS4-HMAC-SHA256 Credential=phiguard-test/20240101/us-east-1/dynamodb/"
                "aws4_request, SignedHeaders=host;x-amz-date, Signature=00"
            ),
        },
    )
    try:
        with urllib.request.urlopen(req, timeout=1) as resp:
            return bool(resp.status == 200)
    except urllib.error.HTTPError:
        return True  # it answered, if only to refuse the fake signature
    except OSError:
        return False


@contextmanager
def running_server() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start a private in-memory server on a free loopback port; yield (endpoint, process).

    Tests that need to kill a server mid-way use this directly; it is always stopped on exit.
    """
    port = free_port()
    cmd = server_command(port)
    if cmd is None:
        pytest.fail(MISSING_SERVER, pytrace=False)
    endpoint = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while not _answers(endpoint):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    output = log.read().decode("utf-8", "replace")[-2000:]
                    pytest.fail(
                        f"DynamoDB test server `{' '.join(cmd)}` did not start "
                        f"(exit code {proc.poll()}):\n{output}",
                        pytrace=False,
                    )
                time.sleep(0.05)
            yield endpoint, proc
        finally:
            stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate `proc` (only this process), killing it if it lingers."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@contextmanager
def fake_aws_env() -> Iterator[None]:
    """Fake credentials and region, isolated from ~/.aws; the old environment is restored."""
    with pytest.MonkeyPatch.context() as mp:
        for name in UNSET_AWS_ENV:
            mp.delenv(name, raising=False)
        for name, value in FAKE_AWS_ENV.items():
            mp.setenv(name, value)
        yield


@pytest.fixture(scope="session")
def dynamodb_endpoint() -> Iterator[str]:
    """URL of a DynamoDB-compatible server running for the whole test session."""
    with fake_aws_env():
        external = os.environ.get(ENDPOINT_ENV)
        if external:
            if not _answers(external):
                pytest.fail(f"{ENDPOINT_ENV}={external} does not answer", pytrace=False)
            yield external.rstrip("/")
            return
        with running_server() as (endpoint, _proc):
            yield endpoint

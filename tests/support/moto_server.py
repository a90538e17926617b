"""A real moto_server process for KMS, STS and IAM-enforced DynamoDB tests.

moto_server speaks the AWS wire protocols over HTTP, so boto3 (and the CLI in a subprocess) talk
to it exactly as to AWS: signed requests, real error codes. With `iam_after=N` the server
checks every request after the first N against IAM policies (moto's
INITIAL_NO_AUTH_ACTION_COUNT), which lets a test create users and policies, then act as them.

PYTEST_DONT_REWRITE
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from support.dynamodb_server import REPO_ROOT, free_port, stop


def moto_command(port: int) -> list[str]:
    venv = Path(sys.executable).with_name("moto_server")
    if not venv.exists():
        pytest.fail(
            "moto_server is not installed: pip install 'moto[server,kms,iam,dynamodb,sts]'",
            pytrace=False,
        )
    return [str(venv), "-H", "127.0.0.1", "-p", str(port)]


def _up(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(endpoint + "/moto-api/", timeout=1) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


@contextmanager
def moto_server(iam_after: int | None = None) -> Iterator[str]:
    """Start a private moto_server on a free port; yield its URL; always stop it."""
    port = free_port()
    env = dict(os.environ)
    if iam_after is not None:
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(iam_after)
    endpoint = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            moto_command(port), stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT
        )
        try:
            deadline = time.monotonic() + 30
            while not _up(endpoint):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(
                        "moto_server did not start:\n" + log.read().decode("utf-8", "replace"),
                        pytrace=False,
                    )
                time.sleep(0.1)
            yield endpoint
        finally:
            stop(proc)

"""Shared fixtures. The DynamoDB-compatible server is real (dynalite), started per session."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from dynamodb_server import dynamodb_endpoint  # noqa: F401
from lambda_world import lambda_env, lambda_tables, moto_endpoint  # noqa: F401

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SAMPLE = SHARED / "samples" / "ed_summary.txt"
SAMPLE_GOLD = SHARED / "samples" / "ed_summary.gold.json"
DEV_SET = SHARED / "eval" / "physionet-dev.jsonl"


@pytest.fixture(scope="session")
def sample_text() -> str:
    return SAMPLE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def sample_gold() -> list[dict[str, object]]:
    spans: list[dict[str, object]] = json.loads(SAMPLE_GOLD.read_text(encoding="utf-8"))["spans"]
    return spans


@pytest.fixture(scope="session")
def dev_notes() -> list[dict[str, object]]:
    with DEV_SET.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


@pytest.fixture()
def phiguard_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An isolated PHIGUARD_HOME (vault + key) and no PHIGUARD_KEY from the environment."""
    home = tmp_path / "home"
    monkeypatch.setenv("PHIGUARD_HOME", str(home))
    monkeypatch.delenv("PHIGUARD_KEY", raising=False)
    yield home


class CliResult:
    """What a `phiguard` run left behind: exit code, stdout bytes, stderr text."""

    def __init__(self, code: int, out: bytes, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    @property
    def text(self) -> str:
        return self.out.decode("utf-8")


@pytest.fixture()
def run(
    capfdbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., CliResult]:
    """Run `phiguard ARGS` in-process (the model loads once per test session)."""
    from phiguard_cli.main import main

    def _run(*args: str, stdin: bytes | None = None) -> CliResult:
        if stdin is not None:
            r, w = os.pipe()
            os.write(w, stdin)
            os.close(w)
            monkeypatch.setattr(sys, "stdin", os.fdopen(r, "r"))
        capfdbinary.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capfdbinary.readouterr()
        return CliResult(code, out, err.decode("utf-8", "replace"))

    return _run


# Comprehend Medical: a real botocore client with fake credentials, answered by a Stubber.


@pytest.fixture()
def aws_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region; no real config files, no instance metadata lookups."""
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_ROLE_ARN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture()
def client(aws_env: None) -> Any:
    return boto3.client("comprehendmedical", region_name="us-east-1")


@pytest.fixture()
def stubber(client: Any) -> Iterator[Stubber]:
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()

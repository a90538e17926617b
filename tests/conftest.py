"""Shared fixtures for tests/unit, tests/integration and tests/accuracy (see tests/README.md).

Data: `sample_text` (the shipped ED sample note), `clinical_notes` (invented notes with gold),
`bulk_notes` (every shipped note, for volume); `shared_path`, `dev_notes` and `sample_gold`
reach ../shared and skip the test with a one-line reason when it is absent.
Detector: `local_detector` (the real spaCy model, once per session).
Servers: `dynamodb_endpoint` (a real dynalite/moto_server for the session). CLI: `run`
(in-process) and `phiguard_home`. AWS: `aws_env`, `client` and `stubber` (Comprehend Medical
answered by botocore's Stubber).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.register_assert_rewrite("support")

import boto3  # noqa: E402
from botocore.stub import Stubber  # noqa: E402

from support import data  # noqa: E402
from support.dynamodb_server import dynamodb_endpoint, fake_aws_env  # noqa: E402, F401
from support.lambda_world import lambda_env, lambda_tables, moto_endpoint  # noqa: E402, F401

REPO = data.REPO
SHARED = data.shared_dir()
SAMPLE = data.ED_SAMPLE  # the ED sample note, shipped as examples/ed_summary.txt


# -- data --------------------------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Report every skip for the same missing ../shared file at one place, so `-ra` prints one
    line per missing file with a count (`--no-fold-skipped` lists the tests)."""
    report = yield
    if report.skipped and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2]).removeprefix("Skipped: ")
        if reason in data.SKIP_REASONS:
            report.longrepr = (data.__file__, None, report.longrepr[2])
    return report


@pytest.fixture(scope="session", autouse=True)
def _fake_aws_for_the_session() -> Iterator[None]:
    """Fake AWS credentials and region from the very start of the session. Fixtures that set
    and restore them (servers, moto) then restore to these whatever order they start in: a
    module's moto fixture ending first can no longer strip the credentials from the session's
    DynamoDB server and every later test."""
    with fake_aws_env():
        yield


@pytest.fixture(scope="session")
def sample_text() -> str:
    """The ED sample note (examples/ed_summary.txt): realistic text with PHI, always present."""
    return SAMPLE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def clinical_notes() -> list[dict[str, Any]]:
    """30 invented notes in varied styles, each `{"id", "text", "spans"}` with gold spans."""
    return data.invented_notes()


@pytest.fixture(scope="session")
def bulk_notes() -> list[dict[str, Any]]:
    """Every shipped note as `{"id", "text"}` (invented + synthetic, 430): for volume tests."""
    return data.bulk_notes()


@pytest.fixture(scope="session")
def shared_path() -> Callable[[str], Path]:
    """`shared_path("eval/physionet-dev.jsonl")`: the file under ../shared (or
    $PHIGUARD_SHARED), or the test is skipped with a one-line reason."""
    return data.shared_path


@pytest.fixture(scope="session")
def sample_gold() -> list[dict[str, object]]:
    """The ED sample's gold spans (../shared/samples/ed_summary.gold.json); skips without."""
    gold = json.loads(data.shared_path(data.ED_SAMPLE_GOLD).read_text(encoding="utf-8"))
    spans: list[dict[str, object]] = gold["spans"]
    return spans


@pytest.fixture(scope="session")
def dev_notes() -> list[dict[str, object]]:
    """The PhysioNet dev notes (../shared/eval/physionet-dev.jsonl); skips without."""
    return data.read_jsonl(data.shared_path(data.DEV_SET))


@pytest.fixture(scope="session")
def local_detector() -> Any:
    """The local detector (spaCy + clinical rules) as shipped, built once per session."""
    from phiguard.detectors.local.detector import LocalDetector

    return LocalDetector()


# -- the CLI -----------------------------------------------------------------------------------


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


# -- Comprehend Medical: a real botocore client with fake credentials, answered by a Stubber --


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

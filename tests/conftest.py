"""Shared fixtures. The DynamoDB-compatible server is real (dynalite), started per session."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dynamodb_server import dynamodb_endpoint  # noqa: F401

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

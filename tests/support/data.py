"""Where the test data lives: shipped with the repo, or in ../shared (not redistributed).

Shipped (always there): examples/ed_summary.txt (the ED sample note), tests/data/notes.jsonl
(30 invented clinical notes in varied styles, with hand-marked gold spans) and
tests/data/synthetic_notes.jsonl (400 generated notes, tools/synth_notes.py).

../shared (beside the repo, or the folder named by $PHIGUARD_SHARED) holds what cannot be
redistributed: the PhysioNet dev notes and the ED sample's gold spans. `shared_path` is the one
way a test reaches it: it returns the path, or skips the test with a one-line reason.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
ED_SAMPLE = REPO / "examples" / "ed_summary.txt"
INVENTED_NOTES = DATA / "notes.jsonl"
SYNTHETIC_NOTES = DATA / "synthetic_notes.jsonl"

SHARED_ENV = "PHIGUARD_SHARED"
DEV_SET = "eval/physionet-dev.jsonl"
ED_SAMPLE_GOLD = "samples/ed_summary.gold.json"

# What each file of ../shared is, for the skip reason.
SHARED_FILES = {
    DEV_SET: "PhysioNet dev notes, not redistributed",
    ED_SAMPLE_GOLD: "gold spans of the ED sample note, not redistributed",
}


def shared_dir() -> Path:
    """../shared beside the repo, or $PHIGUARD_SHARED (relative paths from the repo root)."""
    override = os.environ.get(SHARED_ENV)
    return REPO / override if override else REPO.parent / "shared"


# Every reason shared_path skipped a test for: tests/conftest.py folds each into one line.
SKIP_REASONS: set[str] = set()


def shared_path(relative: str) -> Path:
    """The file `relative` under the shared folder; skip the calling test if it is absent."""
    path = shared_dir() / relative
    if not path.is_file():
        where = os.environ.get(SHARED_ENV) or "../shared"
        what = SHARED_FILES.get(relative, "not redistributed")
        reason = f"needs {where.rstrip('/')}/{relative} ({what})"
        SKIP_REASONS.add(reason)
        pytest.skip(reason)
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """One JSON object per non-blank line (split on "\\n" only: notes may hold U+2028)."""
    text = path.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.split("\n") if line.strip()]


@cache
def _invented() -> tuple[dict[str, Any], ...]:
    return tuple(read_jsonl(INVENTED_NOTES))


def invented_notes() -> list[dict[str, Any]]:
    """The 30 invented notes, `{"id", "text", "spans": [{"start", "end", "label", "text"}]}`."""
    return [dict(n) for n in _invented()]


def invented_note(note_id: str) -> dict[str, Any]:
    """One invented note by id (e.g. "invented-04", the discharge summary)."""
    return next(dict(n) for n in _invented() if n["id"] == note_id)


def bulk_notes() -> list[dict[str, Any]]:
    """Every shipped note with an id and text: the invented ones, then the synthetic set (430)."""
    return [
        {"id": n["id"], "text": n["text"]} for n in (*_invented(), *read_jsonl(SYNTHETIC_NOTES))
    ]

"""The `phiguard` command run as a user runs it: a child process, with the test's environment.

For in-process runs (faster: the spaCy model loads once per session) use the `run` fixture of
tests/conftest.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# Four short notes: three with PHI ("Maria" in the second), one without.
NOTES = [
    "Pt Carlos Salazar seen 11/12/2011 by Dr. Sarkar.",
    "Daughter Maria called from 617-555-0134, re: Mr. Jackson.",
    'He said "fine, thanks",\nthen left with his wife Ana Ruiz on 3/4/2011.',
    "No PHI in this one: vitals stable, 500 mg given.",
]


def write_jsonl(path: Path, n: int) -> list[dict[str, Any]]:
    """`n` records `{"id": "r<i>", "text": NOTES[i % 4], "n": i}` written to `path` as JSONL."""
    records = [{"id": f"r{i}", "text": NOTES[i % len(NOTES)], "n": i} for i in range(n)]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return records


def cli(
    *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """`python -m phiguard_cli ARGS` in a child process; never raises on a non-zero exit."""
    return subprocess.run(
        [sys.executable, "-m", "phiguard_cli", *args],
        input=stdin,
        capture_output=True,
        check=False,
        env=env or dict(os.environ),
    )


def one_error_line(r: subprocess.CompletedProcess[bytes], code: int, needle: str) -> str:
    """Assert the run failed as users expect (exit `code`, one `phiguard: error:` line holding
    `needle`, no traceback, nothing on stdout); return that line."""
    err = r.stderr.decode("utf-8", "replace")
    lines = err.strip().splitlines()
    assert r.returncode == code, err
    assert len(lines) == 1 and lines[0].startswith("phiguard: error:"), err
    assert needle in lines[0], err
    assert "Traceback" not in err
    assert r.stdout == b"", "no partial output"
    return lines[0]


def assert_jsonl_round_trip(
    run: Callable[..., Any], notes: Sequence[dict[str, Any]], tmp_path: Path
) -> None:
    """`deid --jsonl` then `reid --jsonl` (with the `run` fixture) give back every note's text
    byte for byte, in order."""
    src = tmp_path / "notes.jsonl"
    src.write_text("".join(json.dumps({"id": n["id"], "text": n["text"]}) + "\n" for n in notes))
    deid = tmp_path / "notes.deid.jsonl"
    r = run("deid", "--jsonl", str(src), "--out", str(deid))
    assert r.code == 0, r.err
    r = run("reid", "--jsonl", str(deid))
    assert r.code == 0, r.err
    back = [json.loads(line) for line in r.text.splitlines()]
    assert [b["text"] for b in back] == [n["text"] for n in notes]

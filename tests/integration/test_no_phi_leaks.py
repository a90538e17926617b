"""No PHI in logs, stderr, temp files or the vault, with --debug logging on.

The CLI runs as a user runs it (a subprocess) over the sample ED note, with TMPDIR pointed at
an empty directory; every gold PHI string is then searched for in stderr, in every file left
or created under TMPDIR, and in the raw bytes of the vault (and its WAL/journal files).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import SAMPLE


def _needles(gold: list[dict[str, Any]]) -> set[str]:
    """Gold PHI strings worth searching for: whole spans and their longer words.

    Short numbers ("91", "3") occur everywhere (in hashes, timings) and prove nothing.
    """
    out: set[str] = set()
    for span in gold:
        text = str(span["text"])
        if len(text) >= 4:
            out.add(text)
        out.update(w for w in text.replace(",", " ").split() if len(w) >= 4 and not w.isdigit())
    return out


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "phiguard_cli", "--debug", *args],
        capture_output=True,
        check=False,
        env=env,
    )


def test_debug_logs_temp_files_and_vault_hold_no_phi(
    tmp_path: Path, sample_gold: list[dict[str, Any]], sample_text: str
) -> None:
    needles = _needles(sample_gold)
    assert len(needles) >= 10 and all(n in sample_text for n in needles)
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    home = tmp_path / "home"
    work = tmp_path / "work"
    work.mkdir()
    env = dict(os.environ, TMPDIR=str(tmpdir), PHIGUARD_HOME=str(home))
    env.pop("PHIGUARD_KEY", None)

    deid = work / "note.deid"
    masked = work / "note.masked"
    jsonl = work / "note.jsonl"
    jsonl.write_text(json.dumps({"id": "n1", "text": sample_text}) + "\n")
    runs = {
        "detect": _run(["detect", "--format", "json", str(SAMPLE)], env),
        "mask": _run(["mask", str(SAMPLE), "--out", str(masked)], env),
        "deid": _run(["deid", str(SAMPLE), "--out", str(deid)], env),
        "deid-jsonl": _run(["deid", "--jsonl", str(jsonl), "--out", str(work / "d.jsonl")], env),
        "reid": _run(["reid", str(deid), "--out", str(work / "note.reid")], env),
        "audit": _run(["vault", "audit", "--format", "json"], env),
        "reid-bad": _run(["reid", str(deid), "--key-file", str(work / "missing")], env),
    }
    for name, r in runs.items():
        expected = 6 if name == "reid-bad" else 0
        assert r.returncode == expected, (name, r.stderr[-800:])
    assert (work / "note.reid").read_text() == sample_text, "the run did reveal, to its output"
    assert any(b": INFO:" in r.stderr or b"DEBUG" in r.stderr for r in runs.values()), "logging on"

    for name, r in runs.items():
        err = r.stderr.decode("utf-8", "replace")
        leaked = sorted(n for n in needles if n in err)
        assert not leaked, f"{name}: PHI in stderr: {len(leaked)} gold string(s)"
    for name in ("detect", "audit"):  # their stdout is metadata, not text
        out = runs[name].stdout.decode()
        assert not [n for n in needles if n in out], f"{name}: PHI on stdout"

    for path in tmpdir.rglob("*"):
        if path.is_file():
            data = path.read_bytes().decode("utf-8", "replace")
            assert not [n for n in needles if n in data], f"PHI in temp file {path.name}"

    for text_out in (deid, masked):
        body = text_out.read_text()
        assert not [n for n in needles if len(n) > 5 and n in body], text_out.name

    # the vault, its WAL, the key, and any run journal: nothing under PHIGUARD_HOME is plaintext
    home_files = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.name.startswith("vault.db") for p in home_files)
    for path in home_files:
        data = path.read_bytes()
        for n in needles:
            for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
                assert n.encode(encoding) not in data, f"plaintext PHI in {path.name}"

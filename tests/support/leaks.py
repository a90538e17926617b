"""The no-leak scan: run the CLI with --debug over a gold-marked note, then search every place
it wrote for the gold PHI strings (stderr, temp files under TMPDIR, outputs, the vault).

Shared by tests/integration/test_no_phi_leaks.py (an invented note, always) and
tests/accuracy/test_ed_sample.py (the ED sample with its ../shared gold).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from support.cli import cli


def needles(gold: Sequence[dict[str, Any]]) -> set[str]:
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


def assert_no_phi_leaks(tmp_path: Path, note: Path, gold: Sequence[dict[str, Any]]) -> None:
    """detect, mask, deid (file and JSONL), reid, audit and a failing reid over `note` with
    --debug on leave no gold string in stderr, temp files, metadata output or the vault."""
    text = note.read_text(encoding="utf-8")
    phi = needles(gold)
    assert len(phi) >= 10 and all(n in text for n in phi)
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
    jsonl.write_text(json.dumps({"id": "n1", "text": text}) + "\n")

    def debug(*args: str) -> Any:
        return cli("--debug", *args, env=env)

    runs = {
        "detect": debug("detect", "--format", "json", str(note)),
        "mask": debug("mask", str(note), "--out", str(masked)),
        "deid": debug("deid", str(note), "--out", str(deid)),
        "deid-jsonl": debug("deid", "--jsonl", str(jsonl), "--out", str(work / "d.jsonl")),
        "reid": debug("reid", str(deid), "--out", str(work / "note.reid")),
        "audit": debug("vault", "audit", "--format", "json"),
        "reid-bad": debug("reid", str(deid), "--key-file", str(work / "missing")),
    }
    for name, r in runs.items():
        expected = 6 if name == "reid-bad" else 0
        assert r.returncode == expected, (name, r.stderr[-800:])
    assert (work / "note.reid").read_text() == text, "the run did reveal, to its output"
    assert any(b": INFO:" in r.stderr or b"DEBUG" in r.stderr for r in runs.values()), "logging on"

    for name, r in runs.items():
        err = r.stderr.decode("utf-8", "replace")
        leaked = sorted(n for n in phi if n in err)
        assert not leaked, f"{name}: PHI in stderr: {len(leaked)} gold string(s)"
    for name in ("detect", "audit"):  # their stdout is metadata, not text
        out = runs[name].stdout.decode()
        assert not [n for n in phi if n in out], f"{name}: PHI on stdout"

    for path in tmpdir.rglob("*"):
        if path.is_file():
            data = path.read_bytes().decode("utf-8", "replace")
            assert not [n for n in phi if n in data], f"PHI in temp file {path.name}"

    for text_out in (deid, masked):
        body = text_out.read_text()
        assert not [n for n in phi if len(n) > 5 and n in body], text_out.name

    # the vault, its WAL, the key, and any run journal: nothing under PHIGUARD_HOME is plaintext
    home_files = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.name.startswith("vault.db") for p in home_files)
    for path in home_files:
        data = path.read_bytes()
        for n in phi:
            for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
                assert n.encode(encoding) not in data, f"plaintext PHI in {path.name}"

"""`phiguard --debug surrogate` leaks no PHI: not in stderr (logs, failure lines), not in temp
files, not under PHIGUARD_HOME (vault, WAL, journal), not in the output where the detector
found it. The CLI runs as a user runs it (a child process) over the shipped example notes,
whose PHI is invented."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "notes.jsonl"
PHI = [
    "Gloria", "Okafor", "Hallett", "555-201-7788", "00482913", "Riverbend", "FAIRVIEW",
    "Ruiz", "Rahimi", "(617) 555-0142", "ana.ruiz@example.org", "Tanaka", "Keiko",
    "123-45-6789", "03/14/2024", "07/02/1951", "2/27/2024", "3/5/2024",
]  # fmt: skip


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "phiguard_cli", "--debug", *args],
        capture_output=True,
        check=False,
        env=env,
    )


def test_debug_surrogate_runs_hold_no_phi(tmp_path: Path) -> None:
    tmpdir, home, work = tmp_path / "tmp", tmp_path / "home", tmp_path / "work"
    tmpdir.mkdir()
    work.mkdir()
    env = dict(os.environ, TMPDIR=str(tmpdir), PHIGUARD_HOME=str(home))
    env.pop("PHIGUARD_KEY", None)
    text = EXAMPLES.read_text(encoding="utf-8")
    assert all(p in text for p in PHI)
    broken = work / "broken.jsonl"  # the last record has no patient: it fails alone
    broken.write_text(text + json.dumps({"id": "x", "text": "Seen by Dr. Hallett."}) + "\n")
    out = work / "out"
    runs = {
        "surrogate": _run(
            ["surrogate", "--jsonl", "--patient-field", "patient", str(EXAMPLES), "-o", str(out)],
            env,
        ),
        "failing": _run(["surrogate", "--jsonl", "--patient-field", "patient", str(broken)], env),
        "reid": _run(["reid", "--jsonl", "--require-mapping", str(out)], env),
    }
    assert [r.returncode for r in runs.values()] == [0, 9, 0], runs["failing"].stderr[-600:]
    assert runs["reid"].stdout == EXAMPLES.read_bytes()
    assert any(b"DEBUG" in r.stderr or b"INFO" in r.stderr for r in runs.values()), "logging on"
    for name, r in runs.items():
        err = r.stderr.decode("utf-8", "replace")
        assert not [p for p in PHI if p in err], f"{name}: PHI in stderr"
    masked = _run(["mask", "--jsonl", str(EXAMPLES)], env).stdout.decode()
    found = [p for p in PHI if p not in masked]  # what the detector finds
    assert len(found) > len(PHI) // 2
    for body in (out.read_text(encoding="utf-8"), runs["failing"].stdout.decode()):
        assert not [p for p in found if p in body], "surrogates replace all the detector found"
    for path in [*tmpdir.rglob("*"), *home.rglob("*")]:
        if path.is_file():
            data = path.read_bytes()
            for p in PHI:
                for encoding in ("utf-8", "utf-16-le"):
                    assert p.encode(encoding) not in data, f"plaintext PHI in {path.name}"

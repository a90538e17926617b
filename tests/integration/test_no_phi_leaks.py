"""No PHI in logs, stderr, temp files or the vault, with --debug logging on.

The CLI runs as a user runs it (a subprocess) over an invented discharge summary
(tests/data/notes.jsonl), with TMPDIR pointed at an empty directory; every gold PHI string is
then searched for in stderr, in every file left or created under TMPDIR, and in the raw bytes
of the vault (and its WAL/journal files). tests/accuracy/test_ed_sample.py runs the same scan
over the ED sample note with its gold.
"""

from __future__ import annotations

from pathlib import Path

from support.data import invented_note
from support.leaks import assert_no_phi_leaks


def test_debug_logs_temp_files_and_vault_hold_no_phi(tmp_path: Path) -> None:
    note = invented_note("invented-04")  # a discharge summary: names, dates, address, MRN
    path = tmp_path / "note.txt"
    path.write_text(note["text"], encoding="utf-8")
    assert_no_phi_leaks(tmp_path, path, note["spans"])

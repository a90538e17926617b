"""The write-ahead journal of a run killed with SIGKILL: the next run sweeps it.

The vault is a real SQLite file; the run that dies is a real child process. The in-process
journal tests are in tests/unit/test_journal.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from phiguard.vaults.journal import sweep
from phiguard.vaults.sqlite import SQLiteVault
from support.vaults import journal_files, message_hashes


@pytest.mark.parametrize("committed", [False, True])
def test_journal_of_a_killed_run_is_swept_by_the_next_one(
    tmp_path: Path, committed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGKILL after the rows were written: before anything was released, every row goes; after
    the commit mark (the outputs may already be live), every row stays."""
    db = tmp_path / "v.db"
    child = textwrap.dedent(
        f"""
        import os, re, sys, time
        from pathlib import Path
        from phiguard import Deidentifier, Sealer
        from phiguard.vaults.journal import Journal
        from phiguard.spans import Span
        from phiguard.vaults.sqlite import SQLiteVault
        from phiguard.detectors import BaseDetector

        class D(BaseDetector):
            name = "names"
            def detect(self, text):
                return [Span(m.start(), m.end(), "NAME", 1.0, "t")
                        for m in re.finditer(r"[A-Z][a-z]+", text)]

        vault = SQLiteVault({str(db)!r})
        d = Deidentifier(D(), vault=vault, sealer=Sealer(b"k" * 32))
        j = Journal(vault, streaming=False, home=Path({str(tmp_path)!r}))
        notes = [f"{{i}}: Alice met Bob" for i in range(30)]
        for _ in d.deidentify_many(notes, vault_batch=4, journal=j):
            pass
        if {committed!r}:
            j.commit()
        print("written", flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"written"
    vault = SQLiteVault(db)
    assert len(message_hashes(vault)) == 30
    assert sweep(vault, home=tmp_path).runs == 0  # still alive
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    monkeypatch.setattr("phiguard.vaults.journal.DELETE_CHUNK", 7)  # settle in several deletes
    swept = sweep(vault, home=tmp_path)
    assert (swept.runs, swept.notes) == (1, 0 if committed else 30)
    assert len(message_hashes(vault)) == (30 if committed else 0)
    assert journal_files(tmp_path) == []

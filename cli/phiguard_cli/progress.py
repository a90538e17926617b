"""What a run shows on stderr: a progress bar on a terminal, failure lines, the summary.

The run itself is the library's (`phiguard.run_job`); this only displays it. Failure lines name
FILE:LINE, never the note, and the record's id only with --show-ids (ids may be MRNs and stderr
ends up in job logs).
"""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from phiguard import Result, Summary

MAX_LISTED_FAILURES = 20


class Report:
    """A `phiguard.run.job.Progress` for the terminal."""

    def __init__(self, *, quiet: bool, show_ids: bool = False) -> None:
        self.quiet, self.show_ids = quiet, show_ids
        self.failed = 0
        self.done = 0
        self.total = 0
        self.verb = ""
        self.started_at = time.monotonic()
        self._progress: Any = None
        self._task: Any = None

    def started(self, command: str, total: int) -> None:
        self.verb, self.total = command, total
        if self.quiet or not sys.stderr.isatty():
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn(f"phiguard {command}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} notes/s"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )

    def record(self, result: Result[Any], where: str) -> None:
        if result.ok:
            self.done += 1
        else:
            self.failed += 1
            if self.failed <= MAX_LISTED_FAILURES:
                label = f"{where} (id {result.id})" if self.show_ids and result.id else where
                self._echo(f"phiguard: record {label} failed (not written): {result.error}")
        if self._progress is not None:
            if self._task is None:
                self._progress.start()
                self._task = self._progress.add_task(self.verb, total=self.total, rate="0")
            n = self.done + self.failed
            rate = n / max(time.monotonic() - self.started_at, 1e-9)
            self._progress.update(self._task, completed=n, rate=f"{rate:.1f}")

    def _echo(self, line: str) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.console.print(line, markup=False, highlight=False)
        else:
            click.echo(line, err=True)

    def close(self) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.stop()
            self._task = None

    def finish(self, summary: Summary) -> None:
        self.close()
        if self.quiet:
            return
        more = summary.failed - MAX_LISTED_FAILURES
        failed = f"{summary.failed} failed" + (f" ({more} not listed above)" if more > 0 else "")
        click.echo(f"{summary.line()}; {failed}", err=True)

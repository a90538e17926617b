"""A write-ahead journal of vault rows whose note has not been released yet.

Why: a run that fails part-way (vault server gone, process killed, `--out` never committed)
leaves rows for notes nobody received. Those orphans leak nothing (sealed, keyed by the hash
of a text nobody holds) but they pile up, and a re-run would write a second mapping beside
them. The journal makes a re-run leave exactly the rows of the released output.

The order that makes it safe:

1. `intend(rows)`: the keys (message hash, token) are appended and fsynced **before** the
   vault write, so a crash at any point afterwards still knows what may have been written.
2. `released(hashes)`: appended and fsynced **before** the notes are handed out (streaming),
   or `commit()` once before the outputs are renamed into place (`--out`). A crash between
   the mark and the release leaves an orphan, never a released note without its mapping.
   If handing out then fails without a crash (disk full, the reader closed the pipe), the
   notes not written are unreleased again (`retract_undelivered`, a "U" line): a note counts
   as released only once its bytes were written.
3. `close()`: rows of notes never released are deleted, and the journal file removed. If the
   vault cannot be reached, the file stays; the next run on the same vault (`sweep`) deletes
   them first.

A running journal holds an exclusive `flock` on its file, so `sweep` touches only journals of
runs that are no longer alive. Journals hold keys only (SHA3-256 hex digests), never a value.

Only for fresh-salt tokens (the default): with `--consistent`, identical notes share keys,
so deleting "this run's" rows could remove the mapping of a note released by another run.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from phiguard import paths
from phiguard.errors import ConfigError
from phiguard.vaults.base import Capability, Vault, VaultRecord

__all__ = ["Journal", "Swept", "sweep"]

log = logging.getLogger(__name__)

SUFFIX = ".journal"
HEADER_STREAMING = "H phiguard-journal-1 streaming\n"
HEADER_COMMIT = "H phiguard-journal-1 commit\n"
DELETE_CHUNK = 1000  # keys per vault.delete when settling a large journal


def _directory(vault: Vault, home: Path | None) -> Path:
    digest = hashlib.sha256(vault.location.encode("utf-8")).hexdigest()[:24]
    return (home or paths.home()) / "journal" / digest


@dataclass(frozen=True, slots=True)
class Swept:
    """What `sweep` or `close` did: journals settled, unreleased notes whose rows they
    deleted (keys never written are deleted too: deletes are idempotent), journals kept."""

    runs: int = 0
    notes: int = 0
    kept: int = 0  # journals left in place because the vault refused the deletes


def _settle(path: Path, vault: Vault) -> int:
    """Delete the rows of the notes the journal at `path` never released; the number of notes.

    Memory stays bounded for any run size: a committed journal needs nothing; a `commit` journal
    never marks notes one by one, so its keys are deleted in chunks as they are read; a
    streaming journal marks each group released right after writing it, so what is held is at
    most the groups written but not yet marked.
    """
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        if fh.tell() >= 2:
            fh.seek(-2, os.SEEK_END)
            if fh.read() == b"C\n":
                return 0
        fh.seek(0)
        streaming = fh.readline() != HEADER_COMMIT.encode()
        pending: dict[str, list[str]] = {}
        released: dict[str, list[str]] = {}  # the last group marked: a "U" line names it
        chunk: list[tuple[str, str]] = []
        notes = 0
        for raw in fh:
            kind, _, rest = raw.decode("ascii", "replace").strip().partition(" ")
            if kind == "P":
                mhash, *tokens = rest.split()
                if streaming:
                    pending.setdefault(mhash, []).extend(tokens)
                    continue
                notes += 1
                chunk.extend((mhash, t) for t in tokens)
                if len(chunk) >= DELETE_CHUNK:
                    vault.delete(chunk)
                    chunk = []
            elif kind == "R":
                released = {m: pending.pop(m) for m in rest.split() if m in pending}
            elif kind == "U":  # released, then found not written: unreleased again
                for mhash in rest.split():
                    if mhash in released:
                        pending[mhash] = released.pop(mhash)
        chunk.extend((m, t) for m, tokens in pending.items() for t in tokens)
        if chunk:
            vault.delete(chunk)
        return notes + len(pending)


class Journal:
    """The journal of one run on one vault (see the module docstring for the protocol).

    `streaming=True`: a note counts as released when `released()` marks it (the batch API does
    so just before yielding it). `streaming=False`: nothing is released before `commit()`, as
    for outputs staged in temp files and renamed at the end.
    """

    def __init__(self, vault: Vault, *, streaming: bool = True, home: Path | None = None) -> None:
        self.vault = vault
        self.streaming = streaming
        directory = _directory(vault, home)
        directory.parent.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        for level in (directory.parent, directory):  # journal/ and journal/<vault>/: owner only
            level.mkdir(exist_ok=True, mode=0o700)
            level.chmod(0o700)
        name = secrets.token_hex(8)
        staging = directory / f".{name}.new"
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        self._fh: IO[str] | None = os.fdopen(fd, "w", encoding="ascii")
        self._append(HEADER_STREAMING if streaming else HEADER_COMMIT)
        # locked and headed before a sweeper can see it under its journal name (the lock
        # follows the inode)
        self.path = directory / f"{name}{SUFFIX}"
        os.rename(staging, self.path)
        self._pending: set[str] = set()  # streaming: written, not yet released (one group)
        self._handed: list[str] = []  # streaming: marked released, not yet delivered
        self._intended = 0  # notes whose keys were journaled
        self._committed = False

    @classmethod
    def start(
        cls, vault: Vault, *, streaming: bool = True, home: Path | None = None
    ) -> Journal | None:
        """A journal for `vault`, or None if the vault cannot delete rows (memory)."""
        if Capability.DELETE not in vault.capabilities:
            return None
        try:
            return cls(vault, streaming=streaming, home=home)
        except OSError as exc:
            where = _directory(vault, home).parent
            raise ConfigError(
                f"cannot create the run journal under {where} ({exc.strerror}); "
                "set PHIGUARD_HOME to a writable directory"
            ) from None

    def intend(self, rows: Sequence[VaultRecord]) -> None:
        """Record the keys of `rows` durably; call before `vault.put(rows)`."""
        by_message: dict[str, list[str]] = {}
        for r in rows:
            by_message.setdefault(r.message_hash, []).append(r.token)
        if not by_message:
            return
        self._append("".join(f"P {m} {' '.join(t)}\n" for m, t in by_message.items()))
        self._intended += len(by_message)
        if self.streaming:
            self._pending.update(by_message)

    def released(self, message_hashes: Iterable[str]) -> None:
        """Mark notes as handed out (streaming journals only); call before handing them out."""
        if not self.streaming:
            return
        hashes = [m for m in message_hashes if m in self._pending]
        if not hashes:
            return
        self._append(f"R {' '.join(hashes)}\n")
        self._pending.difference_update(hashes)
        self._handed = hashes

    def delivered(self, message_hash: str) -> None:
        """The note's bytes were written (in memory only: a crash now leaves an orphan row,
        never a written note without its mapping)."""
        if self._handed and self._handed[0] == message_hash:
            self._handed.pop(0)
        elif message_hash in self._handed:
            self._handed.remove(message_hash)

    def retract_undelivered(self) -> None:
        """The run failed: notes marked released but never written (the reader went away, the
        disk filled) are unreleased again, so `close` deletes their rows."""
        if not self.streaming or not self._handed or self._fh is None:
            return
        try:
            self._append(f"U {' '.join(self._handed)}\n")
        except OSError:
            return  # left as orphans: safe, never a released note without its mapping
        self._pending.update(self._handed)
        self._handed = []

    def commit(self) -> None:
        """Mark every note of the run released; call just before the outputs go live."""
        self._append("C\n")
        self._pending.clear()
        self._committed = True

    def close(self) -> Swept:
        """Delete the rows of notes never released, then the journal. Never raises: if the
        vault refuses, the journal is kept for the next run's `sweep`."""
        if self._fh is None:
            return Swept()
        nothing_unreleased = (
            self._committed or self._intended == 0 or (self.streaming and not self._pending)
        )
        notes = kept = 0
        try:
            self._fh.flush()
            if not nothing_unreleased:
                notes = _settle(self.path, self.vault)
                log.info("journal: removed the vault rows of %d unreleased note(s)", notes)
            self.path.unlink(missing_ok=True)
        except Exception as exc:  # the vault is down: leave the journal for the next run
            kept = 1
            # info, not warning: the run is already failing with its own one-line error
            log.info(
                "the vault rows of notes that were not released could not be removed now "
                "(%s); the next deid on this vault removes them",
                type(exc).__name__,
            )
        finally:
            self._fh.close()  # releases the lock
            self._fh = None
        return Swept(runs=1, notes=notes, kept=kept)

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _append(self, text: str) -> None:
        if self._fh is None:
            raise ValueError("the journal is closed")
        self._fh.write(text)
        self._fh.flush()
        os.fsync(self._fh.fileno())


def sweep(vault: Vault, *, home: Path | None = None) -> Swept:
    """Delete the unreleased rows of runs on `vault` that died or could not clean up.

    Journals still locked belong to live runs and are skipped. A journal whose deletes fail
    stays for the next sweep; the error is logged (type only), never raised.
    """
    if Capability.DELETE not in vault.capabilities:
        return Swept()
    directory = _directory(vault, home)
    if not directory.is_dir():
        return Swept()
    runs = notes = kept = 0
    for path in sorted(directory.glob(f"*{SUFFIX}")):
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue  # swept by a concurrent run meanwhile
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a live run holds it
            try:
                notes += _settle(path, vault)
                path.unlink(missing_ok=True)
            except Exception as exc:
                kept += 1
                log.info(  # the vault is down: the run's own write fails with a clear line
                    "could not remove the vault rows of unreleased notes left by an "
                    "interrupted run (%s); the next deid on this vault retries",
                    type(exc).__name__,
                )
                continue
            runs += 1
        finally:
            os.close(fd)
    if notes:
        log.warning(
            "removed the vault rows of %d unreleased note(s) left by %d interrupted run(s)",
            notes,
            runs,
        )
    return Swept(runs=runs, notes=notes, kept=kept)

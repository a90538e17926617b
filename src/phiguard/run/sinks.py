"""Job outputs: stdout, one file, or one file per input under a directory; never partial.

Masked or de-identified text goes to a temp file beside its target, renamed on commit (temp files
never hold PHI). Re-identified text (PHI) is written straight to its target with mode 0600 and
removed on abort. Every write reports whether its bytes reached the OS: a note counts as
released only once they did (stdout is flushed per record), and a write that fails (disk full,
reader gone) is an `OutputError`, never a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import sys
from collections import Counter
from pathlib import Path
from typing import IO

from phiguard.errors import InputError, OutputError
from phiguard.run.sources import Source

TMP_SUFFIX = ".phiguard-tmp"


def _open_private(target: Path) -> int:
    """Open `target` for PHI: never through a symlink, never a file another user owns, and
    mode 0600 whatever it was before (a pre-created world-readable file must not receive PHI)."""
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as exc:
        raise InputError(f"output {target}: cannot open for writing ({exc.strerror})") from None
    st = os.fstat(fd)
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        os.close(fd)
        raise InputError(f"output {target}: owned by another user; not writing PHI to it")
    os.fchmod(fd, 0o600)
    os.ftruncate(fd, 0)
    return fd


def check_writable(target: Path, *, phi: bool) -> None:
    """Refuse now, before anything is decrypted or detected, an output that cannot be opened
    (a symlink for PHI, a missing parent under a file, a directory in the way)."""
    parent = target.parent
    if parent.exists() and not parent.is_dir():
        raise InputError(f"output {target}: {parent} is not a directory")
    if target.is_dir():
        raise InputError(f"output {target}: is a directory")
    if phi and target.is_symlink():
        raise InputError(f"output {target}: is a symbolic link; not writing PHI through it")
    probe = parent
    while not probe.exists():
        probe = probe.parent
    if not os.access(probe, os.W_OK | os.X_OK):
        raise InputError(f"output {target}: permission denied")


def _write_failed(exc: OSError, where: str) -> OutputError:
    if exc.errno == errno.EPIPE or isinstance(exc, BrokenPipeError):
        return OutputError(f"{where} was closed before the output was complete (broken pipe)")
    return OutputError(f"cannot write {where} ({exc.strerror or type(exc).__name__})")


class Output:
    """One destination (None: stdout)."""

    def __init__(self, target: Path | None, *, phi: bool) -> None:
        self.target, self.phi = target, phi
        self._fh: IO[bytes] | None = None
        self._path: Path | None = None

    @property
    def where(self) -> str:
        return "standard output" if self.target is None else f"output {self.target}"

    def write(self, data: bytes) -> None:
        """Write `data`; for stdout also flush, so that returning means the bytes left us."""
        try:
            if self._fh is None:
                self._fh = self._open()
            self._fh.write(data)
            if self.target is None:
                self._fh.flush()
        except OSError as exc:
            raise _write_failed(exc, self.where) from None

    def _open(self) -> IO[bytes]:
        if self.target is None:
            return sys.stdout.buffer
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(
                f"output {self.target}: cannot create its directory ({exc.strerror})"
            ) from None
        if self.phi:
            self._path = self.target
            fd = _open_private(self.target)
        else:
            name = f".{self.target.name}.{os.getpid()}-{secrets.token_hex(4)}{TMP_SUFFIX}"
            self._path = self.target.with_name(name)
            try:
                fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except OSError as exc:
                raise InputError(
                    f"output {self.target}: cannot open for writing ({exc.strerror})"
                ) from None
        return os.fdopen(fd, "wb")

    def commit(self) -> None:
        if self._fh is None:
            self.write(b"")
        try:
            if self.target is None:
                sys.stdout.flush()
                return
            assert self._fh is not None and self._path is not None
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            if self._path != self.target:
                os.replace(self._path, self.target)
        except OSError as exc:
            raise _write_failed(exc, self.where) from None

    def abort(self) -> None:
        if self.target is None:
            return
        if self._fh is not None:
            with contextlib.suppress(OSError):  # a full disk: the file is removed below anyway
                self._fh.close()
        if self._path is not None:
            self._path.unlink(missing_ok=True)


class Outputs:
    """Where each source's output goes: stdout, one file, or one file per source in a dir."""

    def __init__(self, out: str | None, sources: list[Source], *, phi: bool, single: bool):
        self.phi = phi
        self._all: list[Output] = []
        self._shared: Output | None = None
        self._dir: Path | None = None
        self._by_source: dict[str, Output] = {}
        target = Path(out) if out is not None else None
        if target is None:
            self._shared = self._new(None)
        elif single and not target.is_dir():
            check_writable(target, phi=phi)
            remove_stale_temp_files(target.parent, target.name)
            self._shared = self._new(target)
            if phi:
                self._shared.write(b"")  # open it now: PHI is decrypted only if it can be written
        elif single:
            check_writable(target / sources[0].out_name, phi=phi)
            self._shared = self._new(target / sources[0].out_name)
        else:
            if target.exists() and not target.is_dir():
                raise InputError(f"output {out}: several inputs need a directory, not a file")
            names = Counter(s.out_name for s in sources)
            dup = next((n for n, c in names.items() if c > 1), None)
            if dup is not None:
                raise InputError(f"two inputs would both be written as {dup!r} in the output")
            for s in sources:
                check_writable(target / s.out_name, phi=phi)
            self._dir = target
            remove_stale_temp_files(target)

    def _new(self, target: Path | None) -> Output:
        o = Output(target, phi=self.phi)
        self._all.append(o)
        return o

    def for_source(self, src: Source) -> Output:
        if self._shared is not None:
            return self._shared
        assert self._dir is not None
        if src.path not in self._by_source:
            self._by_source[src.path] = self._new(self._dir / src.out_name)
        return self._by_source[src.path]

    def commit(self) -> None:
        for o in self._all:
            o.commit()

    def abort(self) -> None:
        for o in self._all:
            o.abort()


def remove_stale_temp_files(directory: Path, name: str = "*") -> int:
    """Delete the temp files of killed runs under `directory` (they hold no PHI, only output
    that was never committed): ours are `.NAME.PID-XXXXXXXX.phiguard-tmp`, owned by this user,
    and stale when no process PID runs any more (a live run's files are left alone)."""
    if not directory.is_dir():
        return 0
    removed = 0
    pattern = f".{name}.*{TMP_SUFFIX}"
    found = directory.rglob(pattern) if name == "*" else directory.glob(pattern)
    for path in found:
        pid = path.name[: -len(TMP_SUFFIX)].rpartition(".")[2].partition("-")[0]
        try:
            if not pid.isdigit() or _alive(int(pid)) or not path.is_file():
                continue
            if hasattr(os, "geteuid") and path.stat().st_uid != os.geteuid():
                continue
            path.unlink()
            removed += 1
        except OSError:
            continue
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True

"""Inputs and outputs of batch jobs: files, directories and globs in; files or stdout out.

Reading is strict (UTF-8, no NUL) and lazy, so memory stays flat; errors name files, line
numbers and byte offsets, never content. Writing never leaves partial output: masked or
de-identified text goes to a temp file renamed on commit (temp files never hold PHI), while
re-identified text (PHI) is written straight to its target with mode 0600 and removed on abort.
"""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from phiguard.errors import InputError
from phiguard.io import STDIN, decode, read_bytes


def check_out(count: int, out: str | None, fmt: str) -> None:
    if count > 1 and out is None and fmt == "text":
        raise InputError("several inputs in text format need --out DIR (or use --format jsonl)")


# --- inputs -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Source:
    """One input: `path` to read ('-' for stdin), `name` for messages, `out_name` for the
    file it becomes under `--out DIR` (relative path below a directory input)."""

    path: str
    name: str
    out_name: str


def _walk(root: Path, pattern: str) -> list[Path]:
    """Files under `root` matching `pattern`, sorted; hidden entries (.git, .venv) skipped."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        base = Path(dirpath)
        found.extend(
            base / f
            for f in sorted(filenames)
            if not f.startswith(".") and (base / f).match(pattern) and (base / f).is_file()
        )
    return found


def expand_inputs(args: list[str], pattern: str) -> list[Source]:
    """Files, directories (recursive) and glob patterns, in the order given."""
    import glob as globmod

    sources: list[Source] = []
    for arg in args or [STDIN]:
        if arg == STDIN:
            sources.append(Source(STDIN, "<stdin>", "stdin"))
            continue
        p = Path(arg)
        if p.is_dir():
            files = _walk(p, pattern)
            if not files:
                raise InputError(f"{arg}: is a directory with no files matching {pattern!r}")
            sources.extend(Source(str(f), str(f), str(f.relative_to(p))) for f in files)
        elif p.exists() or not globmod.has_magic(arg):
            sources.append(Source(arg, arg, p.name))
        else:
            matches = [m for m in sorted(globmod.glob(arg, recursive=True)) if Path(m).is_file()]
            if not matches:
                raise InputError(f"{arg}: no files match this pattern")
            sources.extend(Source(m, m, Path(m).name) for m in matches)
    return sources


class Inputs:
    """Reads sources as bytes; stdin is read once and kept (it cannot be read twice)."""

    def __init__(self, sources: list[Source]) -> None:
        self.sources = sources
        self._stdin: bytes | None = None

    def open(self, src: Source) -> IO[bytes]:
        if src.path == STDIN:
            if self._stdin is None:
                self._stdin = sys.stdin.buffer.read()
            return io.BytesIO(self._stdin)
        try:
            return open(src.path, "rb")
        except OSError:
            read_bytes(src.path)  # raises the standard InputError message
            raise

    def text(self, src: Source) -> str:
        with self.open(src) as fh:
            data = fh.read()
        if not data:
            raise InputError(f"{src.name}: input is empty")
        return decode(data, src.name)

    def lines(self, src: Source) -> Iterator[tuple[int, str]]:
        """(line number, decoded line with its ending), split on '\\n' only; strict UTF-8,
        no NUL, errors name the byte offset, never content."""
        with self.open(src) as fh:
            offset = 0
            for lineno, raw in enumerate(fh, 1):
                nul = raw.find(b"\x00")
                if nul != -1:
                    raise InputError(
                        f"{src.name}: contains a NUL byte at byte {offset + nul} (binary file?)"
                    )
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise InputError(
                        f"{src.name}: not valid UTF-8 (byte {offset + exc.start})"
                    ) from None
                offset += len(raw)
                yield lineno, line
            if offset == 0:
                raise InputError(f"{src.name}: input is empty")


# --- record readers: (id, text) items with enough context to rebuild the output ---------


def jsonl_records(inputs: Inputs, src: Source, field: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for lineno, line in inputs.lines(src):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{src.name}:{lineno}: malformed JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise InputError(f"{src.name}:{lineno}: a JSON Lines record must be an object")
        value = obj.get(field)
        if value is not None and not isinstance(value, str):
            raise InputError(f"{src.name}:{lineno}: field {field!r} is not a string")
        if value and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise InputError(
                    f"{src.name}:{lineno}: field {field!r} has an unpaired surrogate escape"
                ) from None
        yield lineno, obj


@dataclass(frozen=True, slots=True)
class CsvHead:
    header: list[str]
    column: int
    id_column: int | None
    lineterminator: str


def csv_rows(
    inputs: Inputs, src: Source, field: str, id_field: str
) -> tuple[CsvHead, Iterator[tuple[int, list[str]]]]:
    """The header (checked) and a lazy iterator of (first line number, row)."""
    csv.field_size_limit(2**31 - 1)  # notes can be far longer than the 128 KiB default
    lines = inputs.lines(src)
    first = next(lines, None)
    if first is None:  # pragma: no cover - lines() raises on empty input
        raise InputError(f"{src.name}: input is empty")
    terminator = "\r\n" if first[1].endswith("\r\n") else "\n"

    def texts() -> Iterator[str]:
        yield first[1]
        for _, line in lines:
            yield line

    reader = csv.reader(texts(), strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise InputError(f"{src.name}:1: malformed CSV header ({exc})") from None
    if field not in header:
        raise InputError(f"{src.name}: no column {field!r} in the CSV header")
    head = CsvHead(
        header,
        header.index(field),
        header.index(id_field) if id_field in header else None,
        terminator,
    )

    def rows() -> Iterator[tuple[int, list[str]]]:
        start = reader.line_num + 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise InputError(f"{src.name}:{reader.line_num}: malformed CSV ({exc})") from None
            if row and len(row) != len(header):
                raise InputError(
                    f"{src.name}:{start}: {len(row)} columns, the header has {len(header)}"
                )
            yield start, row
            start = reader.line_num + 1

    return head, rows()


# --- outputs ------------------------------------------------------------------------------


def _open_private(target: Path) -> int:
    """Open `target` for PHI: never through a symlink, never a file another user owns, and
    mode 0600 whatever it was before (a pre-created world-readable file must not receive PHI)."""
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as exc:
        raise InputError(f"--out {target}: cannot open for writing ({exc.strerror})") from None
    st = os.fstat(fd)
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        os.close(fd)
        raise InputError(f"--out {target}: owned by another user; not writing PHI to it")
    os.fchmod(fd, 0o600)
    os.ftruncate(fd, 0)
    return fd


class Output:
    """One destination. Non-PHI output goes to a temp file renamed on `commit`; PHI
    (`reid`) is written straight to the target (0600) and deleted on `abort`."""

    def __init__(self, target: Path | None, *, phi: bool) -> None:
        self.target, self.phi = target, phi
        self._fh: IO[bytes] | None = None
        self._path: Path | None = None

    def write(self, data: bytes) -> None:
        if self._fh is None:
            self._fh = self._open()
        self._fh.write(data)

    def _open(self) -> IO[bytes]:
        if self.target is None:
            return sys.stdout.buffer
        self.target.parent.mkdir(parents=True, exist_ok=True)
        if self.phi:
            self._path = self.target
            fd = _open_private(self.target)
        else:
            name = f".{self.target.name}.{secrets.token_hex(4)}.phiguard-tmp"
            self._path = self.target.with_name(name)
            fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        return os.fdopen(fd, "wb")

    def commit(self) -> None:
        if self._fh is None:
            self.write(b"")
        if self.target is None:
            sys.stdout.flush()
            return
        assert self._fh is not None and self._path is not None
        self._fh.close()
        if self._path != self.target:
            os.replace(self._path, self.target)

    def abort(self) -> None:
        if self.target is None:
            return
        if self._fh is not None:
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
            self._shared = self._new(target)
        elif single:
            self._shared = self._new(target / sources[0].out_name)
        else:
            if target.exists() and not target.is_dir():
                raise InputError(f"--out {out}: several inputs need a directory, not a file")
            names = Counter(s.out_name for s in sources)
            dup = next((n for n, c in names.items() if c > 1), None)
            if dup is not None:
                raise InputError(f"two inputs would both be written as {dup!r} under --out")
            self._dir = target

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

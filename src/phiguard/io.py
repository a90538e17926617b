"""Reading notes: strict UTF-8, exact bytes, and one clear error per bad input (no PHI)."""

from __future__ import annotations

import sys
from pathlib import Path

from phiguard.errors import InputError

STDIN = "-"


def read_bytes(path: str | Path, what: str = "") -> bytes:
    """The file's bytes, or one InputError line: `what` names the role ("gold file ")."""
    if str(path) == STDIN:
        return sys.stdin.buffer.read()
    where = f"{what}{path}"
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"{where}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{where}: is a directory, not a file") from None
    except PermissionError:
        raise InputError(f"{where}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{where}: cannot read ({exc.strerror})") from None


def read_text(path: str | Path, what: str = "") -> str:
    """A whole file as strict UTF-8 text (term lists, gold files, notes)."""
    return decode(read_bytes(path, what), f"{what}{path}")


def decode(data: bytes, name: str) -> str:
    """Strict UTF-8: a note we cannot decode exactly is a note we cannot return exactly."""
    nul = data.find(b"\x00")
    if nul != -1:
        raise InputError(f"{name}: contains a NUL byte at byte {nul} (binary file?)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not valid UTF-8 (byte {exc.start})") from None

"""Errors a user can hit. Messages never contain PHI: offsets, types, hashes, paths only."""

from __future__ import annotations

from dataclasses import dataclass


class PhiguardError(Exception):
    """Base class; `exit_code` is what the CLI exits with (documented in docs/cli.md)."""

    exit_code = 1


class InputError(PhiguardError):
    """Missing file, directory, non-UTF-8 bytes, empty input, malformed JSON Lines."""

    exit_code = 3


class DetectionError(PhiguardError):
    """A detector failed (service error, missing credentials, model not installed)."""

    exit_code = 4


class VaultError(PhiguardError):
    """The vault could not be opened, read or written (missing table, server down)."""

    exit_code = 5


class EncryptionKeyError(PhiguardError):
    """The encryption key is missing, malformed, or not the one the vault was written with."""

    exit_code = 6


class ReidentificationError(PhiguardError):
    """Tokens in the text that the vault does not hold for this message."""

    exit_code = 7


class ConfigError(PhiguardError):
    """Unknown backend/store names or inconsistent options."""

    exit_code = 2


class OutputError(PhiguardError):
    """The output could not be written (disk full, the reader closed the pipe): what was not
    written does not count as released."""

    exit_code = 10


class RecordsFailed(PhiguardError):
    """Some records of a batch failed and were not written; the others were."""

    exit_code = 9


#: Errors rebuilt from a `Failure` by name (a failure may cross a process boundary).
_BY_NAME: dict[str, type[PhiguardError]] = {
    cls.__name__: cls
    for cls in (
        PhiguardError,
        InputError,
        DetectionError,
        VaultError,
        EncryptionKeyError,
        ReidentificationError,
        ConfigError,
        OutputError,
        RecordsFailed,
    )
}


@dataclass(frozen=True, slots=True)
class Failure:
    """Why one record was not released: typed, picklable, and free of PHI.

    `kind` is the error's class name. Our errors' messages are PHI-free by contract; any other
    exception's message may quote the note, so it is withheld (`known=False`).
    """

    kind: str
    message: str = ""
    known: bool = True

    @classmethod
    def of(cls, exc: BaseException) -> Failure:
        if isinstance(exc, PhiguardError):
            return cls(type(exc).__name__, str(exc))
        return cls(type(exc).__name__, "", known=False)

    @property
    def exit_code(self) -> int:
        return _BY_NAME.get(self.kind, PhiguardError).exit_code

    def error(self) -> PhiguardError:
        """The error to raise for this failure (the original class for our own errors)."""
        return _BY_NAME.get(self.kind, PhiguardError)(self.message or str(self))

    def __str__(self) -> str:
        if not self.known:
            return f"{self.kind} (message withheld: it may quote the note)"
        return f"{self.kind}: {self.message}"

"""Errors a user can hit. Messages never contain PHI: offsets, types, hashes, paths only."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum


class Hint(Enum):
    """The setting that would fix an error, named as the library's parameter.

    Messages say what went wrong in library terms and never quote a front end's flags; a front
    end words the hint its own way (the CLI appends its option: phiguard_cli.hints).
    """

    REGION = "region"  # an AWS region
    PROFILE = "profile"  # another AWS profile (credentials missing, rejected or not found)
    ENDPOINT = "endpoint_url"  # the endpoint of a DynamoDB-compatible server
    TABLE = "table"  # the DynamoDB vault table
    CREATE_TABLES = "create_tables"  # the vault's DynamoDB tables must be created first
    KMS_KEY = "kms_key_id"  # a KMS key to generate data keys with
    KEY_FILE = "key_file"  # the local key file
    VAULT_PATH = "path"  # the SQLite vault file
    PARTIAL = "partial"  # partial re-identification of an edited text
    STORE = "store"  # a vault store that outlives the process (sqlite, dynamodb)


class PhiguardError(Exception):
    """Base class; `exit_code` is what the CLI exits with (documented in docs/cli.md).

    `hint`, if set, names the setting that would fix the error (see `Hint`).
    """

    exit_code = 1

    def __init__(self, message: str = "", *, hint: Hint | None = None) -> None:
        super().__init__(message)
        self.hint = hint


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


def safe_detail(exc: BaseException, texts: Sequence[str]) -> str:
    """A foreign exception's message, for debug logs, if it quotes none of `texts`: withheld as
    soon as any word of four or more letters in it also occurs in one of them (case folded)."""
    message = " ".join(str(exc).split())[:300]
    words = {w.casefold() for w in re.findall(r"[^\W\d_]{4,}", message)}
    folded = [t.casefold() for t in texts]
    if not message or any(w in t for w in words for t in folded):
        return "(message withheld: it may quote the note)"
    return message


@dataclass(frozen=True, slots=True)
class Failure:
    """Why one record was not released: typed, picklable, and free of PHI.

    `kind` is the error's class name. Our errors' messages are PHI-free by contract; any other
    exception's message may quote the note, so it is withheld (`known=False`).
    """

    kind: str
    message: str = ""
    known: bool = True
    hint: Hint | None = None

    @classmethod
    def of(cls, exc: BaseException) -> Failure:
        if isinstance(exc, PhiguardError):
            return cls(type(exc).__name__, str(exc), hint=exc.hint)
        return cls(type(exc).__name__, "", known=False)

    @property
    def exit_code(self) -> int:
        return _BY_NAME.get(self.kind, PhiguardError).exit_code

    def error(self) -> PhiguardError:
        """The error to raise for this failure (the original class for our own errors)."""
        error = _BY_NAME.get(self.kind, PhiguardError)
        return error(self.message or str(self), hint=self.hint)

    def __str__(self) -> str:
        if not self.known:
            return f"{self.kind} (message withheld: it may quote the note)"
        return f"{self.kind}: {self.message}"

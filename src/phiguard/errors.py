"""Errors a user can hit. Messages never contain PHI: offsets, types, hashes, paths only."""

from __future__ import annotations


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


class RecordsFailed(PhiguardError):
    """Some records of a batch failed and were not written; the others were."""

    exit_code = 9

"""Where the 256-bit vault key comes from: a key file, or PHIGUARD_KEY (base64).

The key never appears in logs or errors; it is named by `key_id`, a one-way fingerprint.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import stat
from pathlib import Path

from phiguard import paths
from phiguard.errors import EncryptionKeyError, Hint

KEY_BYTES = 32
ENV_VAR = "PHIGUARD_KEY"


def key_id(key: bytes) -> str:
    """A short fingerprint that identifies a key without revealing it."""
    return hashlib.sha3_256(b"phiguard key id\x00" + key).hexdigest()[:16]


def generate_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def encode_key(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


def decode_key(encoded: str, where: str) -> bytes:
    try:
        key = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise EncryptionKeyError(f"{where} is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise EncryptionKeyError(
            f"{where} must decode to {KEY_BYTES} bytes (AES-256), got {len(key)}"
        )
    return key


def write_key_file(path: Path, key: bytes) -> None:
    """Create the key file with mode 0600; refuse to overwrite an existing one."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise EncryptionKeyError(f"key file {path} already exists; not overwriting it") from None
    except OSError as exc:
        raise EncryptionKeyError(f"cannot create key file {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(encode_key(key) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def read_key_file(path: Path) -> bytes:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise EncryptionKeyError(f"key file {path} not found", hint=Hint.KEY_FILE) from None
    if stat.S_ISDIR(st.st_mode):
        raise EncryptionKeyError(f"key file {path} is a directory")
    if os.name == "posix" and st.st_mode & 0o077:
        raise EncryptionKeyError(
            f"key file {path} is readable by other users (mode {stat.S_IMODE(st.st_mode):04o});"
            f" run: chmod 600 {path}"
        )
    try:
        content = path.read_text(encoding="ascii")
    except (UnicodeDecodeError, OSError):
        raise EncryptionKeyError(f"key file {path} cannot be read as base64 text") from None
    return decode_key(content, f"key file {path}")


def load_key(key_file: str | Path | None = None, *, create: bool = False) -> bytes:
    """The key: `key_file` if given, else $PHIGUARD_KEY, else the default key file.

    With `create=True` (writers) a missing key file is created; readers never create one,
    since a fresh key could not decrypt anything.
    """
    if key_file is None and os.environ.get(ENV_VAR):
        return decode_key(os.environ[ENV_VAR], ENV_VAR)
    path = Path(key_file) if key_file is not None else paths.default_key_path()
    if create and not path.exists():
        write_key_file(path, generate_key())
    return read_key_file(path)

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
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from phiguard import paths
from phiguard.errors import EncryptionKeyError

if TYPE_CHECKING:
    from phiguard.keys.sealer import Sealer

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
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
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
        raise EncryptionKeyError(
            f"key file {path} not found (set --key-file or {ENV_VAR})"
        ) from None
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


def rotate_local_key(
    vault: object,
    old: Sealer,
    new_key: bytes,
    *,
    batch_size: int = 500,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Re-encrypt every vault value not sealed with `new_key`, in batches; returns the count.

    `old` opens the rows (the previous key file, KMS data keys). Each batch is one `put` (one
    transaction in SQLite), and rows carry the key_id that sealed them, so an interrupted
    rotation is resumed by running it again: it picks up the rows left.
    """
    from phiguard.keys.sealer import Sealer
    from phiguard.vaults.base import RotatableVault, Vault, VaultRecord

    if not isinstance(vault, RotatableVault) or not isinstance(vault, Vault):
        raise EncryptionKeyError(
            "this vault cannot re-encrypt values to a new local key; use KMS (--kms-key-id) "
            "and `phiguard vault rotate-key --kms-key-id` to re-wrap instead"
        )
    new = Sealer(new_key)
    done = 0
    while True:
        batch = vault.records_not_sealed_with(new.key_id, batch_size)
        if not batch:
            return done
        rows = []
        for r in batch:
            value = old.open(r.message_hash, r.token, r.ciphertext, r.key_id)
            sealed = new.seal(r.message_hash, r.token, value)
            rows.append(
                VaultRecord(
                    r.message_hash, r.token, r.type, sealed, new.key_id, r.offset, r.created_at
                )
            )
        vault.put(rows)
        done += len(rows)
        if progress is not None:
            progress(done)

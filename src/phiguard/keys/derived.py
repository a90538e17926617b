"""Keys derived from a parent key by HKDF-SHA3-256, one info string per purpose.

A derived key is reproducible from its parent (every worker, executor and later run holding
the vault key gets the same one, with no table to keep) and independent of it and of its
siblings: the pseudonym key, the surrogate key and the AES key never coincide.

The surrogate key seeds every surrogate, every date offset and the keyed row keys of surrogate
mappings (phiguard.keys.mapping). Its parent is the local vault key, or, with KMS, the vault's
one KMS-wrapped key slot (`phiguard.keys.kms.PSEUDONYM_SLOT`), so re-wrapping under a new KMS
key keeps every patient's offset; rotating a LOCAL key starts new surrogates and offsets.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from phiguard.errors import EncryptionKeyError
from phiguard.keys.files import KEY_BYTES

SURROGATE_INFO = b"phiguard surrogate key v1"


def derive(parent: bytes, info: bytes) -> bytes:
    """The 32-byte key for purpose `info` under `parent` (a 32-byte key)."""
    if len(parent) != KEY_BYTES:
        raise EncryptionKeyError(f"key must be {KEY_BYTES} bytes")
    hkdf = HKDF(algorithm=hashes.SHA3_256(), length=KEY_BYTES, salt=None, info=info)
    return hkdf.derive(parent)


def derive_surrogate_key(parent: bytes) -> bytes:
    """The surrogate key under `parent` (the vault key, or the KMS slot key)."""
    return derive(parent, SURROGATE_INFO)

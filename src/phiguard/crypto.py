"""Client-side AES-256-GCM for vault values.

The associated data binds each ciphertext to its (message hash, token), so a value copied onto
another row, or another message, fails to decrypt instead of re-identifying the wrong note.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from phiguard.errors import EncryptionKeyError
from phiguard.keys import KEY_BYTES, key_id

NONCE_BYTES = 12


def _aad(message_hash: str, token: str) -> bytes:
    return f"phiguard/v1\x00{message_hash}\x00{token}".encode("ascii")


class Sealer:
    """Seals and opens vault values with one key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise EncryptionKeyError(f"key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(key)
        self.key_id = key_id(key)

    def seal(self, message_hash: str, token: str, value: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        plaintext = value.encode("utf-8", "surrogatepass")
        return nonce + self._aead.encrypt(nonce, plaintext, _aad(message_hash, token))

    def open(self, message_hash: str, token: str, sealed: bytes, sealed_with: str) -> str:
        if sealed_with != self.key_id:
            raise EncryptionKeyError(
                f"vault entries of message {message_hash[:16]} were sealed with key "
                f"{sealed_with}, but the key in use is {self.key_id} (wrong key)"
            )
        nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
        try:
            plaintext = self._aead.decrypt(nonce, body, _aad(message_hash, token))
        except InvalidTag:
            raise EncryptionKeyError(
                f"cannot decrypt a vault entry of message {message_hash[:16]}: "
                "wrong key or tampered data"
            ) from None
        return plaintext.decode("utf-8", "surrogatepass")

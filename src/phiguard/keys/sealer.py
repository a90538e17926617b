"""Client-side AES-256-GCM for vault values.

The associated data binds each ciphertext to its (message hash, token), so a value copied onto
another row, or another message, fails to decrypt instead of re-identifying the wrong note.

A `Sealer` seals with one key (the current one) but can open rows sealed by others: each row
names its key by `key_id`, and `lookup` finds older keys (a KMS-wrapped data key, the previous
key file during a rotation), so several keys coexist in one vault.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from phiguard.errors import EncryptionKeyError
from phiguard.keys.files import KEY_BYTES, key_id

NONCE_BYTES = 12
TAG_BYTES = 16

#: Finds the key named by a `key_id`, or None if this caller has no such key.
KeyLookup = Callable[[str], bytes | None]


def _aad(message_hash: str, token: str) -> bytes:
    return f"phiguard/v1\x00{message_hash}\x00{token}".encode("ascii")


class Sealer:
    """Seals vault values with `key`; opens values sealed with `key` or any key `lookup` finds.

    `key` may be None for a reader that holds no local key and relies on `lookup` (KMS): such a
    Sealer can open but not seal.
    """

    def __init__(self, key: bytes | None, *, lookup: KeyLookup | None = None) -> None:
        self._lookup = lookup
        self._aeads: dict[str, AESGCM] = {}
        self._current: AESGCM | None = None
        self.key_id = ""
        if key is not None:
            self._current = self._aead_for(key)
            self.key_id = key_id(key)
            self._aeads[self.key_id] = self._current

    @staticmethod
    def _aead_for(key: bytes) -> AESGCM:
        if len(key) != KEY_BYTES:
            raise EncryptionKeyError(f"key must be {KEY_BYTES} bytes")
        return AESGCM(key)

    def seal(self, message_hash: str, token: str, value: str) -> bytes:
        if self._current is None:
            raise EncryptionKeyError("no encryption key to seal with (reader-only key ring)")
        nonce = os.urandom(NONCE_BYTES)
        plaintext = value.encode("utf-8", "surrogatepass")
        return nonce + self._current.encrypt(nonce, plaintext, _aad(message_hash, token))

    def _find(self, sealed_with: str) -> AESGCM | None:
        aead = self._aeads.get(sealed_with)
        if aead is None and self._lookup is not None:
            key = self._lookup(sealed_with)
            if key is not None:
                if key_id(key) != sealed_with:
                    raise EncryptionKeyError(
                        f"the key found for key id {sealed_with} has a different fingerprint"
                    )
                aead = self._aeads[sealed_with] = self._aead_for(key)
        return aead

    def open(self, message_hash: str, token: str, sealed: bytes, sealed_with: str) -> str:
        aead = self._find(sealed_with)
        if aead is None:
            in_use = (
                f"the key in use is {self.key_id}"
                if self.key_id
                else "no local key is in use and the vault holds no KMS-wrapped key of that id"
            )
            raise EncryptionKeyError(
                f"vault entries of message {message_hash[:16]} were sealed with key "
                f"{sealed_with}, but {in_use} (wrong key)"
            )
        tampered = not isinstance(sealed, bytes | bytearray | memoryview)
        if tampered or len(sealed) < NONCE_BYTES + TAG_BYTES:
            raise EncryptionKeyError(
                f"cannot decrypt a vault entry of message {message_hash[:16]}: tampered data "
                "(not a sealed value)"
            )
        nonce, body = bytes(sealed[:NONCE_BYTES]), bytes(sealed[NONCE_BYTES:])
        try:
            plaintext = aead.decrypt(nonce, body, _aad(message_hash, token))
        except (InvalidTag, ValueError):
            raise EncryptionKeyError(
                f"cannot decrypt a vault entry of message {message_hash[:16]}: "
                "wrong key or tampered data"
            ) from None
        return plaintext.decode("utf-8", "surrogatepass")

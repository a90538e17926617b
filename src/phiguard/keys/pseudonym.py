"""Consistent pseudonyms (opt-in): the same value gets the same token in every note.

token = HMAC-SHA3-256(pseudonym key, "phiguard/pseudonym/v1" NUL value), 64 hex digits, so
tokens keep the shape of the default salted tokens and the vault layout is unchanged.

Why keyed and never a plain hash: names, dates and MRNs come from small spaces; an unsalted
SHA3 of "03/04/1961" is reversed by hashing every date. Without the pseudonym key the tokens
are unlinkable to values; with it, only by guessing and checking, which is why the key is as
secret as the vault key.

Normalization: none, the exact value. Re-identification restores each token from one vault row
per (message, token); if "SALAZAR" and "Salazar" shared a token, one of them would come back
wrong. So case and spacing variants are different pseudonyms.

Where the key comes from: for a local key file (or PHIGUARD_KEY) it is derived by HKDF from the
vault key (a rotation of the local key starts a new pseudonym space); with KMS it is a separate
32-byte key generated once per vault and stored wrapped (see `phiguard.keys.kms`), so re-wrapping
under a new KMS key keeps pseudonyms stable.
"""

from __future__ import annotations

import hashlib
import hmac

from phiguard.errors import EncryptionKeyError
from phiguard.keys.derived import derive
from phiguard.keys.files import KEY_BYTES

HKDF_INFO = b"phiguard pseudonym key v1"
_DOMAIN = b"phiguard/pseudonym/v1\x00"


def derive_pseudonym_key(vault_key: bytes) -> bytes:
    """HKDF-SHA3-256 of the vault key: independent of it for AES, reproducible from it."""
    return derive(vault_key, HKDF_INFO)


class Pseudonymizer:
    """Maps a value to its consistent token; pass `pseudonymizer.token` as `make_token`."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise EncryptionKeyError(f"pseudonym key must be {KEY_BYTES} bytes")
        self._key = key

    def token(self, value: str) -> str:
        data = _DOMAIN + value.encode("utf-8", "surrogatepass")
        return hmac.new(self._key, data, hashlib.sha3_256).hexdigest()

    def __repr__(self) -> str:  # never the key
        return "Pseudonymizer(<key>)"

"""Keyed, reproducible randomness: every draw comes from HMAC-SHA256(key, scope, kind, value).

No global RNG: two processes (pool workers, Spark executors, a later run) holding the same key
and scope draw the same surrogate for the same value, and without the key the draws say
nothing about the value. Parts are length-prefixed so no two (scope, kind, value) frame alike.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

MIN_KEY_BYTES = 16
_DOMAIN = b"phiguard/surrogate/v1"


def frame(*parts: bytes) -> bytes:
    return b"".join(len(p).to_bytes(4, "big") + p for p in parts)


def utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def check_key(key: bytes) -> None:
    if not isinstance(key, bytes | bytearray) or len(key) < MIN_KEY_BYTES:
        raise ValueError(f"surrogate key must be at least {MIN_KEY_BYTES} bytes")


class Draws:
    """A stream of uniform draws from one 32-byte seed (SHAKE-256 extends it when needed)."""

    __slots__ = ("_buf", "_pos", "_seed")

    def __init__(self, seed: bytes) -> None:
        self._seed = seed
        self._buf = seed
        self._pos = 0

    def below(self, n: int) -> int:
        """Uniform in [0, n): 64 fresh bits scaled (bias below n / 2**64)."""
        if self._pos + 8 > len(self._buf):
            self._buf = hashlib.shake_256(self._seed).digest(len(self._buf) * 2)
        chunk = int.from_bytes(self._buf[self._pos : self._pos + 8], "big")
        self._pos += 8
        return (chunk * n) >> 64

    def choice(self, seq: Sequence[T]) -> T:
        return seq[self.below(len(seq))]


class Keyed:
    """The HMAC state for one (key, scope); `draws` adds the kind and the normalized value."""

    __slots__ = ("_base",)

    def __init__(self, key: bytes, scope: str) -> None:
        check_key(key)
        self._base = hmac.new(bytes(key), frame(_DOMAIN, utf8(scope)), hashlib.sha256)

    def draws(self, kind: str, value: str, attempt: int = 0) -> Draws:
        mac = self._base.copy()
        mac.update(frame(utf8(kind), utf8(value), attempt.to_bytes(4, "big")))
        return Draws(mac.digest())

    def __repr__(self) -> str:  # never the key
        return "Keyed(<key>)"

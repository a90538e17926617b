"""Keyed, reproducible randomness: every draw comes from HMAC-SHA256(key, scope, kind, value).

No global RNG: two processes (pool workers, Spark executors, a later run) holding the same key
and scope draw the same surrogate for the same value, and without the key the draws say
nothing about the value. Parts are length-prefixed so no two (scope, kind, value) frame alike.
"""

from __future__ import annotations

import hashlib
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

    def __init__(self, seed: bytes, size: int = 0) -> None:
        """`size`: bytes to expand up front when many draws are known to follow."""
        self._seed = seed
        self._buf = hashlib.shake_256(seed).digest(size) if size > len(seed) else seed
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


_IPAD = int.from_bytes(b"\x36" * 64, "big")
_OPAD = int.from_bytes(b"\x5c" * 64, "big")


class Keyed:
    """One (key, scope); `draws` adds the kind and the normalized value.

    The digest is HMAC-SHA256(key, frame(domain, scope) + frame(kind, value, attempt)) per
    RFC 2104, with the padded-key states and the scope prefix hashed once here: one value
    then costs two SHA-256 state copies instead of a full HMAC set-up."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes, scope: str) -> None:
        check_key(key)
        k = bytes(key)
        if len(k) > 64:
            k = hashlib.sha256(k).digest()
        k_int = int.from_bytes(k.ljust(64, b"\0"), "big")
        self._inner = hashlib.sha256((k_int ^ _IPAD).to_bytes(64, "big"))
        self._inner.update(frame(_DOMAIN, utf8(scope)))
        self._outer = hashlib.sha256((k_int ^ _OPAD).to_bytes(64, "big"))

    def digest(self, kind: str, value: str, attempt: int = 0) -> bytes:
        inner = self._inner.copy()
        k, v = utf8(kind), utf8(value)
        inner.update(
            b"".join((len(k).to_bytes(4, "big"), k, len(v).to_bytes(4, "big"), v, b"\0\0\0\x04"))
            + attempt.to_bytes(4, "big")
        )
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def draws(self, kind: str, value: str, attempt: int = 0, size: int = 0) -> Draws:
        return Draws(self.digest(kind, value, attempt), size)

    def __repr__(self) -> str:  # never the key
        return "Keyed(<key>)"

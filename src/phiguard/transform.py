"""Mask and tokenize: output is built from offsets in one pass, never with str.replace.

The reference design's `message.replace(entity, hash)` rewrote "50" inside "500 mg" and inside
earlier tokens, and gave every repeat of a value the first token. Here each span is replaced
exactly where it stands, and each occurrence draws a fresh salt.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from phiguard.spans import Span

TOKEN_LENGTH = 64  # hex digits of SHA3-256
TOKEN_LIKE = re.compile(rf"[0-9a-f]{{{TOKEN_LENGTH},}}")
SALT_BYTES = 16


class MaskStyle(StrEnum):
    HASH = "hash"  # '#' for every character: the reference behaviour, keeps the layout
    LABEL = "label"  # '[TYPE]'


def _check(text: str, spans: Sequence[Span]) -> list[Span]:
    """Spans sorted and validated: in range, not overlapping (resolve them first)."""
    ordered = sorted(spans)
    prev_end = 0
    for s in ordered:
        if s.start < prev_end or s.end > len(text):
            raise ValueError(
                f"spans must be resolved and inside the text (span {s.start}..{s.end}, "
                f"text length {len(text)})"
            )
        prev_end = s.end
    return ordered


def _rebuild(text: str, spans: Sequence[Span], render: Callable[[Span], str]) -> str:
    parts: list[str] = []
    pos = 0
    for s in _check(text, spans):
        parts.append(text[pos : s.start])
        parts.append(render(s))
        pos = s.end
    parts.append(text[pos:])
    return "".join(parts)


def mask(text: str, spans: Sequence[Span], style: MaskStyle | str = MaskStyle.HASH) -> str:
    """Replace each span by '#' x its length, or by '[TYPE]'; all else stays identical."""
    style = MaskStyle(style)
    if style is MaskStyle.HASH:
        return _rebuild(text, spans, lambda s: "#" * (s.end - s.start))
    return _rebuild(text, spans, lambda s: f"[{s.type}]")


def message_hash(deidentified: str) -> str:
    """The vault's partition key: SHA3-256 hex of the de-identified text (UTF-8)."""
    return hashlib.sha3_256(deidentified.encode("utf-8")).hexdigest()


def new_token(value: str) -> str:
    """SHA3-256 hex of value + a fresh random salt: unlinkable across occurrences."""
    salt = secrets.token_bytes(SALT_BYTES)
    return hashlib.sha3_256(value.encode("utf-8", "surrogatepass") + salt).hexdigest()


def with_lookalikes(text: str, spans: Sequence[Span]) -> list[Span]:
    """`spans` plus every run of 64+ lower-case hex digits outside them (type OTHER).

    Such a run (a checksum, say) would read as an unknown token at re-identification and make
    the note unrecoverable; tokenizing it too keeps the round trip exact.
    """
    out = sorted(spans)
    gaps = zip([0, *(s.end for s in out)], [*(s.start for s in out), len(text)], strict=True)
    extra = [
        Span(m.start(), m.end(), "OTHER", 1.0, "token-lookalike")
        for a, b in gaps
        for m in TOKEN_LIKE.finditer(text, a, b)
    ]
    return sorted(out + extra) if extra else out


@dataclass(frozen=True, slots=True)
class Replacement:
    """A token placed in the de-identified text, with the value it stands for."""

    token: str
    type: str
    value: str
    offset: int  # str index of the token in the de-identified text


@dataclass(frozen=True, slots=True)
class Tokenized:
    text: str
    message_hash: str
    replacements: tuple[Replacement, ...]


def tokenize(
    text: str, spans: Sequence[Span], make_token: Callable[[str], str] = new_token
) -> Tokenized:
    """Replace each span by a token, recording where each token lands in the output."""
    parts: list[str] = []
    replacements: list[Replacement] = []
    pos = 0
    out_len = 0
    for s in _check(text, spans):
        gap = text[pos : s.start]
        parts.append(gap)
        out_len += len(gap)
        value = text[s.start : s.end]
        token = make_token(value)
        replacements.append(Replacement(token, s.type, value, out_len))
        parts.append(token)
        out_len += len(token)
        pos = s.end
    parts.append(text[pos:])
    out = "".join(parts)
    return Tokenized(out, message_hash(out), tuple(replacements))


def restore(text: str, replacements: Sequence[tuple[int, str, str]]) -> str:
    """Put values back: `replacements` are (offset, token, value) into `text`.

    Each token is checked to stand exactly at its offset, so a token that follows a hex
    character ("98.8" + token) or resembles another is never confused.
    """
    parts: list[str] = []
    pos = 0
    for offset, token, value in sorted(replacements):
        if offset < pos or text[offset : offset + len(token)] != token:
            raise ValueError(f"token {token[:12]}… is not at offset {offset}")
        parts.append(text[pos:offset])
        parts.append(value)
        pos = offset + len(token)
    parts.append(text[pos:])
    return "".join(parts)

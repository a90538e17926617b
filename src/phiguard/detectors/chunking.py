"""Split text into pieces that fit a service's byte limit, keeping exact str offsets.

Services such as Comprehend Medical's DetectPHI cap each request in UTF-8 *bytes*, while
every span in phiguard is a Python str index into the original text. Each `Chunk` carries
its start index, so a span found inside a chunk maps back with a single addition and the
chunks concatenate to the original text exactly.

Cut points are chosen to keep entities whole: a line break if there is one in the second
half of the window, else a sentence end, else a space, else (last resort) a code point
boundary that does not split a combining sequence, an emoji ZWJ sequence or a flag.
The window is never re-encoded from the start, so a 10 MB note costs linear time.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Chunk", "chunk_text", "iter_chunks", "utf8_len"]

# Lone surrogates cannot be sent anywhere as UTF-8, but counting them as the 3 bytes
# "surrogatepass" gives keeps the arithmetic total instead of raising mid-note.
_ERRORS = "surrogatepass"

# Smallest limit that always fits one code point, so every chunk makes progress.
_MIN_BYTES = 4

# A sentence end: terminator, optional closing quotes/brackets, then whitespace.
_SENTENCE_END = re.compile(r"[.!?。！？][\"')\]»”’]*\s+")

# How far a last-resort cut may back up to avoid splitting a grapheme cluster.
_MAX_GRAPHEME_BACKOFF = 32

_ZWJ = "\u200d"


@dataclass(frozen=True, slots=True)
class Chunk:
    """`text` is `original[start:start + len(text)]`; add `start` to map offsets back."""

    start: int
    text: str

    @property
    def end(self) -> int:
        return self.start + len(self.text)


def utf8_len(text: str) -> int:
    """Size in bytes as a service measures it (lone surrogates count as 3)."""
    return len(text.encode("utf-8", _ERRORS))


def chunk_text(text: str, max_bytes: int = 20_000) -> list[Chunk]:
    """All chunks of `text`, each at most `max_bytes` UTF-8 bytes; `[]` for empty text."""
    return list(iter_chunks(text, max_bytes))


def iter_chunks(text: str, max_bytes: int = 20_000) -> Iterator[Chunk]:
    """Lazily yield the chunks of `text` (see the module docstring for the cut rules)."""
    if max_bytes < _MIN_BYTES:
        raise ValueError(f"max_bytes must be at least {_MIN_BYTES}, got {max_bytes}")
    pos = 0
    n = len(text)
    while pos < n:
        fit = _fitting_chars(text, pos, max_bytes)
        if pos + fit >= n:
            yield Chunk(pos, text[pos:])
            return
        cut = pos + _best_cut(text, pos, fit)
        yield Chunk(pos, text[pos:cut])
        pos = cut


def _fitting_chars(text: str, pos: int, max_bytes: int) -> int:
    """How many code points from `pos` fit in `max_bytes` (encodes one window only)."""
    # Every code point is at least one byte, so `max_bytes` code points always suffice.
    encoded = text[pos : pos + max_bytes].encode("utf-8", _ERRORS)
    if len(encoded) <= max_bytes:
        return min(max_bytes, len(text) - pos)
    cut = max_bytes
    while encoded[cut] & 0xC0 == 0x80:  # back off continuation bytes to a code point start
        cut -= 1
    return len(encoded[:cut].decode("utf-8", _ERRORS))


def _best_cut(text: str, pos: int, fit: int) -> int:
    """Length of the next chunk: the most entity-friendly cut in the window's second half."""
    window = text[pos : pos + fit]
    floor = fit // 2

    nl = window.rfind("\n", floor)
    if nl >= 0:
        return nl + 1

    last_sentence = -1
    for match in _SENTENCE_END.finditer(window, max(0, floor - 8)):
        last_sentence = match.end()
    if last_sentence > floor:
        return last_sentence

    space = max(window.rfind(" ", floor), window.rfind("\t", floor))
    if space >= 0:
        return space + 1

    return _grapheme_safe_cut(text, pos, fit)


def _grapheme_safe_cut(text: str, pos: int, fit: int) -> int:
    """Back `fit` off from inside a grapheme cluster when that costs only a few chars."""
    cut = fit
    for _ in range(_MAX_GRAPHEME_BACKOFF):
        if cut <= 1 or not _joins(text, pos + cut):
            return cut
        cut -= 1
    return fit  # pathological run of combining marks: any code point boundary will do


def _is_regional_indicator(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _joins(text: str, i: int) -> bool:
    """Whether a cut before `text[i]` would split a grapheme cluster (common cases)."""
    before, after = text[i - 1], text[i]
    a, b = ord(after), ord(before)
    if _is_regional_indicator(before) and _is_regional_indicator(after):
        # Flags are pairs: the cut is inside one when an odd number of indicators precede.
        run = 0
        while run < min(i, 64) and _is_regional_indicator(text[i - 1 - run]):
            run += 1
        return run % 2 == 1
    return (
        before == _ZWJ
        or after == _ZWJ
        or (before == "\r" and after == "\n")
        or 0xFE00 <= a <= 0xFE0F  # variation selectors
        or 0xE0100 <= a <= 0xE01EF
        or 0x1F3FB <= a <= 0x1F3FF  # emoji skin-tone modifiers
        or 0xE0020 <= a <= 0xE007F  # emoji tag sequences (subdivision flags)
        or (0xD800 <= b <= 0xDBFF and 0xDC00 <= a <= 0xDFFF)  # a surrogate pair kept as two
        or unicodedata.category(after) in ("Mn", "Mc", "Me")
    )

"""Pack many short notes into few DetectPHI requests, and split the answers back per note.

DetectPHI bills at least one 100-character unit per request and throttles per request,
so a corpus of short notes sent one by one pays for (and waits on) far more requests
than its characters need. Packing joins notes with `SEPARATOR` up to the byte limit.

The separator is a blank line, a lone full stop, and another blank line: no letters or
digits that could become or extend a name, ID, date or phone number, and a paragraph
plus sentence break so the model does not read one note's last words as context for the
next. Because no separator is a guarantee, any entity that still reaches into a
separator is clipped to the notes it covers (policy "clip", the default: over-masking a
fragment is safer than releasing it) or dropped (policy "drop").
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from phiguard.detectors.chunking import iter_chunks, utf8_len
from phiguard.spans import Span

__all__ = [
    "DETECT_PHI_MAX_BYTES",
    "SEPARATOR",
    "UNIT_CHARS",
    "Batch",
    "CostEstimate",
    "Piece",
    "billed_units",
    "estimate_cost",
    "pack",
    "unpack",
]

SEPARATOR = "\n\n.\n\n"
DETECT_PHI_MAX_BYTES = 20_000
#: DetectPHI bills per unit of 100 characters, with a minimum of one unit per request.
UNIT_CHARS = 100

CrossingPolicy = Literal["clip", "drop"]


@dataclass(frozen=True, slots=True)
class Piece:
    """`batch.text[batch_start:batch_start + length]` is `texts[note][note_start:...]`."""

    note: int
    note_start: int
    batch_start: int
    length: int

    @property
    def batch_end(self) -> int:
        return self.batch_start + self.length


@dataclass(frozen=True, slots=True)
class Batch:
    """One request's text and where each packed piece of a note sits inside it."""

    text: str
    pieces: tuple[Piece, ...]


@dataclass(frozen=True, slots=True)
class CostEstimate:
    """Requests and billed units for a corpus, sent one request per chunk vs packed.

    `sent_unpacked`/`sent_packed` are the characters the requests carry (blank pieces skipped,
    separators included): what the characters-per-second quota counts."""

    notes: int
    characters: int
    requests_unpacked: int
    units_unpacked: int
    requests_packed: int
    units_packed: int
    sent_unpacked: int = 0
    sent_packed: int = 0

    @property
    def request_reduction(self) -> float:
        return self.requests_unpacked / self.requests_packed if self.requests_packed else 1.0

    @property
    def unit_reduction(self) -> float:
        return self.units_unpacked / self.units_packed if self.units_packed else 1.0


def billed_units(characters: int) -> int:
    """Units DetectPHI bills for one request of `characters` characters."""
    return max(1, -(-characters // UNIT_CHARS))


def pack(
    texts: Sequence[str],
    max_bytes: int = DETECT_PHI_MAX_BYTES,
    separator: str = SEPARATOR,
) -> list[Batch]:
    """Batches of at most `max_bytes` bytes covering every non-blank part of `texts`.

    Notes stay in order (next-fit), which is near-optimal when notes are small against
    the limit and keeps a batch's notes adjacent in the input. Notes longer than the
    limit are cut with `phiguard.detectors.chunking` first; blank pieces are skipped since they
    cannot hold PHI and would only add billed characters.
    """
    _check_separator(separator)
    sep_bytes = utf8_len(separator)
    if max_bytes < sep_bytes + 8:
        raise ValueError(f"max_bytes={max_bytes} leaves no room next to the separator")
    batches: list[Batch] = []
    parts: list[str] = []
    pieces: list[Piece] = []
    size = 0  # bytes in `parts`, separators included
    length = 0  # str length of "".join(parts)
    for note, chunk_start, chunk in _pieces(texts, max_bytes):
        chunk_bytes = utf8_len(chunk)
        if parts and size + sep_bytes + chunk_bytes > max_bytes:
            batches.append(Batch("".join(parts), tuple(pieces)))
            parts, pieces, size, length = [], [], 0, 0
        if parts:
            parts.append(separator)
            size += sep_bytes
            length += len(separator)
        pieces.append(Piece(note, chunk_start, length, len(chunk)))
        parts.append(chunk)
        size += chunk_bytes
        length += len(chunk)
    if parts:
        batches.append(Batch("".join(parts), tuple(pieces)))
    return batches


def unpack(
    batch: Batch, spans: Iterable[Span], crossing: CrossingPolicy = "clip"
) -> Iterator[tuple[int, Span]]:
    """`(note index, span in that note)` for spans found in `batch.text`.

    A span inside one piece just shifts. A span that reaches a separator or another
    piece is clipped to each piece it overlaps (blank fragments dropped), or dropped
    whole with `crossing="drop"`. Spans wholly inside separators are discarded.
    """
    if crossing not in ("clip", "drop"):
        raise ValueError(f"crossing must be 'clip' or 'drop', got {crossing!r}")
    starts = [p.batch_start for p in batch.pieces]
    for span in spans:
        hit = _overlapping(batch.pieces, starts, span)
        if not hit:
            continue
        contained = (
            len(hit) == 1 and hit[0].batch_start <= span.start and span.end <= hit[0].batch_end
        )
        if contained:
            piece = hit[0]
            yield piece.note, span.shifted(piece.note_start - piece.batch_start)
            continue
        if crossing == "drop":
            continue
        for piece in hit:
            start = max(span.start, piece.batch_start)
            end = min(span.end, piece.batch_end)
            if not batch.text[start:end].strip():
                continue
            delta = piece.note_start - piece.batch_start
            yield piece.note, Span(start + delta, end + delta, span.type, span.score, span.source)


def estimate_cost(
    texts: Sequence[str],
    max_bytes: int = DETECT_PHI_MAX_BYTES,
    separator: str = SEPARATOR,
) -> CostEstimate:
    """Requests and billed units to run `texts` through DetectPHI, with and without packing.

    Unpacked means what `ComprehendDetector.detect` does per note: one request per
    chunk, blank chunks skipped. Characters are counted as code points (the service's
    own offsets count code points).
    """
    requests = units = sent = 0
    for _, _, chunk in _pieces(texts, max_bytes):
        requests += 1
        units += billed_units(len(chunk))
        sent += len(chunk)
    batches = pack(texts, max_bytes, separator)
    return CostEstimate(
        notes=len(texts),
        characters=sum(len(t) for t in texts),
        requests_unpacked=requests,
        units_unpacked=units,
        requests_packed=len(batches),
        units_packed=sum(billed_units(len(b.text)) for b in batches),
        sent_unpacked=sent,
        sent_packed=sum(len(b.text) for b in batches),
    )


def _pieces(texts: Sequence[str], max_bytes: int) -> Iterator[tuple[int, int, str]]:
    for note, text in enumerate(texts):
        for chunk in iter_chunks(text, max_bytes):
            if chunk.text.strip():
                yield note, chunk.start, chunk.text


def _overlapping(pieces: Sequence[Piece], starts: list[int], span: Span) -> list[Piece]:
    i = max(0, bisect_right(starts, span.start) - 1)
    out = []
    while i < len(pieces) and pieces[i].batch_start < span.end:
        if pieces[i].batch_end > span.start:
            out.append(pieces[i])
        i += 1
    return out


def _check_separator(separator: str) -> None:
    """Refuse separators that could themselves be read as (part of) PHI."""
    if not separator or any(c.isalnum() for c in separator):
        raise ValueError("the separator must be non-empty and hold no letters or digits")
    if "\n\n" not in separator:
        raise ValueError("the separator must contain a blank line to break context")

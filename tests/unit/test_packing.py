"""Packing short notes into shared DetectPHI requests, and splitting the answers back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber
from hypothesis import given, settings
from hypothesis import strategies as st

from phiguard.detectors.chunking import utf8_len
from phiguard.detectors.comprehend.detector import ComprehendDetector
from phiguard.detectors.comprehend.packing import (
    SEPARATOR,
    Batch,
    Piece,
    billed_units,
    estimate_cost,
    pack,
    unpack,
)
from phiguard.spans import Span

NAMES = ("José Ñúñez", "Zoë Brontë", "Smith")


def find_all(text: str, needle: str) -> Iterator[int]:
    at = text.find(needle)
    while at >= 0:
        yield at
        at = text.find(needle, at + 1)


def fake_response(text: str) -> dict[str, Any]:
    entities = [
        {
            "Id": i,
            "BeginOffset": at,
            "EndOffset": at + len(name),
            "Score": 0.95,
            "Text": name,
            "Category": "PROTECTED_HEALTH_INFORMATION",
            "Type": "NAME",
            "Traits": [],
        }
        for i, (name, at) in enumerate((n, a) for n in NAMES for a in find_all(text, n))
    ]
    return {"Entities": entities, "ModelVersion": "2.0.0"}


def check_batches(texts: list[str], batches: list[Batch], max_bytes: int) -> None:
    covered: dict[int, list[Piece]] = {}
    for batch in batches:
        assert utf8_len(batch.text) <= max_bytes
        pos = 0
        for i, p in enumerate(batch.pieces):
            if i:  # exactly one separator between consecutive pieces
                assert batch.text[pos : p.batch_start] == SEPARATOR
            piece_text = texts[p.note][p.note_start : p.note_start + p.length]
            assert batch.text[p.batch_start : p.batch_end] == piece_text
            assert piece_text.strip()
            covered.setdefault(p.note, []).append(p)
            pos = p.batch_end
        assert pos == len(batch.text)
    for note, text in enumerate(texts):
        pieces = sorted(covered.get(note, []), key=lambda p: p.note_start)
        pos = 0
        for p in pieces:  # gaps between pieces may only be blank chunks
            assert not text[pos : p.note_start].strip()
            pos = p.note_start + p.length
        assert not text[pos:].strip()


# -- pack / unpack -----------------------------------------------------------------------------


def test_short_notes_share_a_request() -> None:
    texts = ["Seen by Smith.", "", "  \n", "Zoë Brontë called.", "José Ñúñez"]
    batches = pack(texts)
    assert len(batches) == 1
    assert batches[0].text == SEPARATOR.join(["Seen by Smith.", "Zoë Brontë called.", "José Ñúñez"])
    assert [p.note for p in batches[0].pieces] == [0, 3, 4]
    check_batches(texts, batches, 20_000)


def test_batches_respect_the_byte_limit_and_long_notes_are_chunked() -> None:
    long_note = "José Ñúñez 🩺 seen. " * 2_000  # ~46 KB: must be cut
    texts = ["short one", long_note, "Zoë " * 10, "x" * 19_999, "tail"]
    batches = pack(texts)
    check_batches(texts, batches, 20_000)
    assert len(batches) >= 4


@settings(max_examples=200, deadline=None)
@given(
    texts=st.lists(st.text(st.characters(codec="utf-8"), max_size=60), max_size=12),
    max_bytes=st.integers(16, 120),
)
def test_pack_covers_every_non_blank_char(texts: list[str], max_bytes: int) -> None:
    check_batches(texts, pack(texts, max_bytes), max_bytes)


def test_unpack_shifts_contained_spans() -> None:
    texts = ["aa Smith", "Zoë Brontë b"]
    (batch,) = pack(texts)
    at = batch.text.index("Zoë")
    spans = [Span(3, 8, "NAME", 0.9, "x"), Span(at, at + 10, "NAME", 0.8, "x")]
    out = list(unpack(batch, spans))
    assert out == [(0, Span(3, 8, "NAME", 0.9, "x")), (1, Span(0, 10, "NAME", 0.8, "x"))]


def test_unpack_clips_or_drops_spans_crossing_a_separator() -> None:
    texts = ["Dr Smith", "Jones ok"]
    (batch,) = pack(texts)
    crossing = Span(3, batch.text.index("Jones") + 5, "NAME", 0.7, "x")  # "Smith...Jones"
    assert list(unpack(batch, [crossing])) == [
        (0, Span(3, 8, "NAME", 0.7, "x")),
        (1, Span(0, 5, "NAME", 0.7, "x")),
    ]
    assert list(unpack(batch, [crossing], crossing="drop")) == []
    # Into the separator but not beyond: clipped to the note.
    assert list(unpack(batch, [Span(3, 10, "NAME", 0.7, "x")])) == [
        (0, Span(3, 8, "NAME", 0.7, "x"))
    ]
    # Wholly inside the separator: nothing.
    assert list(unpack(batch, [Span(9, 11, "NAME", 0.7, "x")])) == []


def test_separator_must_not_look_like_phi() -> None:
    for bad in ("", "\n\nX\n\n", "\n\n0\n\n", " | "):
        with pytest.raises(ValueError):
            pack(["a", "b"], separator=bad)
    with pytest.raises(ValueError):
        list(unpack(Batch("", ()), [], crossing="merge"))  # type: ignore[arg-type]


# -- detect_many through a stubbed client --------------------------------------------------------


def test_detect_many_matches_per_note_detection(client: Any, stubber: Stubber) -> None:
    texts = [
        "Pt José Ñúñez 👩\u200d⚕️ seen.",
        "",
        "Zoë Brontë 🇨🇦 called; Smith aware.",
        ("🙂 Smith rounded. " * 1_500),  # ~31 KB: split over two requests
        "nothing here",
    ]
    batches = pack(texts)
    assert len(batches) == 3  # the long note fills two requests alone
    for b in batches:
        stubber.add_response("detect_phi", fake_response(b.text), {"Text": b.text})
    result = ComprehendDetector(client=client).detect_many(texts)
    assert len(result) == len(texts)
    for text, spans in zip(texts, result, strict=True):
        assert sorted(spans) == spans
        expected = sorted((a, a + len(n)) for n in NAMES for a in find_all(text, n))
        assert [(s.start, s.end) for s in spans] == expected
        assert all(text[s.start : s.end] in NAMES for s in spans)


def test_detect_many_clips_an_entity_the_service_ran_across_notes(
    client: Any, stubber: Stubber
) -> None:
    texts = ["Seen by Dr Smith", "Jones family at bedside"]
    (batch,) = pack(texts)
    begin, end = batch.text.index("Smith"), batch.text.index("Jones") + 5
    response = {
        "Entities": [
            {
                "Id": 0,
                "BeginOffset": begin,
                "EndOffset": end,
                "Score": 0.6,
                "Text": batch.text[begin:end],
                "Category": "PROTECTED_HEALTH_INFORMATION",
                "Type": "NAME",
                "Traits": [],
            }
        ],
        "ModelVersion": "2.0.0",
    }
    stubber.add_response("detect_phi", response, {"Text": batch.text})
    first, second = ComprehendDetector(client=client).detect_many(texts)
    assert [texts[0][s.start : s.end] for s in first] == ["Smith"]
    assert [texts[1][s.start : s.end] for s in second] == ["Jones"]


def test_detect_many_without_packing(client: Any, stubber: Stubber) -> None:
    texts = ["Smith", "Zoë Brontë"]
    for t in texts:
        stubber.add_response("detect_phi", fake_response(t), {"Text": t})
    result = ComprehendDetector(client=client).detect_many(texts, pack=False)
    assert [[(s.start, s.end) for s in r] for r in result] == [[(0, 5)], [(0, 10)]]


# -- cost ----------------------------------------------------------------------------------------


def test_billed_units() -> None:
    assert [billed_units(n) for n in (0, 1, 100, 101, 250, 20_000)] == [1, 1, 1, 2, 3, 200]


def test_estimate_cost_small() -> None:
    texts = ["a" * 50, "b" * 50, "   ", "c" * 50]
    cost = estimate_cost(texts)
    assert (cost.requests_unpacked, cost.units_unpacked) == (3, 3)
    # 150 note chars + 2 separators of 5 = 160 chars = 2 units in 1 request.
    assert (cost.requests_packed, cost.units_packed) == (1, 2)
    assert cost.request_reduction == 3.0


def test_packing_cuts_requests_on_the_shipped_notes(bulk_notes: list[dict[str, Any]]) -> None:
    """The same saving on the invented and synthetic notes (the dev corpus: tests/accuracy)."""
    cost = estimate_cost([n["text"] for n in bulk_notes])
    assert cost.requests_unpacked == len(bulk_notes)
    assert cost.request_reduction >= 5.0
    assert cost.units_packed <= cost.units_unpacked

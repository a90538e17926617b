from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phiguard.detectors.chunking import Chunk, chunk_text, iter_chunks, utf8_len


def check_chunks(text: str, chunks: list[Chunk], max_bytes: int) -> None:
    assert "".join(c.text for c in chunks) == text
    pos = 0
    for c in chunks:
        assert c.start == pos
        assert c.text, "no empty chunks"
        assert text[c.start : c.end] == c.text
        assert utf8_len(c.text) <= max_bytes
        pos = c.end
    assert pos == len(text)


def test_empty_and_small() -> None:
    assert chunk_text("") == []
    assert chunk_text("José") == [Chunk(0, "José")]


def test_max_bytes_must_fit_any_code_point() -> None:
    with pytest.raises(ValueError):
        chunk_text("abc", 3)


def test_prefers_line_boundaries() -> None:
    text = "first line here\nsecond. line here\nthird"
    chunks = chunk_text(text, 30)
    check_chunks(text, chunks, 30)
    assert chunks[0].text == "first line here\n"


def test_then_sentence_boundaries() -> None:
    text = "Pt was seen today. Called Dr Smith at home about it"
    chunks = chunk_text(text, 30)
    check_chunks(text, chunks, 30)
    assert chunks[0].text == "Pt was seen today. "


def test_then_spaces_never_inside_a_word() -> None:
    text = "José Ñúñez visited Zoë and Ana"
    chunks = chunk_text(text, 16)
    check_chunks(text, chunks, 16)
    assert all(c.text.endswith(" ") for c in chunks[:-1])


def test_line_boundary_in_first_half_is_not_taken() -> None:
    # A newline at the very start would make a tiny chunk; a later space is preferred.
    text = "a\n" + "word " * 20
    chunks = chunk_text(text, 40)
    check_chunks(text, chunks, 40)
    assert len(chunks[0].text) > 20


def test_never_splits_a_code_point() -> None:
    text = "é" * 11  # 22 bytes, no spaces: a hard cut at 5 bytes must land on 4
    chunks = chunk_text(text, 5)
    check_chunks(text, chunks, 5)
    assert [len(c.text) for c in chunks] == [2] * 5 + [1]


def test_hard_cut_keeps_zwj_emoji_and_combining_marks_together() -> None:
    family = "👩\u200d👩\u200d👧"  # 18 bytes, one grapheme
    text = "x" * 10 + family + "y" * 10
    chunks = chunk_text(text, 24)
    check_chunks(text, chunks, 24)
    assert any(family in c.text for c in chunks)

    combining = "e\u0301" * 10  # decomposed é
    chunks = chunk_text(combining, 5)
    check_chunks(combining, chunks, 5)
    assert all(not c.text.startswith("\u0301") for c in chunks)


def test_flags_and_skin_tones_not_split() -> None:
    text = "🇫🇷🇩🇪👍🏽" * 5
    chunks = chunk_text(text, 12)
    check_chunks(text, chunks, 12)
    for c in chunks:
        assert not c.text.startswith("🏽")
    # Each flag is two regional indicators: every chunk boundary falls between pairs.
    for c in chunks:
        assert c.start % 2 == 0 or text[c.start - 1] == "🏽"


def test_lone_surrogates_are_counted_not_fatal() -> None:
    text = "ab\ud800cd"
    chunks = chunk_text(text, 4)
    check_chunks(text, chunks, 4)


def test_iter_is_lazy() -> None:
    it = iter_chunks("abc " * 10_000, 100)
    assert next(it).start == 0


def test_ten_megabytes_is_linear() -> None:
    line = "Pt José Ñúñez 👩\u200d⚕️ seen by Dr. Zoë Smith on 2024-01-02; BP 120/80. "
    text = (line * (10_000_000 // len(line.encode())))[:]
    t0 = time.perf_counter()
    chunks = chunk_text(text, 20_000)
    elapsed = time.perf_counter() - t0
    check_chunks(text, chunks, 20_000)
    assert len(chunks) < 2 * len(text.encode()) // 20_000 + 2
    assert elapsed < 5.0


def test_ten_megabytes_without_any_break() -> None:
    text = "🙂" * 2_500_000  # 10 MB, astral, no spaces or lines
    t0 = time.perf_counter()
    chunks = chunk_text(text, 20_000)
    assert time.perf_counter() - t0 < 5.0
    assert all(len(c.text) == 5000 for c in chunks)
    assert sum(len(c.text) for c in chunks) == len(text)


# -- properties ---------------------------------------------------------------------------

# Arbitrary code points, astral plane included, surrogates excluded (not valid UTF-8).
any_text = st.text(st.characters(codec="utf-8"), max_size=400)
# Text rich in the characters the cut rules care about.
clinical_alphabet = st.sampled_from(
    [
        *"ab .!?\n\t\r",
        "José",
        "Ñúñez",
        "Zoë",
        "👩\u200d⚕️",
        "🇺🇸",
        "👍🏿",
        "e\u0301",
        "\u200d",
        "\ufe0f",
        "𝔘",
        "中文",
    ]
)
clinical_text = st.lists(clinical_alphabet, max_size=200).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=any_text | clinical_text, max_bytes=st.integers(4, 64))
def test_chunks_cover_text_exactly(text: str, max_bytes: int) -> None:
    check_chunks(text, chunk_text(text, max_bytes), max_bytes)


@settings(max_examples=100, deadline=None)
@given(text=st.text(st.characters(codec="utf-8"), min_size=1, max_size=3000))
def test_one_chunk_when_it_fits(text: str) -> None:
    chunks = chunk_text(text, 20_000)
    if utf8_len(text) <= 20_000:
        assert chunks == [Chunk(0, text)]
    check_chunks(text, chunks, 20_000)


def fitting(text: str, start: int, max_bytes: int) -> int:
    size = n = 0
    for ch in text[start:]:
        size += utf8_len(ch)
        if size > max_bytes:
            break
        n += 1
    return n


@settings(max_examples=200, deadline=None)
@given(text=clinical_text, max_bytes=st.integers(8, 64))
def test_chunks_are_at_least_half_full(text: str, max_bytes: int) -> None:
    # Cuts are searched only in the window's second half (in code points), so the request
    # count stays within about twice the minimum; a grapheme backoff may take a few more.
    chunks = chunk_text(text, max_bytes)
    for c in chunks[:-1]:
        fit = fitting(text, c.start, max_bytes)
        assert len(c.text) > fit // 2 or len(c.text) >= fit - 32

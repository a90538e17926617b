"""Hostile data in one process: a 10 MB note exact through the SQLite vault, and the resolver's
merge invariants under fuzzing. The CLI cases (bad files, tampered vaults, missing tables) are
in tests/integration/test_hardening.py.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from phiguard.detectors import BaseDetector
from phiguard.resolve import Resolver
from phiguard.spans import Span


def test_ten_megabyte_note_through_the_vault(tmp_path: Path, sample_text: str) -> None:
    """10 MB, ~25k tokens: offsets, the SQLite vault and reid stay exact at size.

    A cheap detector (every word of the sample's gold-like capitals) stands in for the local
    model, whose run time on 10 MB is measured separately (see the slow CLI test)."""
    from phiguard import Deidentifier, Sealer
    from phiguard.vaults.sqlite import SQLiteVault

    reps = 10 * 1024 * 1024 // len(sample_text.encode()) + 1
    big = ("🙂" + sample_text) * reps
    spans = [Span(m.start(), m.end(), "NAME") for m in re.finditer(r"\b[A-Z]{4,}\b", big)]

    class Fixed(BaseDetector):
        name = "fixed"

        def detect(self, text: str) -> list[Span]:
            return spans

    d = Deidentifier(Fixed(), vault=SQLiteVault(tmp_path / "v.db"), sealer=Sealer(b"\x03" * 32))
    out = d.deidentify(big)
    assert len(spans) > 20_000 and "SALAZAR" not in out.text
    assert d.reidentify(out.text) == big


TYPES = ("NAME", "DATE", "ID")


@st.composite
def text_and_spans(draw: st.DrawFn) -> tuple[str, list[Span]]:
    text = draw(st.text(st.sampled_from("ab cd\n.é🙂"), min_size=1, max_size=40))
    n = len(text)
    spans = []
    for _ in range(draw(st.integers(0, 8))):
        start = draw(st.integers(0, n - 1))
        end = draw(st.integers(start + 1, n))
        score = draw(st.floats(0, 1))
        spans.append(Span(start, end, draw(st.sampled_from(TYPES)), score, "fuzz"))
    return text, spans


@settings(max_examples=300, deadline=None)
@given(
    text_and_spans(),
    st.floats(0, 1),
    st.lists(st.sampled_from(["ab", "cd", "é🙂"]), max_size=2),
    st.lists(st.sampled_from(["ab", "cd"]), max_size=2),
)
def test_resolver_merge_invariants(
    case: tuple[str, list[Span]], threshold: float, allow: list[str], deny: list[str]
) -> None:
    text, spans = case
    r = Resolver(threshold=threshold, allow=frozenset(allow), deny=tuple(deny))
    out = r(text, spans)
    # sorted, inside the text, non-empty, and neither overlapping nor touching
    for s in out:
        assert 0 <= s.start < s.end <= len(text)
    for a, b in itertools.pairwise(out):
        assert a.end < b.start
    kept = [
        s
        for s in spans
        if s.score >= threshold and text[s.start : s.end].strip().lower() not in r.allow
    ]
    # every kept span is covered by exactly one output span
    for s in kept:
        assert sum(o.start <= s.start and s.end <= o.end for o in out) == 1
    # every output span is a union of kept spans and deny-list hits: no span from nowhere
    deny_hits = [s for s in out if "deny-list" in s.source]
    for o in out:
        members = [s for s in kept if o.start <= s.start and s.end <= o.end]
        if not members:
            assert o in deny_hits
            continue
        assert o.start == min(s.start for s in members) or o in deny_hits
        assert o.score == max(s.score for s in members) or o in deny_hits
    # every whole-word deny term is covered
    for term in deny:
        for m in re.finditer(rf"(?<!\w){re.escape(term)}(?!\w)", text, re.IGNORECASE):
            assert any(o.start <= m.start() and m.end() <= o.end for o in out)
    # idempotent: resolving the output again changes nothing
    assert Resolver()(text, out) == out


def test_debug_detail_of_a_foreign_error_never_quotes_the_note() -> None:
    """--debug says why a detector failed, unless the library's message could quote the note."""
    from phiguard.errors import safe_detail

    note = "Pt Carlos Salazar seen today."
    limit = ValueError("[E088] Text of length 1000001 exceeds maximum of 1000000")
    assert safe_detail(limit, [note]).startswith("[E088] Text of length")
    quoting = ValueError(f"cannot parse {note!r}")
    assert "Salazar" not in safe_detail(quoting, [note])
    assert "withheld" in safe_detail(quoting, [note])

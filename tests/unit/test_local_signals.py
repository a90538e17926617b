"""The local detector's recall-first signals, switches and long-note windows, end to end.

Real spaCy + Presidio + rules (no mocks). The snippets are the invented ones of issue 11:
what a new user tried and saw leak, and what was flagged though it is no PHI.
"""

from __future__ import annotations

import re

import pytest

from phiguard.detectors.local.detector import LocalDetector
from phiguard.errors import ConfigError
from phiguard.known import KnownPhi
from phiguard.resolve import Resolver, merge
from phiguard.spans import Span

WORD = re.compile(r"\w+")


@pytest.fixture(scope="module")
def detector() -> LocalDetector:
    return LocalDetector()


def covered(text: str, spans: list[Span], needle: str) -> bool:
    at = text.index(needle)
    toks = [(m.start() + at, m.end() + at) for m in WORD.finditer(needle)]
    return all(any(s.start < e and b < s.end for s in spans) for b, e in toks)


MISSED_BEFORE = [
    ("Pt José Hernández seen by Dr. Müller", "José Hernández"),
    ("Pt José Hernández seen by Dr. Müller", "Müller"),
    ("Label reads HERNÁNDEZ, JOSÉ in the chart.", "HERNÁNDEZ, JOSÉ"),
    ("Seen with López-García and Nuñez today.", "López-García"),
    ("Seen with López-García and Nuñez today.", "Nuñez"),
    ("Medicare ID 1EG4-TE5-MK72 on file.", "1EG4-TE5-MK72"),
    ("Family car, plate 7ABC123, in the lot.", "7ABC123"),
    ("Lives at 88 Cypress Street, Springfield IL 62704.", "Springfield IL 62704"),
    ("Moved to Apt 3B last month.", "Apt 3B"),
    ("Wife called from Boston this morning.", "Boston"),
    ("Mrs. van der Berg fell at home.", "van der Berg"),
    ("Grandma Rose visited after lunch.", "Rose"),
    ("pt john doe came in at noon", "john doe"),
    ("Rosalind Quill (95) was admitted overnight.", "95"),
    ("NINETY-TWO YEAR OLD MAN ADMITTED", "NINETY-TWO"),
    ("Admitted 03MAR2021 from the ED.", "03MAR2021"),
    ("Follow-up seen 3/4 in clinic.", "3/4"),
    ("TRANSFERRED FROM PARK VIEW NURSING HOME TODAY", "PARK VIEW NURSING HOME"),
    ("Please call x23 with questions.", "23"),
    ("Anna S. was seen at Methodist Hospital.", "Anna S"),
    ("Anna S. was seen at Methodist Hospital.", "Methodist Hospital"),
    ("Ｊｏｈｎ Ｓｍｉｔｈ filled in the form.", "Ｊｏｈｎ Ｓｍｉｔｈ"),
    ("Дмитрий Иванов arrived from Москва yesterday.", "Дмитрий Иванов"),
]


@pytest.mark.parametrize(("text", "needle"), MISSED_BEFORE)
def test_snippets_missed_before_are_found(detector: LocalDetector, text: str, needle: str) -> None:
    assert covered(text, detector.detect(text), needle)


@pytest.mark.parametrize(
    "text",
    [
        "Hodgkin lymphoma staging was reviewed.",
        "Babinski sign negative bilaterally.",
        "Glasgow coma scale 15 on arrival.",
        "Apgar scores 8 and 9 at one and five minutes.",
        "BEDSIDE REPORT GIVEN TO ONCOMING RN.",
        "Explain the Glasgow coma scale components to a new graduate nurse.",
        "Continue Lasix 40 mg PO daily and monitor I/O.",
    ],
)
def test_eponyms_and_plain_words_are_not_flagged(detector: LocalDetector, text: str) -> None:
    assert [text[s.start : s.end] for s in detector.detect(text)] == []


def test_rule_groups_switch_by_name_and_ner_can_be_off() -> None:
    text = "Dr. Okonjo saw Ebenezer Mwangi on 3/14/2021."
    no_dates = LocalDetector(disable=("dates",), trained_model=False)
    assert not any(s.type == "DATE" for s in no_dates.detect(text))
    rules_only = LocalDetector(disable=("ner", "patterns"), trained_model=False)
    assert not any(
        s.source.startswith(("local:ner.", "local:patterns.")) for s in rules_only.detect(text)
    )
    assert covered(text, rules_only.detect(text), "Okonjo")
    with pytest.raises(ConfigError, match="unknown rule or group"):
        LocalDetector(disable=("location.ward",))


def test_a_threshold_trades_weak_signals_for_precision(detector: LocalDetector) -> None:
    text = "Show vitals for Ebenezer Mwangi from yesterday."
    spans = detector.detect(text)
    weak = [s for s in spans if s.score < 0.5]
    assert weak, "the OOV sweep scores below 0.5 on its own"
    assert Resolver(threshold=0.5)(text, spans) != Resolver()(text, spans)


def test_known_phi_finds_every_part_of_the_patients_name(detector: LocalDetector) -> None:
    text = "Pt Abernathy-Quist ambulating. Wife says quist slept well. Called Ms. Q."
    known = KnownPhi.of({"NAME": "Delphine Abernathy-Quist"})
    spans = Resolver()(text, detector.detect(text), known=known)
    for word in ("Abernathy", "quist"):
        assert covered(text, spans, word)


def test_windowed_detection_matches_whole_note_detection() -> None:
    det = LocalDetector()
    lines = [
        "Pt seen by Dr. Okafor on 3/14/2021, call (617) 555-0182.",
        "Transferred from Lakeview Hosp; daughter Rosalind at bedside.",
        "Vitals stable, BP 120/80, HR 88, no complaints overnight.",
    ]
    text = "\n".join(lines * 60) + "\n"  # ~10 kB
    whole = merge(det.detect(text))
    det.window = 1_000  # force ~10 windows on the same note
    windowed = merge(det.detect(text))
    assert [(s.start, s.end, s.type) for s in windowed] == [(s.start, s.end, s.type) for s in whole]


def test_notes_over_a_million_characters_are_detected_in_bounded_windows(
    detector: LocalDetector,
) -> None:
    block = "Pt seen by Dr. Okafor on 3/14/2021. Vitals stable overnight, no acute events.\n"
    text = block * (1_100_000 // len(block) + 1)  # past spaCy's 1,000,000-char limit
    spans = detector.detect(text)
    assert sum(1 for s in spans if text[s.start : s.end] == "Okafor") >= text.count("Okafor")
    assert all(0 <= s.start < s.end <= len(text) for s in spans)

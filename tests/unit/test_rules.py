"""Each rule on its own, without spaCy: the rule groups, their switches and what they find.

Every case runs `ClinicalRecognizers` with only the rule under test selected, so a failure
names the rule that broke. The texts are invented (no dev-note names or places).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from phiguard.detectors.local.clinical import ClinicalRecognizers, Selection
from phiguard.detectors.local.clinical.registry import ALL_RULES, GROUPS
from phiguard.errors import ConfigError
from phiguard.spans import Span

WORD = re.compile(r"\w+")
SYNTH = Path(__file__).resolve().parents[1] / "data" / "synthetic_notes.jsonl"
_ALL = ClinicalRecognizers()


def run(rule: str, text: str, policy: str = "over89") -> list[Span]:
    return ClinicalRecognizers(policy, selection=Selection.of(rules=(rule,))).find(text)


def covered(text: str, spans: list[Span], needle: str) -> bool:
    at = text.index(needle)
    toks = [(m.start() + at, m.end() + at) for m in WORD.finditer(needle)]
    return all(any(s.start < e and b < s.end for s in spans) for b, e in toks)


# (rule, text, the PHI it must cover): one line per rule and shape
FINDS = [
    ("fields.name", "Patient Name: Ottoline Brisk\nMRN: 554433", "Ottoline Brisk"),
    ("fields.name", "Patient Name: HERNÁNDEZ, JOSÉ\nAttending: Zoë Łukasik", "HERNÁNDEZ, JOSÉ"),
    ("fields.name", "Patient Name: HERNÁNDEZ, JOSÉ\nAttending: Zoë Łukasik", "Zoë Łukasik"),
    ("fields.id", "MRN: 5544-33-21", "5544-33-21"),
    ("dates.full", "Admitted 03/14/2021 with chest pain", "03/14/2021"),
    ("dates.md", "seen 3/4 in clinic", "3/4"),
    ("dates.compact", "admitted 03MAR2021 from ED", "03MAR2021"),
    ("dates.compact", "DOB 4-Sep-47", "4-Sep-47"),
    ("dates.glued", "DOB:3/4/2021 per chart", "3/4/2021"),
    ("dates.glued", "seen on 3 / 4 / 2021 in clinic", "3 / 4 / 2021"),
    ("dates.year-apos", "CABG in '95", "95"),
    ("phones.nanp", "call (617) 555-0182 today", "(617) 555-0182"),
    ("phones.extension", "call x23 for the unit", "23"),
    ("phones.extension", "reach her at 555-0133 x2291", "2291"),
    ("phones.international", "dial +47 22 55 01 88 after six", "+47 22 55 01 88"),
    ("phones.international", "call on 020 7946 0958.", "020 7946 0958"),
    ("ids.mixed", "Medicare ID 1EG4-TE5-MK72 on file", "1EG4-TE5-MK72"),
    ("ids.mixed", "passport X49320176 expired", "X49320176"),
    ("ids.plate", "car plate 7ABC123 in the lot", "7ABC123"),
    ("ids.labelled", "MRN 00483921", "00483921"),
    ("addresses.street", "lives at 42 Juniper Hollow Road, Ashford, CT 06278", "42 Juniper"),
    ("addresses.unit", "moved to Apt 3B last week", "Apt 3B"),
    ("addresses.city-state-zip", "mail to Springfield IL 62704 please", "Springfield IL 62704"),
    ("addresses.street-name", "a pharmacy on Birch Street", "Birch Street"),
    ("ages.stated", "a 93 yo woman", "93"),
    ("ages.stated", "she turned 95 on Sunday", "95"),
    ("ages.spelled", "NINETY-TWO YEAR OLD MAN", "NINETY-TWO"),
    ("ages.spelled", "He is ninety-one and lives alone.", "ninety-one"),
    ("ages.paren", "Rosalind Quill (95) was admitted", "95"),
    ("ages.paren", "Olwen Tresk, 93, was admitted", "93"),
    ("names.title", "Dr. Müller saw him", "Müller"),
    ("names.title", "Mrs. van der Berg fell", "van"),
    ("names.relation", "Grandma Rose visited today", "Rose"),
    ("names.pair", "Pt José Hernández seen by nurse", "José Hernández"),
    ("names.last-first", "HERNÁNDEZ, JOSÉ admitted", "HERNÁNDEZ, JOSÉ"),
    ("names.lower-pair", "pt john doe came in at noon", "john doe"),
    ("names.script", "Дмитрий Иванов arrived yesterday", "Дмитрий Иванов"),
    ("names.script", "山田太郎 visited the clinic", "山田太郎"),
    ("oov.name", "Show vitals for Ebenezer Mwangi from yesterday", "Ebenezer"),
    ("oov.name", "Seen with López-García and Nuñez today.", "López"),
    ("locations.facility", "transferred from Lakeview Hosp today", "Lakeview"),
    ("locations.facility-shape", "was referred to Cedar Hills Behavioral Health", "Cedar Hills"),
    ("locations.facility-shape", "FROM PARK VIEW NURSING HOME TODAY", "PARK VIEW NURSING HOME"),
    ("locations.facility-shape", "seen at the Elmwood clinic", "Elmwood clinic"),
    ("locations.facility-shape", "received blood at St. Vincent's yesterday", "St. Vincent"),
    ("locations.town", "called from Boston this morning", "Boston"),
    ("locations.town", "opened a practice in Santa Fe in spring", "Santa Fe"),
]


@pytest.mark.parametrize(("rule", "text", "needle"), FINDS)
def test_each_rule_finds_its_shape_on_its_own(rule: str, text: str, needle: str) -> None:
    spans = run(rule, text)
    assert covered(text, spans, needle), (rule, [text[s.start : s.end] for s in spans])
    group = rule.split(".")[0]
    assert all(s.source.startswith(f"local:{group}.") for s in spans)


# (rule or group, text): near misses each rule must leave alone
LEAVES = [
    ("dates", "BP 120/80, PEEP 10/5, pain 8/10, 1/2 NS"),
    ("dates.glued", "U/O 100-200CC/HR overnight"),
    ("phones.extension", "AC 700 X 15, PEEP 5, vent 600x12"),
    ("ids.mixed", "U/O 100-200CC/HR, 83-85NSR, TYLENOL650MG, 11P-7AM, 14X700X100%"),
    ("ids.mixed", "COVID-19 and HbA1c and CD4 counts"),
    ("ages", "He is a 50 yo male, sat (95) on RA, HR is ninety"),
    ("oov", "Given Zofran and Lasix; Yankauer suctioning; Apgar 9; patient speaks Cantonese."),
    ("oov", "Remains on Amio, Levo and Neo gtt; FiO2 40%, PaO2 88."),
    ("names", "Hodgkin lymphoma, Babinski negative, Glasgow coma scale 15, Apgar 9"),
    ("names", "BEDSIDE REPORT GIVEN TO ONCOMING RN"),
    ("locations.facility-shape", "HE WANTED TO LEAVE HOSPITAL AND SIGN AMA"),
    ("locations.town", "Ottawa ankle rules were negative"),
]


@pytest.mark.parametrize(("rule", "text"), LEAVES)
def test_rules_leave_clinical_text_alone(rule: str, text: str) -> None:
    assert [text[s.start : s.end] for s in run(rule, text)] == []


def test_eponyms_are_vetoed_unless_a_title_says_name() -> None:
    text = "Murphy sign positive. Bell palsy resolved. Dr. Bell called."
    found = {text[s.start : s.end] for s in _ALL.find(text)}
    assert "Bell" in found  # the physician, after "Dr."
    assert text.index("Bell") not in {s.start for s in _ALL.find(text)}  # "Bell palsy"


def test_the_whole_entity_is_covered() -> None:
    text = "Anna S. was seen at Methodist Hospital with Tobias R. and Hiroshi Tanaka-Bell."
    spans = _ALL.find(text)
    for needle in ("Anna S", "Methodist Hospital", "Tobias R", "Hiroshi Tanaka-Bell"):
        assert covered(text, spans, needle), needle
    grown = run("names", text) + ClinicalRecognizers(selection=Selection.of(("entities",))).find(
        text
    )
    assert all(s.source.startswith(("local:names.", "local:entities.")) for s in grown)


def test_non_ascii_names_are_masked_whole() -> None:
    """The issue's leak: `Pt ###é Hernández seen by Dr. #üller` (half a word masked)."""
    text = "Pt José Hernández seen by Dr. Müller; HERNÁNDEZ, JOSÉ; López-García; Nuñez"
    spans = _ALL.find(text)
    for word in ("José", "Hernández", "Müller", "HERNÁNDEZ", "JOSÉ", "López", "García", "Nuñez"):
        at = text.index(word)
        assert any(s.start <= at and at + len(word) <= s.end for s in spans), word


def test_fullwidth_letters_are_read_as_their_ascii_forms() -> None:
    text = "Ｊｏｈｎ Ｓｍｉｔｈ filled in the form"
    assert covered(text, _ALL.find(text), "Ｊｏｈｎ Ｓｍｉｔｈ")


# --- the registry and switches -------------------------------------------------------------


def test_selection_switches_groups_and_rules_by_name() -> None:
    text = "Dr. Okonjo-Baptiste saw pt 3/14/2021; call (617) 555-0182."
    full = {s.source for s in _ALL.find(text)}
    assert {"local:names.title", "local:dates.full", "local:phones.nanp"} <= full
    no_names = ClinicalRecognizers(selection=Selection.of(disable=("names",))).find(text)
    assert not any(s.source.startswith("local:names.") for s in no_names)
    only = ClinicalRecognizers(selection=Selection.of(rules=("dates.full",))).find(text)
    assert {s.source for s in only} == {"local:dates.full"}
    no_title = ClinicalRecognizers(selection=Selection.of(disable=("names.title",))).find(text)
    assert "local:names.title" not in {s.source for s in no_title}


def test_unknown_rule_names_are_one_clear_error() -> None:
    with pytest.raises(ConfigError, match=r"unknown rule or group in disable: names\.tittle"):
        Selection.of(disable=("names.tittle",))
    with pytest.raises(ConfigError, match="unknown rule or group in rules: nonsense"):
        Selection.of(rules=("nonsense",))


def test_every_source_a_rule_emits_is_in_the_catalogue() -> None:
    texts = [json.loads(line)["text"] for line in SYNTH.read_text().splitlines()[:150]]
    texts += [text for _, text, _ in FINDS] + [text for _, text in LEAVES]
    sources = {s.source.removeprefix("local:") for t in texts for s in _ALL.find(t)}
    assert sources <= ALL_RULES, sorted(sources - ALL_RULES)
    assert set(GROUPS) >= {src.split(".")[0] for src in sources}


def test_scores_are_on_the_one_scale() -> None:
    text = "Dr. Okafor saw Ebenezer Mwangi at Lakeview Hosp on 3/14/2021, MRN 00483921."
    scores = {s.source: s.score for s in _ALL.find(text)}
    assert all(0.0 < v <= 1.0 for v in scores.values())
    assert scores["local:names.title"] > scores["local:oov.name"]  # a title beats a shape

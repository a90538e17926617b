"""Known PHI: values the caller holds are found wherever they occur, in every usual form."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from phiguard.errors import InputError
from phiguard.known import KnownPhi
from phiguard.resolve import Resolver
from phiguard.spans import Span


def found(known: KnownPhi, text: str) -> list[str]:
    return [text[s.start : s.end] for s in sorted(known.find(text))]


def test_a_patient_name_is_found_in_every_form_notes_use() -> None:
    known = KnownPhi.of({"NAME": "José Hernández"})
    text = (
        "Pt José Hernández seen. HERNÁNDEZ, JOSÉ on the label; jose hernandez called; "
        "Mr. Hernández's wife; J. Hernandez signed; Hernandez J; josé asked for water."
    )
    got = found(known, text)
    assert "José Hernández" in got and "HERNÁNDEZ, JOSÉ" in got and "jose hernandez" in got
    assert "Hernández" in got  # "Mr. Hernández's": the surname, possessive left outside
    assert "J. Hernandez" in got and "Hernandez J" in got and "josé" in got
    # every letter of every mention is covered
    spans = known.find(text)
    for word in ("José", "Hernández", "HERNÁNDEZ", "JOSÉ", "hernandez", "josé"):
        at = text.index(word)
        assert any(s.start <= at and at + len(word) <= s.end for s in spans), word


def test_particles_and_hyphens_and_whitespace() -> None:
    known = KnownPhi.of({"NAME": ["Anneke van der Berg", "María López-García"]})
    text = "Mrs. van der Berg and Berg's son; Lopez Garcia,\n  María  López - García; van alone"
    got = found(known, text)
    assert "van der Berg" in got and "Berg" in got
    assert "Lopez Garcia" in got and "María  López - García" in got
    assert "van" not in got  # a particle is never PHI on its own


def test_word_like_name_parts_count_only_capitalised() -> None:
    known = KnownPhi.of({"NAME": "Rose Pike"})
    assert found(known, "BP rose to 150; Rose visited; ROSE asked") == ["Rose", "ROSE"]
    assert found(known, "rose pike called") == ["rose pike"]  # the full name: any case


def test_ids_phones_and_dates_with_any_separators() -> None:
    known = KnownPhi.of(
        {"MRN": "00483921", "phone": "(617) 555-0182", "DOB": "1941-07-08", "ID": "1EG4-TE5-MK72"}
    )
    text = (
        "MRN 00483921, ph 617.555.0182, cb 6175550182; born 7/8/41, DOB 07/08/1941, "
        "July 8, 1941 and 08JUL1941; medicare 1eg4te5mk72; not 004839210 or 1/8/41"
    )
    got = found(known, text)
    for value in (
        "00483921",
        "617.555.0182",
        "6175550182",
        "7/8/41",
        "07/08/1941",
        "July 8, 1941",
        "08JUL1941",
        "1eg4te5mk72",
    ):
        assert value in got, value
    assert "004839210" not in got and "1/8/41" not in got
    assert all(s.source == "known" and s.score == 1.0 for s in known.find(text))


def test_accents_fullwidth_and_other_scripts() -> None:
    known = KnownPhi.of({"NAME": ["John Smith", "Дмитрий Иванов"]})
    assert found(known, "Ｊｏｈｎ Ｓｍｉｔｈ signed") == ["Ｊｏｈｎ Ｓｍｉｔｈ"]
    assert found(known, "Иванов пришёл") == ["Иванов"]


def test_bare_strings_match_as_whole_phrases() -> None:
    known = KnownPhi.of(["Ellison 4", "North Shore Hospital"])
    text = "to ellison 4 then North  Shore Hospital; North alone; Ellison alone"
    assert found(known, text) == ["ellison 4", "North  Shore Hospital"]
    assert {s.type for s in known.find(text)} == {"OTHER"}


def test_load_a_list_file(tmp_path: Path) -> None:
    f = tmp_path / "staff.txt"
    f.write_text("# staff\nNAME\tIngrid Solheim\nLOCATION\tPinecrest Ward\n\nBlue Pod\n")
    known = KnownPhi.load(f)
    spans = known.find("Dr. Solheim moved him from Pinecrest Ward to the blue pod")
    assert {(s.type) for s in spans} == {"NAME", "LOCATION", "OTHER"}
    f.write_text("WIZARD\tMerlin\n")
    with pytest.raises(InputError, match=r"staff\.txt:1: unknown known-PHI type 'WIZARD'"):
        KnownPhi.load(f)
    with pytest.raises(InputError, match=r"missing\.txt"):
        KnownPhi.load(tmp_path / "missing.txt")


def test_frozen_picklable_mergeable() -> None:
    a = KnownPhi.of({"NAME": "Kwame Asante"})
    b = KnownPhi.of({"MRN": 7734120})
    both = a | b
    assert pickle.loads(pickle.dumps(both)) == both
    assert both == b | a  # order does not matter
    assert {s.type for s in both.find("Asante, MRN 7734120")} == {"NAME", "ID"}
    assert not KnownPhi.of(None) and not KnownPhi.of("") and KnownPhi.of("x")
    with pytest.raises(InputError):
        KnownPhi.of({"NAME": object()})


def test_resolver_keeps_known_spans_whatever_the_filters() -> None:
    text = "Kwame saw Dr. Solheim on 3/4"
    staff = KnownPhi.of({"NAME": "Ingrid Solheim"})
    patient = KnownPhi.of({"NAME": "Kwame Asante"})
    resolver = Resolver(threshold=0.99, entities=frozenset({"DATE"}), known=staff)
    spans = resolver(text, [Span(25, 28, "DATE", 0.5, "local:date")], known=patient)
    assert [(text[s.start : s.end], s.type, s.source) for s in spans] == [
        ("Kwame", "NAME", "known"),
        ("Solheim", "NAME", "known"),
    ]


def test_hundreds_of_names_in_one_list() -> None:
    first = ["Ana", "Bram", "Chiara", "Dov", "Elif", "Femi", "Gita", "Hugo", "Ines", "Jun"]
    last = ["Abara", "Bolt", "Cruz", "Dahl", "Eze", "Fox", "Gil", "Hahn", "Ito", "Jha"]
    staff = [f"{f} {x}{i}" for i in range(5) for f in first for x in last]  # 500 names
    known = KnownPhi.of({"NAME": staff})
    note = "Pt seen by Ana Abara0 and the team. " * 3000  # ~100 kB
    spans = known.find(note)
    assert len(spans) == 3000 and {note[s.start : s.end] for s in spans} == {"Ana Abara0"}
    # first names alone are parts; "Abara5" and "Jha" are no staff member's surname
    assert found(known, "Pt seen by Ana Abara5 and Jun Jha") == ["Ana", "Jun"]

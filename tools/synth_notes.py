#!/usr/bin/env python3
"""Generate synthetic ICU nursing notes with gold PHI spans: a held-out generalization check.

The local detector is tuned on the PhysioNet dev notes, so its dev score says little about
notes with other names, places and phrasings. This script writes notes in the dev set's style
(ALL CAPS / lower case / mixed, "pt", "c/o", "s/p", vitals, times, doses, "MAE", "A&Ox3", ...)
from ~90 hand-written templates, fills the PHI slots from Faker and small hand lists (none of
which come from the dev notes), and fills the rest with look-alike NON-PHI: times, blood
pressures, pain scores "4/10", ABGs "7.32/45/88", doses, drug names, eponyms ("Foley",
"Swan-Ganz", "Glasgow"), state abbreviations, ordinary words that are also names ("will",
"may", "frank blood", "brown stool"), ages of 89 and under.

Output: JSONL like ../shared/eval/physionet-dev.jsonl, one note a line,
`{"id", "text", "spans": [{"start", "end", "label", "orig_label", "text"}]}`, offsets are
Python str indices. Labels: NAME, DATE, LOCATION, PHONE, AGE (over 89 only), ID.

Annotation conventions follow the dev gold (see docs/generalization.md): titles ("Dr.",
"RN", "Mr.") and generic facility words ("Hospital", "Medical Center", "Rehab", "House") are
not PHI; distinctive facility words ("Memorial", "General", "Adventist", "St.") are; initials
are; a state after a city ("Springfield, OH") is not; weekdays and times are not.

Deterministic: the same --seed (and Faker version, and --exclude-gold file) gives the same
file. `--exclude-gold` drops every name/place Faker proposes whose tokens occur in a gold
span of that corpus, so the check uses strings the detector cannot have been tuned on.

    .venv/bin/python tools/synth_notes.py --n 400 --seed 20261124 \\
        --exclude-gold ../shared/eval/physionet-dev.jsonl -o tests/data/synthetic_notes.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faker import Faker

__all__ = [
    "GENERIC_WORDS",
    "TEMPLATES",
    "Gen",
    "Note",
    "Segment",
    "generate",
    "load_exclusions",
    "to_record",
]


# --------------------------------------------------------------------------- data model


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of note text. `label` is None for non-PHI; `kind` names the slot that made it."""

    text: str
    label: str | None = None
    orig_label: str = ""
    kind: str = "template"


@dataclass(frozen=True, slots=True)
class Note:
    id: str
    segments: tuple[Segment, ...]
    case: str  # "upper", "lower" or "mixed"

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments)

    def spans(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        pos = 0
        for seg in self.segments:
            end = pos + len(seg.text)
            if seg.label is not None:
                out.append(
                    {
                        "start": pos,
                        "end": end,
                        "label": seg.label,
                        "orig_label": seg.orig_label,
                        "text": seg.text,
                    }
                )
            pos = end
        return out

    def located_segments(self) -> list[tuple[int, int, Segment]]:
        """(start, end, segment) for every segment, for error analysis."""
        out: list[tuple[int, int, Segment]] = []
        pos = 0
        for seg in self.segments:
            out.append((pos, pos + len(seg.text), seg))
            pos += len(seg.text)
        return out


def to_record(note: Note) -> dict[str, Any]:
    return {"id": note.id, "text": note.text, "spans": note.spans()}


Segs = list[Segment]


def lit(text: str, kind: str = "template") -> Segment:
    return Segment(text, None, "", kind)


def phi(text: str, label: str, orig: str, kind: str) -> Segment:
    return Segment(text, label, orig, kind)


# --------------------------------------------------------------------------- hand lists
# Written for this file; checked against the dev gold (none of these strings is a dev PHI
# span). Real US towns and a few foreign cities (not countries: a country is not PHI under
# Safe Harbor), to go with Faker's invented ones.

# fmt: off
REAL_TOWNS = (
    "Dayton", "Worcester", "Scranton", "Toledo", "Tacoma", "Fresno", "Albany", "Boise",
    "Duluth", "Reno", "Lowell", "Quincy", "Salem", "Troy", "Springfield", "Camden", "Allentown",
    "Wilmington", "Harrisburg", "Trenton", "Bangor", "Nashua", "Erie", "Syracuse", "Akron",
    "Macon", "Savannah", "Tulsa", "Wichita", "Lubbock", "Provo", "Spokane", "Yonkers",
    "Paterson", "Bethesda", "Rockville", "Gaithersburg", "Dover", "Lynchburg", "Roanoke",
    "Norfolk", "Richmond", "Fairfax", "Cumberland", "Frostburg", "Easton", "Salisbury",
    "Elkton", "Westminster", "Laurel", "Bowie", "Columbia", "Glen Burnie", "Ocean City",
    "Cape May", "Myrtle Beach", "Pittsburgh", "Cleveland",
)
FOREIGN_PLACES = (
    "Krakow", "Lisbon", "Manila", "Lagos", "Naples", "Kiev", "Athens", "Seoul", "Lima",
    "Dublin", "Kingston", "Accra", "Hanoi", "Warsaw", "Thessaloniki", "San Juan", "Odessa",
)
# First names that are also English words: relatives and nurses are often called this.
WORDLIKE_FIRST = (
    "Hope", "Joy", "Faith", "Dawn", "June", "April", "Bill", "Frank", "Rusty", "Sky", "Sandy",
    "Mark", "Will", "Jack", "Chase", "Summer", "Iris", "Ivy", "Daisy", "Crystal", "Amber",
    "Ruby", "Jade", "Bud", "Sunny", "Penny", "Autumn", "Misty", "Drew", "Dale",
)
APOSTROPHE_SURNAMES = (
    "O'Malley", "O'Neil", "D'Angelo", "DiNapoli", "McAllister", "O'Donnell", "LaRue",
    "DeSantis", "MacKenzie", "O'Keefe", "DeLuca", "D'Amico", "O'Leary", "McNamara",
)
STATES = (
    "OH", "PA", "NJ", "VA", "DE", "NY", "FL", "NC", "WV", "MA", "CT", "GA", "TX",
)
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)
MONTH_ABBR = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sept", "Oct", "Nov", "Dec",
)
FACILITY_ADJ = (
    "Memorial", "General", "Regional", "Adventist", "Community", "Baptist", "Methodist",
)
GENERIC_FACILITY = (
    " Hospital", " hospital", " Hosp", " Medical Center", " Med Ctr", " Rehab", " rehab", " ER",
    " EW", " Nursing Home", " NH", "",
)
RELATIONS = (
    "wife", "husband", "daughter", "son", "sister", "brother", "niece", "nephew", "dtr",
    "grandson", "granddaughter", "friend", "neighbor", "mother", "father", "HCP", "fiance",
    "son-in-law", "daughter in law", "partner",
)
DRUGS = (
    "Haldol", "Lasix", "Ativan", "Levophed", "Heparin", "Propofol", "Vanco", "Zosyn",
    "Lopressor", "Captopril", "Coumadin", "Dilaudid", "Morphine", "Tylenol", "Colace", "Senna",
    "Reglan", "Zofran", "Protonix", "Precedex", "Fentanyl", "Versed", "Neo", "Dopamine",
    "Amiodarone", "Nitro", "Cardizem", "Digoxin", "Flagyl", "Cipro", "Levaquin", "Kayexalate",
    "Ambien", "Seroquel", "Lovenox", "Plavix", "Integrilin", "Dobutamine", "Milrinone",
    "Vasopressin", "Solumedrol", "Albuterol", "Atrovent", "Kefzol", "Bactrim",
)
EPONYM_LINES = (
    "Foley to gravity draining clear yellow urine", "Swan-Ganz in place, PAD 18-22",
    "Glasgow coma scale 7", "hx of Parkinson's and Alzheimer's dementia",
    "Cheyne-Stokes resp pattern noted when asleep",
    "placed in Trendelenburg for line placement", "Hickman cath site clean",
    "Quinton cath in R IJ, flushed", "Dobhoff tube placed, position confirmed by KUB",
    "JP drain with 40cc serosang drainage", "Hemovac removed", "Posey vest on for safety",
    "Bair Hugger on for temp 95.8", "Pleurovac to -20 sxn, no air leak", "Yankauer at bedside",
    "Miami-J collar in place, c-spine not cleared", "Philadelphia collar on when oob",
    "+ Babinski on L", "Homan's sign neg bilat", "Murphy's sign positive per team",
    "hx Crohn's disease", "hx Guillain-Barre", "Mallory-Weiss tear on EGD", "s/p Whipple",
    "Roux-en-Y hx", "Wolff-Parkinson-White on EKG per cards", "Bell's palsy R face, old",
    "Cushing's triad not present", "Ambu bag at bedside",
    "Sengstaken-Blakemore tube discussed with team",
)
# fmt: on


# --------------------------------------------------------------------------- generator


@dataclass
class Cast:
    """People and places of one note, so names repeat inside a note as in real notes."""

    pt_last: str
    pt_first: str
    pt_title: str
    doctors: list[tuple[str, str]] = field(default_factory=list)
    nurses: list[tuple[str, str]] = field(default_factory=list)
    relatives: list[tuple[str, str, str]] = field(default_factory=list)  # relation, first, last
    hospital: Segs = field(default_factory=list)


def _as_is(s: str) -> str:
    return s


class Gen:
    """Fills template slots. One per corpus; all randomness comes from `rng` and `fake`."""

    def __init__(self, seed: int, exclude: frozenset[str]) -> None:
        self.rng = random.Random(seed)
        self.fake = Faker("en_US")
        self.fake.seed_instance(seed)
        self.exclude = exclude
        self.case = "mixed"
        self.cast = self.new_cast()

    # ------------------------------------------------------------------ helpers

    def pick(self, seq: Sequence[str]) -> str:
        return seq[self.rng.randrange(len(seq))]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def ok(self, s: str) -> bool:
        return not any(t.lower() in self.exclude for t in re.findall(r"\w+", s))

    def _draw(self, make: Callable[[], str]) -> str:
        for _ in range(50):
            s = make()
            if self.ok(s):
                return s
        raise RuntimeError("exclusion list rejects every candidate")

    def first(self) -> str:
        if self.chance(0.12):
            return self._draw(lambda: self.pick(WORDLIKE_FIRST))
        return self._draw(self.fake.first_name)

    def last(self) -> str:
        r = self.rng.random()
        if r < 0.04:
            return self._draw(lambda: self.pick(APOSTROPHE_SURNAMES))
        if r < 0.08:
            return self._draw(lambda: f"{self.fake.last_name()}-{self.fake.last_name()}")
        return self._draw(self.fake.last_name)

    def city(self) -> str:
        r = self.rng.random()
        if r < 0.45:
            return self._draw(self.fake.city)
        if r < 0.9:
            return self._draw(lambda: self.pick(REAL_TOWNS))
        return self._draw(lambda: self.pick(FOREIGN_PLACES))

    def case_fn(self) -> Callable[[str], str]:
        """Casing of one name in a mixed-case note: mostly as written, sometimes not."""
        r = self.rng.random()
        if r < 0.14:
            return str.lower
        if r < 0.22:
            return str.upper
        return _as_is

    def name_case(self, s: str) -> str:
        return self.case_fn()(s)

    def new_cast(self) -> Cast:
        cast = Cast(self.last(), self.first(), self.pick(("Mr.", "Mrs.", "Ms.", "Mr", "Mrs")))
        cast.doctors = [(self.first(), self.last()) for _ in range(3)]
        cast.nurses = [(self.first(), self.last()) for _ in range(2)]
        cast.relatives = [(self.pick(RELATIONS), self.first(), self.last()) for _ in range(2)]
        cast.hospital = self.hosp_fresh()
        return cast

    def name_segs(self, parts: Iterable[tuple[str, str]], orig: str, kind: str) -> Segs:
        """`parts` are (text, sep-after); each text is one gold NAME span."""
        out: Segs = []
        case = self.case_fn()
        for text, sep in parts:
            out.append(phi(case(text), "NAME", orig, kind))
            if sep:
                out.append(lit(sep, kind))
        return [s for s in out if s.text]

    def doctor(self) -> tuple[str, str]:
        if self.chance(0.3):
            d = (self.first(), self.last())
            self.cast.doctors.append(d)
            return d
        return self.pick_tuple(self.cast.doctors)

    def pick_tuple(self, seq: Sequence[tuple[str, str]]) -> tuple[str, str]:
        return seq[self.rng.randrange(len(seq))]

    # ------------------------------------------------------------------ PHI slots

    def s_dr(self) -> Segs:
        """A physician with a title: Dr. Last / dr last / Dr. F. Last / DR FIRST LAST."""
        first, last = self.doctor()
        title = self.pick(("Dr. ", "Dr ", "dr ", "dr. ", "DR. ", "Dr.", "MD "))
        r = self.rng.random()
        kind = "dr_title"
        if r < 0.6:
            parts = [(last, "")]
        elif r < 0.78:
            parts = [(first[0], ". "), (last, "")]
            kind = "dr_initial"
        else:
            parts = [(first, " "), (last, "")]
            kind = "dr_full"
        if title == "Dr." and r < 0.6:
            kind = "dr_nospace"
        if title == "MD ":  # "MD Last" is rare; use "Last MD" instead
            return [*self.name_segs(parts, "HCPName", "dr_suffix_md"), lit(" MD")]
        return [lit(title, kind), *self.name_segs(parts, "HCPName", kind)]

    def s_drlast(self) -> Segs:
        """A physician's surname alone (after "per", "aware", in a team list)."""
        _, last = self.doctor()
        return self.name_segs([(last, "")], "HCPName", "surname_bare")

    def s_initlast(self) -> Segs:
        """ "K. Last" / "K Last" with no title: the dev notes' usual clinician reference."""
        first, last = self.doctor()
        sep = self.pick((". ", ".", " "))
        return self.name_segs([(first[0], sep), (last, "")], "HCPName", "initial_last")

    def s_clin(self) -> Segs:
        """A nurse, NP, PA, RT: "NP Janet", "Janet Lee, RN", "RN (Tom)", "PA Kowalski"."""
        first, last = self.pick_tuple(self.cast.nurses)
        role = self.pick(("RN", "NP", "PA", "RRT", "RT", "charge RN", "resource nurse"))
        r = self.rng.random()
        if r < 0.25:
            return [lit(role + " "), *self.name_segs([(first, "")], "HCPName", "role_first")]
        if r < 0.45:
            return [
                *self.name_segs([(first, " "), (last, "")], "HCPName", "full_role"),
                lit(", " + role),
            ]
        if r < 0.6:
            return [lit(role + " "), *self.name_segs([(last, "")], "HCPName", "role_last")]
        if r < 0.75:
            return [
                lit(role + " ("),
                *self.name_segs([(first, "")], "HCPName", "role_paren"),
                lit(")"),
            ]
        if r < 0.88:
            return [*self.name_segs([(first, "")], "HCPName", "first_role"), lit(" " + role)]
        return [
            *self.name_segs([(first[0], ". "), (last, "")], "HCPName", "initial_last"),
            lit(" " + role),
        ]

    def s_sig(self) -> Segs:
        """Signature line at the end of a note."""
        first, last = self.pick_tuple(self.cast.nurses)
        role = self.pick(("RN", "RN", "RRT", "SN", "RN, BSN", "NP"))
        r = self.rng.random()
        if r < 0.35:
            segs = self.name_segs([(first, " "), (last, "")], "HCPName", "signature")
            return [*segs, lit(", " + role)]
        if r < 0.55:
            mid = chr(ord("A") + self.rng.randrange(26))
            segs = self.name_segs([(first, " "), (mid, ". "), (last, "")], "HCPName", "signature")
            return [*segs, lit(", " + role)]
        if r < 0.75:
            return [
                *self.name_segs([(first[0], ". "), (last, "")], "HCPName", "signature"),
                lit(" " + role),
            ]
        if r < 0.88:
            return [
                lit("-"),
                *self.name_segs([(first, "")], "HCPName", "signature_first"),
                lit(" " + role),
            ]
        return [
            *self.name_segs([(last, ", "), (first, "")], "HCPName", "signature_lastfirst"),
            lit(" " + role),
        ]

    def s_pt(self) -> Segs:
        """The patient by title and surname: "Mr. Last", "mrs last"."""
        c = self.cast
        title = c.pt_title if self.chance(0.8) else c.pt_title.lower()
        return [
            lit(title + " ", "pt_title"),
            *self.name_segs([(c.pt_last, "")], "PTName", "pt_title"),
        ]

    def s_ptfull(self) -> Segs:
        """The patient in a header: "LAST, FIRST" or "First Last"."""
        c = self.cast
        if self.chance(0.5):
            return self.name_segs(
                [(c.pt_last.upper(), ", "), (c.pt_first.upper(), "")], "PTName", "pt_lastfirst"
            )
        return self.name_segs([(c.pt_first, " "), (c.pt_last, "")], "PTName", "pt_full")

    def s_nick(self) -> Segs:
        """The name a patient goes by."""
        return self.name_segs([(self.first(), "")], "PTName", "pt_nickname")

    def _relative(self) -> tuple[str, str, str]:
        if self.chance(0.25):
            rel = (self.pick(RELATIONS), self.first(), self.last())
            self.cast.relatives.append(rel)
            return rel
        return self.cast.relatives[self.rng.randrange(len(self.cast.relatives))]

    def s_rel(self) -> Segs:
        """A family member: "wife Mary", "pt's son, John", "daughter mary (HCP)"."""
        relation, first, last = self._relative()
        prefix = self.pick(("", "", "pt's ", "his ", "her ", "the "))
        sep = self.pick((" ", " ", ", ", " - ", "-", " "))
        r = self.rng.random()
        if r < 0.65:
            parts = [(first, "")]
            kind = "rel_first"
        elif r < 0.85:
            parts = [(first, " "), (last, "")]
            kind = "rel_full"
        else:
            kind = "rel_first_lower"
            segs = [phi(first.lower(), "NAME", "RelativeProxyName", kind)]
            return [lit(prefix + relation + sep, kind), *segs]
        return [
            lit(prefix + relation + sep, kind),
            *self.name_segs(parts, "RelativeProxyName", kind),
        ]

    def s_relname(self) -> Segs:
        """A relative's first name alone, already introduced ("Mary aware")."""
        _, first, _ = self.cast.relatives[0]
        return self.name_segs([(first, "")], "RelativeProxyName", "rel_bare")

    def s_relword(self) -> Segs:
        return [lit(self.cast.relatives[0][0])]

    def hosp_fresh(self) -> Segs:
        """A facility name built from Faker pieces; generic words are not PHI."""
        r = self.rng.random()
        generic = self.pick(GENERIC_FACILITY)
        if r < 0.2:
            name, kind = f"{self.last()} {self.pick(FACILITY_ADJ)}", "hosp_last_adj"
        elif r < 0.35:
            saint = self.pick(("St. ", "St ", "Saint "))
            poss = self.pick(("'s", "", "'s"))
            name, kind = f"{saint}{self.first()}", "hosp_saint"
            generic = poss + generic  # "St. Anne" is PHI, the possessive "'s" is not
        elif r < 0.5:
            name, kind = f"{self.city()} {self.pick(FACILITY_ADJ)}", "hosp_city_adj"
        elif r < 0.62:
            name, kind = self.city(), "hosp_city_generic"
            generic = self.pick((" Hospital", " Medical Center", " hosp", " Rehab", " ER"))
        elif r < 0.72:
            name, kind = self.last(), "hosp_last_generic"
            generic = self.pick((" Hospital", " Medical Center", " Rehab", " hospital"))
        elif r < 0.8:
            letters = "".join(chr(ord("A") + self.rng.randrange(26)) for _ in range(2))
            name, kind = letters + self.pick(("MC", "GH", "H", "RMC")), "hosp_acronym"
            generic = self.pick(("", "", " ER", " cath lab"))
        elif r < 0.88:
            name, kind = f"University of {self.fake.state()}", "hosp_university"
            generic = self.pick((" Medical Center", " Hospital", " Med Ctr", ""))
        elif r < 0.94:
            name, kind = f"{self.last()}", "nursing_home"
            generic = self.pick((" House", " Manor", " Nursing Home", " Assisted Living"))
        else:
            name, kind = f"{self.city()} VA", "hosp_va"
            generic = self.pick(("", " hospital", "MC"))
            if generic == "MC":
                name, generic = name + "MC", ""
        if not self.ok(name):
            return self.hosp_fresh()
        text = self.name_case(name)
        gen = generic.lower() if text.islower() else generic
        return [phi(text, "LOCATION", "Location", kind), *([lit(gen, kind)] if gen else [])]

    def s_hosp(self) -> Segs:
        if self.chance(0.5):
            return list(self.cast.hospital)
        return self.hosp_fresh()

    def s_ward(self) -> Segs:
        """An in-house unit named after a building, e.g. "Whitfield 4" ("4" is not PHI)."""
        name = self.name_case(self.last())
        num = self.pick(("2", "3", "4", "5", "6", "7", "9", "2 north", "3S", "5 west"))
        return [phi(name, "LOCATION", "Location", "ward"), lit(" " + num, "ward")]

    def s_city(self) -> Segs:
        return [phi(self.name_case(self.city()), "LOCATION", "Location", "city")]

    def s_cityst(self) -> Segs:
        """ "Springfield, OH": the state is allowed under Safe Harbor and not PHI here."""
        st = self.pick(STATES)
        return [
            phi(self.name_case(self.city()), "LOCATION", "Location", "city_state"),
            lit(", " + st, "state_abbr"),
        ]

    def s_addr(self) -> Segs:
        """Street address: number and street name are PHI, the suffix is not."""
        num = str(self.rng.randint(2, 9899))
        street = (
            self._draw(self.fake.last_name)
            if self.chance(0.5)
            else self._draw(lambda: self.fake.street_name().split()[0])
        )
        suffix = self.pick((" St.", " St", " Ave", " Road", " Rd", " Lane", " Dr", " Blvd"))
        return [
            phi(num, "LOCATION", "Location", "street_number"),
            lit(" "),
            phi(self.name_case(street), "LOCATION", "Location", "street_name"),
            lit(suffix, "street_suffix"),
        ]

    def _month_day(self) -> tuple[int, int]:
        return self.rng.randint(1, 12), self.rng.randint(1, 28)

    def _year(self) -> int:
        return self.rng.randint(1979, 2024)

    def s_md(self) -> Segs:
        m, d = self._month_day()
        text = f"{m:02d}/{d:02d}" if self.chance(0.15) else f"{m}/{d}"
        return [phi(text, "DATE", "Date", "date_md")]

    def s_dfull(self) -> Segs:
        m, d = self._month_day()
        y = self._year()
        r = self.rng.random()
        if r < 0.45:
            return [phi(f"{m}/{d}/{y % 100:02d}", "DATE", "Date", "date_mdyy")]
        if r < 0.75:
            return [phi(f"{m:02d}/{d:02d}/{y}", "DATE", "Date", "date_mdyyyy")]
        if r < 0.88:
            return [phi(f"{m}-{d}-{y % 100:02d}", "DATE", "Date", "date_dashed")]
        return [phi(f"{y}-{m:02d}-{d:02d}", "DATE", "Date", "date_iso")]

    def s_dword(self) -> Segs:
        """Month-name dates: "Oct 20th", "October 3", "20 Oct", "oct. 5, 1992"."""
        m, d = self._month_day()
        month = MONTHS[m - 1] if self.chance(0.4) else MONTH_ABBR[m - 1]
        if self.chance(0.2) and month in MONTH_ABBR and month != "May":
            month += "."
        suffix = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd"}.get(d, "th")
        day = f"{d}{suffix}" if self.chance(0.4) else str(d)
        r = self.rng.random()
        if r < 0.55:
            text, kind = f"{month} {day}", "date_month_day"
        elif r < 0.75:
            text, kind = f"{day} {month}", "date_day_month"
        else:
            text, kind = f"{month} {day}, {self._year()}", "date_month_day_year"
        return [phi(text, "DATE", "Date", kind)]

    def s_nth(self) -> Segs:
        """ "the 3rd", "on the 21st": an ordinal day alone."""
        d = self.rng.randint(1, 30)
        suffix = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd"}.get(d, "th")
        return [lit("the ", "date_ordinal"), phi(f"{d}{suffix}", "DATE", "Date", "date_ordinal")]

    def s_my(self) -> Segs:
        """Month and year: "6/85", "03/2019"."""
        m, y = self.rng.randint(1, 12), self._year()
        text = f"{m}/{y % 100:02d}" if self.chance(0.6) else f"{m:02d}/{y}"
        return [phi(text, "DATE", "Date", "date_month_year")]

    def s_month(self) -> Segs:
        m = self.rng.randint(1, 12)
        return [phi(MONTHS[m - 1], "DATE", "Date", "date_month_only")]

    def s_year(self) -> Segs:
        y = self._year()
        r = self.rng.random()
        if r < 0.35:
            return [
                lit("'", "date_year_apos"),
                phi(f"{y % 100:02d}", "DATE", "DateYear", "date_year_apos"),
            ]
        if r < 0.75:
            return [phi(str(y), "DATE", "DateYear", "date_year4")]
        if r < 0.9:
            return [phi(f"{y % 100:02d}", "DATE", "DateYear", "date_year2")]
        return [
            lit("the ", "date_decade"),
            phi(f"{(y // 10) * 10}s", "DATE", "DateYear", "date_decade"),
        ]

    def s_date(self) -> Segs:
        r = self.rng.random()
        if r < 0.6:
            return self.s_md()
        if r < 0.8:
            return self.s_dfull()
        return self.s_dword()

    def s_phone(self) -> Segs:
        a, b, c = (
            self.rng.randint(201, 989),
            self.rng.randint(201, 989),
            self.rng.randint(0, 9999),
        )
        r = self.rng.random()
        if r < 0.35:
            text, kind = f"{a}-{b}-{c:04d}", "phone_dashed"
        elif r < 0.55:
            text, kind = f"({a}) {b}-{c:04d}", "phone_parens"
        elif r < 0.7:
            text, kind = f"{a} {b}-{c:04d}", "phone_space"
        elif r < 0.82:
            text, kind = f"{b}-{c:04d}", "phone_7digit"
        elif r < 0.9:
            text, kind = f"{a}.{b}.{c:04d}", "phone_dots"
        else:
            text, kind = f"{a}{b}{c:04d}", "phone_10digits"
        return [phi(text, "PHONE", "Phone", kind)]

    def s_pager(self) -> Segs:
        word = self.pick(("pager #", "Pager # ", "pgr ", "beeper ", "pg ", "page at ", "bpr #"))
        n = self.rng.randint(10000, 99999)
        text = f"{n}" if self.chance(0.7) else f"{str(n)[0]}-{str(n)[1:]}"
        return [lit(word, "pager"), phi(text, "PHONE", "Phone", "pager")]

    def s_ext(self) -> Segs:
        word = self.pick(("x", "ext ", "ext. ", "x ", "extension "))
        n = self.rng.randint(1000, 99999)
        text = str(n) if self.chance(0.6) else f"{str(n)[0]}-{str(n)[1:]}"
        return [lit(word, "extension"), phi(text, "PHONE", "Phone", "extension")]

    def s_oldage(self) -> Segs:
        age = self.rng.randint(90, 103)
        unit = self.pick((" yo", " y/o", " YO", " year old", " yr old", "yo", " y.o."))
        return [phi(str(age), "AGE", "Age", "age_over89"), lit(unit, "age_over89")]

    def s_mrn(self) -> Segs:
        word = self.pick(("MRN ", "MR# ", "MRN: ", "unit # ", "acct # "))
        n = self.rng.randint(100000, 9999999)
        text = str(n) if self.chance(0.7) else f"{str(n)[:3]}-{str(n)[3:5]}-{str(n)[5:]}"
        return [lit(word, "id"), phi(text, "ID", "ID", "id")]

    # ------------------------------------------------------------------ non-PHI slots

    def s_age(self) -> Segs:
        age = self.rng.randint(19, 89)
        unit = self.pick((" yo", " y/o", " YO", " year old", " yr old", "yo", " y.o.", " YR OLD"))
        return [lit(f"{age}{unit}", "age_under90")]

    def s_time(self) -> Segs:
        h, m = self.rng.randint(0, 23), self.rng.choice((0, 0, 15, 30, 45, 10, 20, 5))
        r = self.rng.random()
        if r < 0.55:
            t = f"{h:02d}{m:02d}"
        elif r < 0.75:
            t = f"{(h % 12) or 12}:{m:02d}{self.pick(('am', 'pm', ' AM', ' PM', 'a', 'p'))}"
        elif r < 0.9:
            t = f"{(h % 12) or 12}{self.pick(('am', 'pm', 'p', 'a'))}"
        else:
            t = f"{h}:{m:02d}"
        return [lit(t, "time")]

    def s_bp(self) -> Segs:
        s = self.rng.randint(82, 178)
        d = self.rng.randint(38, min(s - 20, 98))
        return [lit(f"{s}/{d}", "bp")]

    def s_hr(self) -> Segs:
        return [lit(str(self.rng.randint(48, 132)), "vital")]

    def s_rr(self) -> Segs:
        return [lit(str(self.rng.randint(10, 34)), "vital")]

    def s_sat(self) -> Segs:
        return [lit(f"{self.rng.randint(88, 100)}%", "vital")]

    def s_temp(self) -> Segs:
        return [lit(f"{self.rng.randint(960, 1029) / 10:.1f}", "vital")]

    def s_drug(self) -> Segs:
        d = self.pick(DRUGS)
        return [lit(d if self.chance(0.5) else d.lower(), "drug")]

    def s_dose(self) -> Segs:
        dose = self.pick(
            (
                "0.5mg",
                "1 mg",
                "2mg",
                "2 mg",
                "4mg",
                "5 mg",
                "10mg",
                "20 mg",
                "40mg",
                "80 mg",
                "1 gm",
                "25mcg",
                "50 mcg",
                "10 units",
                "4 units",
                "20 meq",
                "40meq",
                "2 mcg/kg/min",
                "0.5mcg/kg/min",
                "5 mcg/min",
                "30 mcg/kg/min",
                "100cc/hr",
            )
        )
        return [lit(dose, "dose")]

    def s_lab(self) -> Segs:
        r = self.rng.randrange(9)
        x = self.rng.random()
        val = {
            0: f"K {3 + x * 2:.1f}",
            1: f"Hct {22 + x * 14:.1f}",
            2: f"INR {1 + x * 2:.1f}",
            3: f"WBC {4 + x * 18:.1f}",
            4: f"BUN/Cr {self.rng.randint(12, 90)}/{0.6 + x * 4:.1f}",
            5: f"Mg {1.4 + x:.1f}",
            6: f"glucose {self.rng.randint(8, 30)}0's",
            7: f"cks {self.rng.randint(200, 2900)}-{self.rng.randint(20, 300)}-{x * 9:.1f}",
            8: f"plts {self.rng.randint(40, 400)}",
        }[r]
        return [lit(val, "lab")]

    def s_abg(self) -> Segs:
        ph = 7.2 + self.rng.random() * 0.25
        return [
            lit(
                f"{ph:.2f}/{self.rng.randint(30, 65)}/{self.rng.randint(55, 190)}"
                + (f"/{self.rng.randint(18, 34)}" if self.chance(0.5) else ""),
                "abg",
            )
        ]

    def s_pain(self) -> Segs:
        return [lit(f"{self.rng.randint(0, 10)}/10", "pain_scale")]

    def s_vent(self) -> Segs:
        r = self.rng.randrange(4)
        val = {
            0: f"PS {self.rng.randint(5, 18)}/5",
            1: f"CPAP {self.rng.randint(5, 10)}/5",
            2: f"AC {self.pick(('450', '500', '550', '600'))}x{self.rng.randint(10, 20)} "
            f"peep {self.rng.randint(5, 12)} fio2 {self.rng.randint(4, 10)}0%",
            3: f"SIMV {self.rng.randint(6, 14)}/{self.pick(('500', '600'))}/5",
        }[r]
        return [lit(val, "vent")]

    def s_io(self) -> Segs:
        return [lit(f"{self.rng.randint(800, 3900)}/{self.rng.randint(600, 3900)}", "io")]

    def s_eponym(self) -> Segs:
        return [lit(self.pick(EPONYM_LINES), "eponym")]

    def s_weekday(self) -> Segs:
        day = self.pick(
            (
                "Monday",
                "Tuesday",
                "Wednesday",
                "Thursday",
                "Friday",
                "Saturday",
                "Sunday",
                "the weekend",
                "tomorrow",
            )
        )
        return [lit(day, "weekday")]

    def s_gcs(self) -> Segs:
        return [lit(f"{self.rng.randint(3, 15)}/15", "gcs")]

    def s_strength(self) -> Segs:
        return [lit(f"{self.rng.randint(2, 5)}/5", "strength")]


# --------------------------------------------------------------------------- templates
# Each template is one paragraph. {slot} calls Gen.s_slot; everything else is non-PHI text.
# Sections: H header, N neuro, C cardiac, R resp, G GI/GU, O other systems, S social,
# D dispo/plan, E events (PHI-heavy narrative), Z signature/addendum.

TEMPLATES: dict[str, tuple[str, ...]] = {
    "H": (
        "NPN 7p-7a",
        "Nursing Progress Note {md} 0700-1900",
        "CCU NSG NOTE 7A-7P, {md}",
        "{dfull}, {time}",
        "MICU nursing progress note",
        "Resp care note:",
        "{md} CSRU 7P-7A SHIFT SUMMARY;",
        "NURSING ADMIT NOTE: {age} female admitted from {hosp} s/p fall at home.",
        "Nursing transfer note - pt to {ward} today.",
        "Neuro ICU NPN, {dword} 1900-0700",
        "Patient: {ptfull}   {mrn}",
        "ADDENDUM {time}:",
        "{dword}, {year} 0700->1930",
        "S/O:",
        "Case management note: pt seen with {rel} re: dispo planning.",
    ),
    "N": (
        "Neuro: seen by neuro (Dr. {drlast}), EEG today. Pt asks to be called {relname}'s mom. "
        "Hx of Parkinson's, tremor at baseline.",
        "NEURO: PT JEHOVAH'S WITNESS - NO BLOOD PRODUCTS, CONFIRMED W/ {rel}. A&OX3, MAE.",
        "Neuro: A&Ox3, MAE, PERRL 3mm brisk, follows commands. Denies pain. Will cont to monitor.",
        "NEURO- sedated on propofol @ {dose}, opens eyes to voice, moves all ext. GCS {gcs}.",
        "neuro; pt awake, alert & oriented x2, thinks it is {month} and that he is at home. "
        "Reoriented frequently.",
        "Neuro: Pt confused overnight, pulling at lines, {dose} haldol given at {time} w/ good "
        "effect. Soft wrist restraints on. May need sitter.",
        "neuro: lethargic but arousable. Pain {pain} incisional, dilaudid {dose} iv x2 with "
        "relief to {pain}. Strength {strength} RUE, {strength} LUE.",
        "NEURO: {eponym}. Pt has hope he will go home soon; family also hopeful.",
        "Neuro: pt asking for {rel} all night, reassured. Frank confusion at times, oriented "
        "to self only.",
        "MS: pt states he is in {city} and that it is {year}; not oriented to place or time.",
        'neuro- pt says "I want to see my {relword}", anxious, ativan {dose} po given.',
    ),
    "C": (
        "CV: iabp 1:2, MAP >65. IVF D5 1/2 NS @ 75cc/hr. Discussed w/ attending {dr} and "
        "fellow {dr}; plan to wean pressors.",
        "Cardiac: {dr}'s team in to see pt, echo planned. Hx MI {my}, PTCA {my}. HR {hr}.",
        "CV: HR {hr}-{hr} SR no ectopy, BP {bp}-{bp}. {drug} gtt titrated for SBP >90. "
        "{lab}, repleted.",
        "CARDIAC: NSR 80'S-90'S, RARE PVC'S. BP {bp}. CVP {rr}. {eponym}.",
        "cv: st 100's-110's, sbp 90-110 on neo {dose}. lasix {dose} iv at {time} w/ good "
        "response, {io} i/o for shift.",
        "CV- Afib w/ RVR to 140s at {time}, {drug} {dose} IVP x2, converted to SR at {time}. "
        "Dr {drlast} aware. EKG done.",
        "CV: BP labile {bp}-{bp}, HR {hr}. {lab} -> transfused 1 unit PRBC per {dr}.",
        "cv: iabp 1:1, ci >2, augmenting well. may wean to 1:2 in am per {initlast}.",
        "CV: Pt c/o CP {pain} at {time}, SL NTG x1 w/ relief. EKG unchanged. {initlast} aware, "
        "{lab}.",
        "CV: HR 70's SR. Bp {bp}. Swan d/c'd {time}. Distal pulses palp. Will cont to monitor.",
    ),
    "R": (
        'Resp: ortho resident ({drlast}) in to eval chest wall. Pt says "where is '
        '{relname}?" when coughing. Sats {sat} on 2L.',
        "Resp: LS coarse bilat, sx for mod amts thick tan sputum. Vent {vent}, ABG {abg}.",
        "RESP: WEANED TO {vent} AT {time}, TOL WELL, RR {rr}, SAT {sat}. ABG {abg}.",
        "resp: on 4L NC sats {sat}, lungs dim bases. IS 750. Strong cough, brown sputum.",
        "Resp: extubated at {time} per {dr}, on 50% cool neb, sats {sat}. No stridor.",
        "RESP: Pt desat to 84% at {time}, bagged, sx for large amt white secretions, CXR done, "
        "{dr} called to bedside.",
        "resp- ls clear upper, diminished lower. {vent}. rr teens. Will attempt to wean in am.",
        "Resp: trach care done, site benign, sxn q2h for small amts, O2 sat {sat} on 40% trach "
        "mask. {clin} in to see.",
    ),
    "G": (
        "GI: POD #2, HD #5. NGT d/c'd {time}. Wt 82.5kg (admit wt 79kg). Tol sips, no BM.",
        "GI: abd soft NT/ND, +BS, TF @ goal 60cc/hr, residuals <30. Colace/senna given. "
        "Brown guaiac neg stool x1.",
        "GI/GU: NPO, OGT to LIS draining bilious. Foley draining clear yellow uo 40-60cc/hr.",
        "GU: UO marginal 20-30cc/hr, bolused 500cc NS x1 per {dr}. Labs: {lab}.",
        "gi: tolerating clears, c/o nausea, zofran {dose} iv x1. no bm, + flatus.",
        "GI: MELENA X2 OVERNIGHT, {lab}, GI FELLOW {drlast} AWARE, EGD PLANNED FOR AM.",
        "GU: foley d/c'd at {time}, due to void by {time}. Frank hematuria earlier, now clearing.",
        "Renal: HD today, 2L off. {lab}. Quinton cath L SC intact. Renal fellow aware.",
    ),
    "O": (
        "Received report from {clin} at {time}. Call bell within reach, pt instructed.",
        "ID: S/P UTI {my}, PNA {my}. Cx from OSH {date} neg. Abx: {drug}.",
        "ID: Tmax {temp}, {lab}. On vanco/zosyn. Pan cx'd {md}, pending.",
        "ID: afebrile. BC from {date} + GPC in clusters, ID consult called, {dr} to see.",
        "Endo: FS BS 180-220, RISS. {drug} {dose} sc given at {time}.",
        "Heme: {lab}, 2 FFP given per {initlast}. Heparin gtt held.",
        "Skin: stage II on coccyx, duoderm applied. Heels boggy, pillows used. Pt on air bed.",
        "Access: PIV x2, R IJ TLC placed {md}, L radial a-line. {eponym}.",
        "ENDO: INSULIN GTT @ {dose}, BS 140-180, PER PROTOCOL.",
        "Pain: {pain}, morphine {dose} iv q2h prn with good effect.",
        "Skin: temp rose to {temp} at {time}, cooling blanket on. Marked diaphoresis, pat dry, "
        "linens changed. Pt will need sacral dsg changed.",
        "Lines: art line re-sited, waveform dampened. Moved to isolation bay for MRSA, contact "
        "precautions. Grant of consent for PICC obtained from pt.",
        "Lines: R fem sheath pulled at {time} by {clin}, site D&I, no hematoma.",
    ),
    "S": (
        "Social: PCP is {dr} in {city}. Has Medicare/Medicaid, VNA services at home, Meals on "
        "Wheels. {rel} visits daily.",
        "SOCIAL: CATHOLIC, PRIEST (FATHER {drlast}) IN FOR SACRAMENT OF THE SICK. {rel} "
        "AND {relname} AT BEDSIDE.",
        "Family: {rel} ({phone}) and {rel} - both want to be called w/ any change. HCP "
        "paperwork in chart.",
        "Social: {rel} in to visit, updated by RN and {dr}. Questions answered.",
        "SOCIAL: {rel} CALLED, UPDATED ON CONDITION. PHONE # {phone}.",
        "Social: pt lives w/ {rel} in {city}. Retired from {hosp}. Will need rehab screen.",
        "Social- {rel} is HCP, can be reached at {phone} or at work {phone} {ext}.",
        "SOCIAL: FAMILY MEETING WITH {dr} AND {dr} AT {time}. {rel} AND {rel} PRESENT. "
        "DECISION MADE FOR DNR/DNI.",
        "social: {rel} here from {cityst}, staying at hotel near hospital. {relname} asking "
        "appropriate questions.",
        "Social: married, lives at {addr} in {city} with {rel}. Daughter lives in {city}.",
        "Social: {rel} and {rel} at bedside all evening. Will call {relname} at home if any "
        "change: {phone}.",
        "SOCIAL: {ptfull} - {oldage} widow, lives at {hosp}. Nephew involved.",
        "Social: {rel} visited, brought in pt's glasses. {relname} plans to return {weekday}.",
        "social: no contact from family this shift. {relword} left number w/ unit clerk.",
        "SOCIAL: PT IS RUSSIAN SPEAKING, {rel} INTERPRETING. LIVES IN {city} SINCE {year}.",
    ),
    "D": (
        "Plan: spoke w/ covering MD {drlast} at {time} re: BP, no new orders. Cont "
        "current plan, PT/OT consult, screen for rehab ({hosp} vs {hosp}).",
        "A/P: stable, cont current plan, ? transfer to {ward} when bed available.",
        "PLAN: TRANSFER TO {ward} TODAY. REPORT CALLED TO {clin}.",
        "Plan: d/c to {hosp} in am, {eponym}. Screened by {hosp} liaison today.",
        "P: wean vent as tol, diurese, f/u cx. Dispo: possibly {hosp} next week.",
        "a: hemodynamically stable. p: cont to monitor, pain control, {weekday} cath planned.",
        "Plan: f/u with {dr} in clinic, appt {dword} at {time}; clinic phone {phone}.",
        "Dispo: accepted at {hosp}, transport at {time}, {relname} aware.",
        "PLAN: WILL PAGE {dr} ({pager}) WITH AM LABS.",
        "Plan: case mgmt {clin} following, {pager}. Will call {phone} with bed offer.",
    ),
    "E": (
        "{dword} - admitted to {hosp} with SOB, found to have PNA. {dword} - tx'd here via "
        "ambulance. {md}-{md} intubated.",
        "Pt's name is {ptfull}; goes by {nick} (nickname). Prefers to be addressed as {pt}.",
        "Pt is a {age} with hx CAD, HTN, DM2, s/p CABG x3 {year}, admitted {md} from {hosp} "
        "with CP, ruled in for NSTEMI.",
        "{oldage} female, pmh CHF, afib on coumadin, s/p fall {md} at {hosp}, transferred "
        "to {hosp} for further w/u.",
        "PT IS S/P AVR ON {date}. HX MI IN {year}, CVA {dfull}. ADMITTED TO {hosp} ER {md} "
        "WITH SOB.",
        "Pt went to {hosp} on {md} c/o abd pain, CT showed perf, to OR on {md}, here since "
        "{dword}.",
        "Events: at {time} pt became hypotensive to 70's, {dr} and {dr} at bedside, "
        "{drug} started, bolused 1L LR. BP now {bp}.",
        "Pt seen by {dr} from {hosp} re: transfer back when stable.",
        "hx: pt was at {hosp} {dword}-{dword}, then rehab at {hosp} until {nth}.",
        "Pt c/o {pain} pain, per {relname} this started around {month}. {initlast} aware.",
        "PMH: CVA in {year}, CABG {year}, L TKR {dfull}, cholecystectomy {year}.",
        "Pt states she was born in {city} and moved here in {year}. {rel} from {city} "
        "arriving {weekday}.",
        "{age} M admitted {date} s/p MVC, intubated at scene, medflight from {cityst} to {hosp}.",
        "Code status discussed w/ {pt} and {rel} by {dr}. Pt remains full code.",
        "{pt} is a {age} with ESRD on HD MWF at {hosp} dialysis unit, last HD {md}.",
        "{pt} resting comfortably, will cont to monitor. {pt} asked for {relname} to be called.",
        "Pt notes this is her {rr}th admission since {month}. Last d/c {dword} to {hosp}.",
        "TEE {md}: EF 25%, mod MR. Pt to OR on {nth} per CT surgery ({dr}).",
        "Cath {md} @ {hosp}: 3VD. Pt refused CABG at that time; now agrees after talking w/ {rel}.",
        "Hx: {oldage} w/ dementia from {hosp}, baseline A&Ox1, DNR/DNI per HCP ({rel}, {phone}).",
        "Pt was in {city} visiting {rel} last week when sx began; seen at {hosp} and sent here.",
        "Micro called {time}: sputum from {md} + MRSA. {dr} notified, {clin} aware.",
    ),
    "Z": (
        "{sig}",
        "{sig}",
        "{sig}",
        "Addendum: {relname} called at {time}, updated. Will call back at {phone} {ext}.",
        "ADDENDUM: NOTES WRITTEN AT {time} REFER TO {pt}, NOT THIS PT. PLEASE DISREGARD.",
        "{pager} for questions.",
        "- {initlast}, RN, {pager}",
        "",
    ),
}

_SLOT = re.compile(r"\{(\w+)\}")


def render(gen: Gen, template: str) -> Segs:
    out: Segs = []
    pos = 0
    for m in _SLOT.finditer(template):
        if m.start() > pos:
            out.append(lit(template[pos : m.start()]))
        method: Callable[[], Segs] = getattr(gen, "s_" + m.group(1))
        out.extend(method())
        pos = m.end()
    if pos < len(template):
        out.append(lit(template[pos:]))
    return out


def _apply_case(segs: Segs, case: str) -> Segs:
    if case == "mixed":
        return segs
    f = str.upper if case == "upper" else str.lower
    return [Segment(f(s.text), s.label, s.orig_label, s.kind) for s in segs]


def _merge(segs: Segs) -> tuple[Segment, ...]:
    """Join neighbouring non-PHI segments of the same kind (smaller, same text)."""
    out: list[Segment] = []
    for s in segs:
        if not s.text:
            continue
        if out and s.label is None and out[-1].label is None and out[-1].kind == s.kind:
            out[-1] = Segment(out[-1].text + s.text, None, "", s.kind)
        else:
            out.append(s)
    return tuple(out)


def make_note(gen: Gen, note_id: str) -> Note:
    rng = gen.rng
    gen.cast = gen.new_cast()
    r = rng.random()
    case = "upper" if r < 0.33 else "lower" if r < 0.55 else "mixed"
    gen.case = case
    style = rng.random()
    paras: list[str] = []
    if style < 0.7:  # systems note
        if rng.random() < 0.8:
            paras.append(gen.pick(TEMPLATES["H"]))
        if rng.random() < 0.5:
            paras.append(gen.pick(TEMPLATES["E"]))
        for sec in "NCRGO":
            if rng.random() < 0.75:
                paras.append(gen.pick(TEMPLATES[sec]))
        if rng.random() < 0.45:
            paras.append(gen.pick(TEMPLATES["O"]))
        if rng.random() < 0.75:
            paras.append(gen.pick(TEMPLATES["S"]))
        if rng.random() < 0.75:
            paras.append(gen.pick(TEMPLATES["D"]))
    else:  # short narrative note: event/social/plan heavy
        if rng.random() < 0.5:
            paras.append(gen.pick(TEMPLATES["H"]))
        for sec in rng.sample("EESDRC", k=rng.randint(2, 4)):
            paras.append(gen.pick(TEMPLATES[sec]))
    if rng.random() < 0.7:
        paras.append(gen.pick(TEMPLATES["Z"]))
    sep = gen.pick((" \n \n", " \n", "\n\n", " \n \n "))
    segs: Segs = []
    for i, p in enumerate(x for x in paras if x):
        if i:
            segs.append(lit(sep))
        segs.extend(render(gen, p))
    segs.append(lit(gen.pick((" \n\n", "\n", "\n\n"))))
    return Note(note_id, _merge(_apply_case(segs, case)), case)


# Structural words of facility names: allowed even if a dev place name contains them.
GENERIC_WORDS = frozenset(
    {
        "memorial",
        "adventist",
        "general",
        "regional",
        "community",
        "baptist",
        "methodist",
        "st",
        "saint",
        "university",
        "of",
        "the",
        "hospital",
        "hosp",
        "medical",
        "center",
        "ctr",
        "med",
        "rehab",
        "house",
        "manor",
        "va",
        "vamc",
        "mc",
        "gh",
    }
)


def load_exclusions(path: str | Path) -> frozenset[str]:
    """Lower-cased \\w+ tokens of every NAME/LOCATION gold span in a JSONL corpus.

    Generic facility words ("Memorial", "St", "of") are kept out of the list: only the
    distinctive name parts are excluded.
    """
    out: set[str] = set()
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            rec = json.loads(line)
            for s in rec["spans"]:
                if s["label"] in ("NAME", "LOCATION", "OTHER"):
                    out.update(t.lower() for t in re.findall(r"\w+", s["text"]) if len(t) > 1)
    return frozenset(out - GENERIC_WORDS)


def generate(n: int, seed: int, exclude: frozenset[str] = frozenset()) -> list[Note]:
    gen = Gen(seed, exclude)
    return [make_note(gen, f"synth_{seed}_{i:04d}") for i in range(n)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--n", type=int, default=400, help="number of notes (default 400)")
    ap.add_argument("--seed", type=int, default=20261124)
    ap.add_argument("--exclude-gold", metavar="JSONL", help="never use names/places of this gold")
    ap.add_argument("-o", "--output", default="-", help="output JSONL (default stdout)")
    args = ap.parse_args(argv)
    exclude = load_exclusions(args.exclude_gold) if args.exclude_gold else frozenset()
    notes = generate(args.n, args.seed, exclude)
    lines = "".join(json.dumps(to_record(n), ensure_ascii=False) + "\n" for n in notes)
    if args.output == "-":
        sys.stdout.write(lines)
    else:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(lines, encoding="utf-8")
        n_spans = sum(len(n.spans()) for n in notes)
        print(f"wrote {len(notes)} notes, {n_spans} spans to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

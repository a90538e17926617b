"""The synthetic notes' data model (segments that know their gold label) and hand word lists.

Part of tools/synth_notes.py (see its docstring).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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

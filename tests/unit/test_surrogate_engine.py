"""Surrogates through the engine, as a note sees them: dates in many formats keep their
intervals and move by the patient's offset; a person's name in many forms maps to one
surrogate; every note comes back byte for byte from its replacements.

The names below are common US census names chosen for the test, not taken from any corpus.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from phiguard.spans import Span
from phiguard.surrogates import Scopes, date_offset
from phiguard.transform import Policy, Transformed, apply, restore

KEY = bytes(range(1, 33))

# (how the test writes a date, how it reads one back): the reader is strptime's own.
DATE_FORMATS: list[tuple[Callable[[date], str], str]] = [
    (lambda d: d.strftime("%m/%d/%Y"), "%m/%d/%Y"),
    (lambda d: f"{d.month}/{d.day}/{d.year}", "%m/%d/%Y"),
    (lambda d: d.strftime("%m-%d-%Y"), "%m-%d-%Y"),
    (lambda d: d.strftime("%Y-%m-%d"), "%Y-%m-%d"),
    (lambda d: d.strftime("%m/%d/%y"), "%m/%d/%y"),
    (lambda d: f"{d:%B} {d.day}, {d.year}", "%B %d, %Y"),
    (lambda d: f"{d:%b} {d.day} {d.year}", "%b %d %Y"),
    (lambda d: f"{d.day} {d:%B} {d.year}", "%d %B %Y"),
    (lambda d: f"{d:%d-%b-%Y}".upper(), "%d-%b-%Y"),
    (lambda d: f"{d:%A}, {d:%B} {d.day}, {d.year}", "%A, %B %d, %Y"),
]


def parse(text: str, fmt: str) -> date:
    """strptime, where "May" may have been abbreviated ("May" is both forms)."""
    try:
        return datetime.strptime(text, fmt).date()
    except ValueError:
        return datetime.strptime(text, fmt.replace("%b", "%B")).date()


def back(t: Transformed) -> str:
    return restore(t.text, [(r.offset, r.token, r.value) for r in t.replacements])


def with_spans(parts: list[tuple[str, str | None]]) -> tuple[str, list[Span]]:
    """Text from (piece, type) parts; a typed piece becomes a span."""
    text, spans = "", []
    for piece, phi_type in parts:
        if phi_type is not None:
            spans.append(Span(len(text), len(text) + len(piece), phi_type))
        text += piece
    return text, spans


@settings(max_examples=200, deadline=None)
@given(
    first=st.dates(date(1935, 1, 1), date(2025, 12, 31)),
    gaps=st.lists(st.integers(0, 400), min_size=1, max_size=4),
    fmt=st.sampled_from(DATE_FORMATS),
    patient=st.text(alphabet="0123456789abcdef-", min_size=1, max_size=12),
    keep_weekday=st.booleans(),
)
def test_a_patients_dates_in_any_format_keep_their_intervals(
    first: date,
    gaps: list[int],
    fmt: tuple[Callable[[date], str], str],
    patient: str,
    keep_weekday: bool,
) -> None:
    write, read = fmt
    dates = [first]
    for g in gaps:
        dates.append(dates[-1] + timedelta(days=g))
    if read.endswith("%y"):  # strptime reads '69-'99 as 19xx, phiguard 1930-2029: agree here
        dates = [d for d in dates if 1970 <= d.year <= 2029]
    parts: list[tuple[str, str | None]] = [("Admitted ", None)]
    for d in dates:
        parts += [(write(d), "DATE"), (", then ", None)]
    text, spans = with_spans(parts)
    policy = Policy.surrogate().with_dates(keep_weekday=keep_weekday)
    scopes = Scopes(KEY, keep_weekday=keep_weekday)
    t = apply(text, spans, policy, surrogates=scopes.for_note(text, patient))
    offset = date_offset(KEY, patient, keep_weekday=keep_weekday)
    assert offset != 0 and (offset % 7 == 0 or not keep_weekday)
    moved = [parse(r.token, read) for r in t.replacements]
    assert len(moved) == len(dates), "every full date is shifted, none becomes a label"
    assert [m - d for m, d in zip(moved, dates, strict=True)] == [timedelta(days=offset)] * len(
        dates
    )
    assert back(t) == text


NAME_FORMS: list[tuple[str, str]] = [
    # (how the name is written, a regex reading the surrogate's given name and surname)
    ("{F} {L}", r"(?P<f>\S+) (?P<l>\S+)"),
    ("{L}, {F}", r"(?P<l>[^,]+), (?P<f>\S+)"),
    ("Mr. {L}", r"Mr\. (?P<l>\S+)"),
    ("{I}. {L}", r"(?P<i>\w)\. (?P<l>\S+)"),
    ("Dr. {F} {L} Jr.", r"Dr\. (?P<f>\S+) (?P<l>\S+) Jr\."),
]
GIVEN = ["Carlos", "Maria", "James", "Linda", "Robert", "Patricia", "Michael", "Barbara"]
SURNAMES = ["Salazar", "Johnson", "Miller", "Garcia", "Wilson", "Anderson", "Thompson", "Moore"]
CASES: dict[str, Callable[[str], str]] = {
    "title": str.title,
    "upper": str.upper,
    "lower": str.lower,
}


@settings(max_examples=150, deadline=None)
@given(
    given_name=st.sampled_from(GIVEN),
    surname=st.sampled_from(SURNAMES),
    forms=st.lists(st.sampled_from(NAME_FORMS), min_size=2, max_size=5),
    case=st.sampled_from(list(CASES)),
    patient=st.sampled_from(["p1", "p2", None]),
)
def test_a_persons_name_in_any_form_maps_to_one_surrogate(
    given_name: str,
    surname: str,
    forms: list[tuple[str, str]],
    case: str,
    patient: str | None,
) -> None:
    cased = CASES[case]
    parts: list[tuple[str, str | None]] = [("Seen by ", None)]
    for form, _ in forms:
        written = form.format(F=given_name, L=surname, I=given_name[0])
        if case != "title":  # titles and suffixes follow the note's case too
            written = cased(written)
        parts += [(written, "NAME"), ("; ", None)]
    text, spans = with_spans(parts)
    t = apply(text, spans, Policy.surrogate(), surrogates=Scopes(KEY).for_note(text, patient))
    assert back(t) == text
    assert len(t.replacements) == len(forms), "every form is replaced"
    surnames, givens, initials = set(), set(), set()
    for r, (_, reader) in zip(t.replacements, forms, strict=True):
        m = re.fullmatch(reader, r.token, re.IGNORECASE)
        assert m, (r.token, reader)
        found = m.groupdict()
        surnames.add(found["l"])
        if found.get("f"):
            givens.add(found["f"])
        if found.get("i"):
            initials.add(found["i"])
        for word in found.values():  # the case style stays ("McAdoo" is Title style)
            if word and len(word) > 1:
                style = {"upper": word.isupper(), "lower": word.islower()}
                assert style.get(case, word[0].isupper() and not word.isupper()), word
    assert len({s.lower() for s in surnames}) == 1, "one surname surrogate in every form"
    assert surname.lower() not in {s.lower() for s in surnames}
    assert len({g.lower() for g in givens}) <= 1
    assert given_name.lower() not in {g.lower() for g in givens}
    if givens and initials:  # "C. Salazar" becomes the initial of the surrogate given name
        assert {i.lower() for i in initials} == {next(iter(givens))[0].lower()}

"""Date shifting: the shifted date is exactly `days` away and written in the original's format.

The hypothesis tests render a random date in a random format, shift it, and compare with the
same format rendering of date + days. Where the original does not show its zero padding
("11/25/2012" could be padded or not) every padding that renders the original is accepted.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phiguard.surrogates import DateShift, date_offset, shift_date
from phiguard.surrogates.dates import DEFAULT_REFERENCE, MONTHS, WEEKDAYS

KEY = bytes(range(32))


def ordinal(day: int) -> str:
    if 11 <= day <= 13:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def cased(word: str, case: str) -> str:
    return {"upper": word.upper(), "lower": word.lower(), "title": word.title()}[case]


@dataclass(frozen=True)
class Fmt:
    """How a date is written; `render` is the test's own, independent writer."""

    layout: str  # "mdy", "dmy", "ymd", "md", "my", "word_mdy", "word_dmy", "word_md", "word_my"
    sep: str = "/"
    pad_day: bool = False
    pad_month: bool = False
    year: str = "4"  # "4", "2", "apos"
    month_style: str = "full"  # "full", "abbr", "abbr."
    case: str = "title"
    ordinal: str = ""  # "", "lower", "upper"
    weekday: str = ""  # "", "full", "abbr"

    def _day(self, d: date) -> str:
        text = f"{d.day:02d}" if self.pad_day else str(d.day)
        if self.ordinal:
            suffix = ordinal(d.day)
            text += suffix.upper() if self.ordinal == "upper" else suffix
        return text

    def _year(self, d: date) -> str:
        if self.year == "4":
            return str(d.year)
        return ("'" if self.year == "apos" else "") + f"{d.year % 100:02d}"

    def _month_word(self, d: date) -> str:
        name = MONTHS[d.month - 1]
        if self.month_style != "full":
            name = name[:3] + ("." if self.month_style == "abbr." else "")
        return cased(name, self.case)

    def render(self, d: date) -> str:
        m = f"{d.month:02d}" if self.pad_month else str(d.month)
        day, year, s = self._day(d), self._year(d), self.sep
        body = {
            "mdy": f"{m}{s}{day}{s}{year}",
            "dmy": f"{day}{s}{m}{s}{year}",
            "ymd": f"{year}{s}{m}{s}{day}",
            "md": f"{m}{s}{day}",
            "my": f"{m}{s}{year}",
            "word_mdy": f"{self._month_word(d)} {day}, {year}",
            "word_dmy": f"{day} {self._month_word(d)} {year}",
            "word_md": f"{self._month_word(d)} {day}",
            "word_my": f"{self._month_word(d)} {year}",
        }[self.layout]
        if self.weekday:
            name = WEEKDAYS[d.weekday()]
            name = name if self.weekday == "full" else name[:3]
            body = f"{cased(name, self.case)}, {body}"
        return body


def allowed_outputs(fmt: Fmt, original: date, shifted: date) -> set[str]:
    """Renderings of `shifted` in every format that renders `original` the same way: the
    padding "11/25" does not show, the style "May" does not show (full or abbreviated)."""
    text = fmt.render(original)
    out = set()
    styles = ("full", "abbr", "abbr.")
    for pd, pm, style in itertools.product((False, True), (False, True), styles):
        variant = replace(fmt, pad_day=pd, pad_month=pm, month_style=style)
        if variant.render(original) == text:
            out.add(variant.render(shifted))
    return out


NUMERIC = ("mdy", "dmy", "ymd")
WORD = ("word_mdy", "word_dmy")


@st.composite
def formats(draw: st.DrawFn, layouts: tuple[str, ...]) -> Fmt:
    layout = draw(st.sampled_from(layouts))
    word = layout.startswith("word")
    return Fmt(
        layout=layout,
        sep=" " if word else draw(st.sampled_from(["/", "-", "."])),
        pad_day=draw(st.booleans()),
        pad_month=draw(st.booleans()),
        year="4" if layout == "ymd" else draw(st.sampled_from(["4", "2", "apos"])),
        month_style=draw(st.sampled_from(["full", "abbr", "abbr."])),
        case=draw(st.sampled_from(["title", "upper", "lower"])),
        ordinal=draw(st.sampled_from(["", "lower", "upper"])) if word else "",
        weekday=draw(st.sampled_from(["", "full", "abbr"])),
    )


OFFSETS = st.integers(min_value=-700, max_value=700).filter(bool)
# Two-digit years read as 1930-2029: keep dates and their shifts inside that window.
FULL_DATES = st.dates(min_value=date(1932, 1, 1), max_value=date(2027, 12, 31))


@settings(max_examples=300, deadline=None)
@given(d=FULL_DATES, fmt=formats(NUMERIC + WORD), days=OFFSETS)
def test_full_date_moves_exactly_and_keeps_its_format(d: date, fmt: Fmt, days: int) -> None:
    original = fmt.render(d)
    out = DateShift(days, day_first=fmt.layout == "dmy").shift(original)
    assert out in allowed_outputs(fmt, d, d + timedelta(days=days)), (original, out)


@settings(max_examples=150, deadline=None)
@given(
    d=st.dates(min_value=date(2000, 1, 1), max_value=date(2000, 12, 31)),
    fmt=formats(("md", "word_md")),
    days=OFFSETS,
)
def test_month_day_moves_within_the_reference_year(d: date, fmt: Fmt, days: int) -> None:
    fmt = replace(fmt, weekday="")  # a weekday needs the year
    original = fmt.render(d)
    out = DateShift(days).shift(original)  # default reference: 2000-01-01 (leap year)
    assert out in allowed_outputs(fmt, d, d + timedelta(days=days)), (original, out)


@settings(max_examples=100, deadline=None)
@given(d=FULL_DATES, fmt=formats(("my", "word_my")), days=OFFSETS)
def test_month_year_moves_from_mid_month(d: date, fmt: Fmt, days: int) -> None:
    # "1/01" and "May 12" read as month/day: a two-digit year needs its apostrophe here.
    fmt = replace(fmt, weekday="", ordinal="", year="apos" if fmt.year == "2" else fmt.year)
    mid = d.replace(day=15)
    out = DateShift(days).shift(fmt.render(mid))
    assert out in allowed_outputs(fmt, mid, mid + timedelta(days=days))


def test_the_shift_is_exact_across_a_patients_dates_in_different_formats() -> None:
    shift = DateShift(date_offset(KEY, "patient-7"))
    admitted = shift.shift("02/03/2012")
    discharged = shift.shift("Feb 9th, 2012")
    assert admitted is not None and discharged is not None
    a = date(int(admitted[6:]), int(admitted[:2]), int(admitted[3:5]))
    month, day_suffix, year = discharged.replace(",", "").split()
    b = date(int(year), MONTHS.index(next(m for m in MONTHS if m.startswith(month.lower()))) + 1,
             int(day_suffix[:-2]))  # fmt: skip
    assert (b - a).days == 6


@pytest.mark.parametrize(
    ("original", "days", "expected"),
    [
        ("Oct 20th", -100, "Jul 12th"),  # ordinal recomputed
        ("Oct 20th", -19, "Oct 1st"),
        ("the 11th", -8, "the 3rd"),  # day alone: in the reference month (January 2000)
        ("3/4", -4, "2/29"),  # the reference year is a leap year
        ("SEPT 3RD", 30, "OCT 3RD"),
        ("Sept 3", 1, "Sept 4"),
        ("Monday", 3, "Thursday"),  # weekday alone: by the offset modulo 7
        ("Thurs Oct 2", 4, "Mon Oct 6"),
        ("2012-03-04T14:30:00Z", -4, "2012-02-29T14:30:00Z"),  # the time stays
        ("03/04/2012 14:30", 1, "03/05/2012 14:30"),
        ("20120304", -4, "20120229"),
        ("3/12-3/14", 2, "3/14-3/16"),  # a range: both ends
        ("04-MAR-12", 1, "05-MAR-12"),
        ("25/12/2012", 7, "1/1/2013"),  # 25 cannot be a month: day first
        ("3/'92", 31, "4/'92"),
    ],
)
def test_formats(original: str, days: int, expected: str) -> None:
    assert shift_date(original, days) == expected


@pytest.mark.parametrize(
    ("original", "days", "expected"),
    [
        ("2012", -364, "2012"),  # under a whole year: the year stays
        ("2012", -365, "2011"),
        ("2012", 800, "2014"),
        ("'92", -730, "'90"),
        ("92", -365, "91"),  # a two-digit year alone
        ("1990s", -3650, "1980s"),
    ],
)
def test_lone_years_move_by_the_whole_years_of_the_offset(
    original: str, days: int, expected: str
) -> None:
    assert shift_date(original, days) == expected


@pytest.mark.parametrize(
    "value", ["02/30/2012", "2/31", "next week", "14:30", "yesterday", "Christmas", "13/13/2012",
              "3rd 4th", "", "March 4, 2012 at noon"],
)  # fmt: skip
def test_unreadable_dates_give_none(value: str) -> None:
    assert shift_date(value, -10) is None


def test_a_custom_reference_year_changes_month_day_arithmetic() -> None:
    assert shift_date("3/1", -1) == "2/29"  # 2000 is a leap year
    assert shift_date("3/1", -1, reference=date(2013, 1, 1)) == "2/28"
    assert DEFAULT_REFERENCE.year % 4 == 0


def test_zero_shift_is_refused() -> None:
    with pytest.raises(ValueError):
        DateShift(0)


# -- offsets -----------------------------------------------------------------------------


def test_offset_is_keyed_deterministic_and_in_range() -> None:
    offsets = [date_offset(KEY, f"p{i}") for i in range(2000)]
    assert offsets == [date_offset(KEY, f"p{i}") for i in range(2000)]
    assert all(-365 <= o <= -1 for o in offsets)
    assert len(set(offsets)) > 300  # spread over the range
    other_key = [date_offset(bytes(32), f"p{i}") for i in range(2000)]
    assert sum(a == b for a, b in zip(offsets, other_key, strict=True)) < 40


def test_offset_is_uniform_and_never_zero() -> None:
    counts = Counter(date_offset(KEY, str(i), -3, 3) for i in range(14_000))
    assert set(counts) == {-3, -2, -1, 1, 2, 3}
    assert max(counts.values()) - min(counts.values()) < 350  # ~2333 each


def test_keep_weekday_offsets_are_multiples_of_seven() -> None:
    offsets = {date_offset(KEY, str(i), keep_weekday=True) for i in range(500)}
    assert all(o % 7 == 0 and -365 <= o < 0 for o in offsets)
    assert len(offsets) > 40
    d = date(2012, 3, 4)
    for o in offsets:
        assert (d + timedelta(days=o)).weekday() == d.weekday()


def test_date_shift_for_a_patient_uses_the_keyed_offset() -> None:
    shift = DateShift.keyed(KEY, "p1", min_days=-30, max_days=30, keep_weekday=True)
    assert shift.days == date_offset(KEY, "p1", -30, 30, keep_weekday=True)
    assert shift.days % 7 == 0 and shift.days != 0
    assert DateShift.keyed(KEY, "n1", kind="note").days == date_offset(KEY, "n1", kind="note")


def test_note_offsets_are_a_separate_domain() -> None:
    same = sum(
        date_offset(KEY, str(i)) == date_offset(KEY, str(i), kind="note") for i in range(1000)
    )
    assert same < 20


@pytest.mark.parametrize(("lo", "hi"), [(0, 0), (5, 1), (-6, 6)])
def test_empty_ranges_are_refused(lo: int, hi: int) -> None:
    with pytest.raises(ValueError):
        date_offset(KEY, "p", lo, hi, keep_weekday=(lo, hi) == (-6, 6))


def test_short_keys_are_refused() -> None:
    with pytest.raises(ValueError):
        date_offset(b"short", "p")

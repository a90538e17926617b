"""Date shifting that keeps the original's format exactly.

A date-like string is split into tokens: numbers (with an ordinal suffix or not), month and
weekday words, an apostrophe year ('92), fillers ("the", "of", "on") and separators. Each
number gets a role (day, month, year) from its width and place: a 4-digit first number is a
year (ISO "2012-03-04"), otherwise month/day/year (US order, or day/month/year when the caller
says so or the first number cannot be a month), a month word leaves the numbers to be day
and year. The shifted date is then written back into the same tokens: same separators, same
zero padding, the month and weekday in the same form (full, abbreviated) and case, the ordinal
suffix recomputed for the new day, two-digit years as two digits.

Partial dates shift within the caller's reference (default 2000-01-01, a leap year, so Feb 29
parses): month/day in the reference year, "the 11th" in its month, month/year and a month
alone from the 15th (the middle, so the month moves by the nearest amount). A year alone
moves by the whole-year part of the offset (days / 365 toward zero), so all of a patient's
lone years (and decades, "1990s") move alike; a two-digit number alone is such a year. A
weekday moves by the offset modulo 7. A range ("3/12-3/14") moves both ends. Else: None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from phiguard.surrogates.casing import apply_case, case_of
from phiguard.surrogates.offsets import (
    DEFAULT_MAX_DAYS,
    DEFAULT_MIN_DAYS,
    OffsetKind,
    date_offset,
)

MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_LONG_WEEKDAY_ABBR = ("mon", "tues", "wed", "thurs", "fri", "sat", "sun")
_MONTH_OF = {m: i + 1 for i, m in enumerate(MONTHS)} | {m[:3]: i + 1 for i, m in enumerate(MONTHS)}
_MONTH_OF["sept"] = 9
_WEEKDAY_OF = (
    {d: i for i, d in enumerate(WEEKDAYS)}
    | {d[:3]: i for i, d in enumerate(WEEKDAYS)}
    | {"tues": 1, "tue": 1, "weds": 2, "thur": 3, "thurs": 3}
)
_FILLERS = frozenset({"the", "of", "on"})
DEFAULT_REFERENCE = date(2000, 1, 1)
LONE_YEARS = range(1800, 2200)
_TWO_DIGIT_PIVOT = 30  # '30-'99 -> 1930-1999, '00-'29 -> 2000-2029

_TOKEN = re.compile(
    r"(?P<apos>['\u2018\u2019]\d\d)(?!\d)"
    r"|(?P<num>\d+)(?P<ord>(?:st|nd|rd|th)(?![a-z]))?"
    r"|(?P<word>[a-z]+)"
    r"|(?P<sep>[\s,./\-]+)"
    r"|(?P<bad>.)",
    re.IGNORECASE | re.DOTALL,
)
# A time after the date ("03/04/2012 14:30", "2012-03-04T14:30:00Z") stays as written.
_TIME_TAIL = re.compile(
    r"(?:[\s,T@]+(?:at\s+)?)\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s*[ap]\.?m\.?)?"
    r"(?:\s*(?:Z|[+-]\d\d:?\d\d|UTC|GMT|[ECMP][SD]T))?\s*$",
    re.IGNORECASE,
)


_RANGE = re.compile(r"\s*(?:-|\u2013|\u2014|\b(?:to|through|thru|until)\b)\s*", re.IGNORECASE)
_DECADE = re.compile(r"(\d{3}0)([sS])")


@dataclass(slots=True)
class _Num:
    index: int
    text: str
    suffix: str  # ordinal suffix as written, or ""


@dataclass(slots=True)
class _Date:
    """What was read, and at which token index; the render overwrites those tokens."""

    parts: list[str]
    day: int | None = None
    day_at: int = -1
    month: int | None = None
    month_at: int = -1
    month_word: bool = False
    year: int | None = None
    year_at: int = -1
    year_form: str = ""  # "4", "2", "apos" or "compact"
    weekday: int | None = None
    weekday_at: int = -1
    nums: list[_Num] = field(default_factory=list)


def _tokenize(core: str) -> _Date | None:
    d = _Date(parts=[])
    for m in _TOKEN.finditer(core):
        i = len(d.parts)
        d.parts.append(m.group())
        if m.group("bad") is not None:
            return None
        if m.group("num") is not None:
            d.nums.append(_Num(i, m.group("num"), m.group("ord") or ""))
        elif m.group("apos") is not None:
            if d.year is not None:
                return None
            d.year, d.year_at, d.year_form = _century(int(m.group()[1:])), i, "apos"
        elif (word := m.group("word")) is not None:
            low = word.lower()
            if low in _MONTH_OF and d.month is None:
                d.month, d.month_at, d.month_word = _MONTH_OF[low], i, True
            elif low in _WEEKDAY_OF and d.weekday is None:
                d.weekday, d.weekday_at = _WEEKDAY_OF[low], i
            elif low not in _FILLERS:
                return None
    return d


def _century(yy: int) -> int:
    return 1900 + yy if yy >= _TWO_DIGIT_PIVOT else 2000 + yy


def _set_year(d: _Date, n: _Num) -> None:
    d.year_at = n.index
    if len(n.text) == 4:
        d.year, d.year_form = int(n.text), "4"
    else:
        d.year, d.year_form = _century(int(n.text)), "2"


def _with_month_word(d: _Date, plain: list[_Num]) -> bool:
    for n in plain:
        if len(n.text) == 4 and d.year is None:
            _set_year(d, n)
        elif len(n.text) <= 2 and d.day is None and 1 <= int(n.text) <= 31:
            d.day, d.day_at = int(n.text), n.index
        elif len(n.text) == 2 and d.year is None:
            _set_year(d, n)
        else:
            return False
    return True


def _month_day(d: _Date, a: _Num, b: _Num, day_first: bool) -> bool:
    orders = ((b, a), (a, b)) if day_first else ((a, b), (b, a))
    for month, day in orders:
        if 1 <= int(month.text) <= 12 and 1 <= int(day.text) <= 31:
            d.month, d.month_at, d.day, d.day_at = (
                int(month.text),
                month.index,
                int(day.text),
                day.index,
            )
            return True
    return False


def _numeric(d: _Date, plain: list[_Num], day_first: bool) -> bool:
    widths = [len(n.text) for n in plain]
    if len(plain) == 1:
        (n,) = plain
        if widths in ([4], [2]) and d.year is None and (widths == [2] or int(n.text) in LONE_YEARS):
            _set_year(d, n)  # "1992", or "92" standing alone: a year written without its '
            return True
        if widths == [8] and d.year is None:  # 20120304
            d.year, d.month, d.day = int(n.text[:4]), int(n.text[4:6]), int(n.text[6:])
            d.year_at = d.month_at = d.day_at = n.index
            d.year_form = "compact"
            return True
        if widths[0] <= 2 and d.year_form == "apos" and 1 <= int(n.text) <= 12:  # 3/'92
            d.month, d.month_at = int(n.text), n.index
            return True
        return False
    if len(plain) == 2:
        a, b = plain
        if d.year is None and widths[0] == 4 and widths[1] <= 2:  # 2012-03
            _set_year(d, a)
            d.month, d.month_at = int(b.text), b.index
            return 1 <= d.month <= 12
        if d.year is None and widths[1] == 4 and widths[0] <= 2:  # 03/2012
            _set_year(d, b)
            d.month, d.month_at = int(a.text), a.index
            return 1 <= d.month <= 12
        if max(widths) <= 2:
            if _month_day(d, a, b, day_first):
                return True
            if d.year is None and widths[1] == 2 and 1 <= int(a.text) <= 12:  # 3/92
                _set_year(d, b)
                d.month, d.month_at = int(a.text), a.index
                return True
        return False
    if len(plain) == 3 and d.year is None:
        a, b, c = plain
        if widths[0] == 4 and max(widths[1:]) <= 2:  # 2012-03-04
            _set_year(d, a)
            d.month, d.month_at, d.day, d.day_at = int(b.text), b.index, int(c.text), c.index
            return True
        if max(widths[:2]) <= 2 and widths[2] in (2, 4):
            _set_year(d, c)
            return _month_day(d, a, b, day_first)
    return False


def _read(core: str, day_first: bool) -> _Date | None:
    d = _tokenize(core)
    if d is None:
        return None
    ordinals = [n for n in d.nums if n.suffix]
    plain = [n for n in d.nums if not n.suffix]
    if len(ordinals) > 1:
        return None
    if ordinals:
        d.day, d.day_at = int(ordinals[0].text), ordinals[0].index
        if not 1 <= d.day <= 31:
            return None
    if d.month_word:
        ok = _with_month_word(d, plain)
    elif ordinals:
        ok = not plain and d.year is None  # "the 11th"
    elif plain:
        ok = _numeric(d, plain, day_first)
    else:
        ok = d.year is not None or d.weekday is not None  # "'92", "Monday"
    return d if ok else None


def _pads(d: _Date) -> tuple[bool, bool]:
    """Zero padding for (day, month): as written where the token shows it (a leading zero, or a
    single digit), else as the other number shows, else padded only in year-first dates."""
    tokens = {"day": d.parts[d.day_at] if d.day_at >= 0 and d.day is not None else ""}
    if d.month_at >= 0 and not d.month_word:
        tokens["month"] = d.parts[d.month_at]
    shown: dict[str, bool] = {}
    for role, tok in tokens.items():
        digits = tok.rstrip("stndrhSTNDRH")
        if len(digits) == 1:
            shown[role] = False
        elif len(digits) == 2 and digits[0] == "0":
            shown[role] = True
    evidence = set(shown.values())
    if len(evidence) == 1:
        default = evidence.pop()
    else:
        default = bool(d.nums) and d.nums[0].index == d.year_at and len(d.nums) > 1
    return shown.get("day", default), shown.get("month", default)


def _ordinal(day: int) -> str:
    if 11 <= day % 100 <= 13:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _month_word(original: str, month: int, dotted: bool) -> str:
    low = original.lower()
    full = low in MONTHS and not (low == "may" and (original.isupper() or dotted))
    name = MONTHS[month - 1]
    if full:
        out = name
    elif low == "sept" and month == 9:
        out = "sept"
    else:
        out = name[:3]
    return apply_case(out, case_of(original))


def _weekday_word(original: str, weekday: int) -> str:
    low = original.lower()
    if low in WEEKDAYS:
        out = WEEKDAYS[weekday]
    elif len(low) == 3:
        out = WEEKDAYS[weekday][:3]
    else:
        out = _LONG_WEEKDAY_ABBR[weekday]
    return apply_case(out, case_of(original))


def _shifted(d: _Date, days: int, reference: date) -> tuple[int | None, int | None, int | None]:
    """(year, month, day) after the shift; None where the original had no such part."""
    delta = timedelta(days=days)
    y, m, dd = d.year, d.month, d.day
    if m is not None and dd is not None:
        new = date(y if y is not None else reference.year, m, dd) + delta
        return (new.year if y is not None else None), new.month, new.day
    if m is not None:
        new = date(y if y is not None else reference.year, m, 15) + delta
        return (new.year if y is not None else None), new.month, None
    if dd is not None:
        return None, None, (date(reference.year, reference.month, dd) + delta).day
    if y is not None:
        return y + int(days / 365), None, None
    return None, None, None


def _render(d: _Date, days: int, reference: date) -> str | None:
    try:
        year, month, day = _shifted(d, days, reference)
    except (ValueError, OverflowError):  # Feb 30, or beyond year 1..9999
        return None
    parts = list(d.parts)
    pad_day, pad_month = _pads(d)
    if d.year_form == "compact" and year is not None:
        parts[d.year_at] = f"{year:04d}{month:02d}{day:02d}"
    else:
        if year is not None:
            if d.year_form == "4":
                if not 1000 <= year <= 9999:
                    return None
                parts[d.year_at] = str(year)
            else:
                parts[d.year_at] = parts[d.year_at][:-2] + f"{year % 100:02d}"
        if month is not None:
            original = parts[d.month_at]
            parts[d.month_at] = (
                _month_word(original, month, "".join(parts[d.month_at + 1 :]).startswith("."))
                if d.month_word
                else (f"{month:02d}" if pad_month else str(month))
            )
        if day is not None:
            original = parts[d.day_at]
            suffix = original.lstrip("0123456789")
            text = f"{day:02d}" if pad_day else str(day)
            if suffix:
                text += _ordinal(day).upper() if suffix.isupper() else _ordinal(day)
            parts[d.day_at] = text
    if d.weekday is not None:
        parts[d.weekday_at] = _weekday_word(parts[d.weekday_at], (d.weekday + days) % 7)
    return "".join(parts)


def shift_date(
    value: str, days: int, *, reference: date = DEFAULT_REFERENCE, day_first: bool = False
) -> str | None:
    """`value` moved by `days`, written in its own format; None if it is not a date we read.

    A range ("3/12-3/14", "May 2 to May 5") shifts both ends when the whole does not read as
    one date."""
    out = _shift_one(value, days, reference, day_first)
    if out is not None:
        return out
    for m in _RANGE.finditer(value):
        left = _shift_one(value[: m.start()], days, reference, day_first)
        right = _shift_one(value[m.end() :], days, reference, day_first)
        if left is not None and right is not None:
            return left + m.group() + right
    return None


def _shift_one(value: str, days: int, reference: date, day_first: bool) -> str | None:
    if decade := _DECADE.fullmatch(value):  # "1990s": moves by whole years, like a lone year
        return f"{(int(decade[1]) + int(days / 365)) // 10 * 10}{decade[2]}"
    tail_m = _TIME_TAIL.search(value)
    core, tail = (
        (value[: tail_m.start()], tail_m.group()) if tail_m and tail_m.start() else (value, "")
    )
    d = _read(core, day_first)
    if d is None:
        return None
    if d.year is not None and d.month is not None and d.day is not None:
        try:
            date(d.year, d.month, d.day)
        except ValueError:  # 02/30/2012 is not a date: do not guess
            return None
    out = _render(d, days, reference)
    return None if out is None else out + tail


@dataclass(frozen=True, slots=True)
class DateShift:
    """One patient's (or note's) shift: `days` != 0; see offsets.py for keyed offsets."""

    days: int
    reference: date = DEFAULT_REFERENCE
    day_first: bool = False

    def __post_init__(self) -> None:
        if self.days == 0:
            raise ValueError("a date shift of 0 days would keep every date")

    def shift(self, value: str) -> str | None:
        return shift_date(value, self.days, reference=self.reference, day_first=self.day_first)

    @classmethod
    def keyed(
        cls,
        key: bytes,
        ident: str,
        *,
        kind: OffsetKind = "patient",
        min_days: int = DEFAULT_MIN_DAYS,
        max_days: int = DEFAULT_MAX_DAYS,
        keep_weekday: bool = False,
        reference: date = DEFAULT_REFERENCE,
        day_first: bool = False,
    ) -> DateShift:
        """The keyed shift of a patient (the same for all their notes) or of a lone note."""
        days = date_offset(key, ident, min_days, max_days, keep_weekday=keep_weekday, kind=kind)
        return cls(days, reference, day_first)

"""`Surrogates`: the one object the transform engine calls, one per consistency scope.

A scope is whatever must agree: a note, a patient (all their notes), or a whole run. Every
surrogate is a pure function of (key, scope, type, value): the caches below only save time,
so worker processes, Spark executors and a later run with the same key and scope write the
same surrogate for the same original, with no shared state. Dates use the scope's DateShift.

`surrogate(value, phi_type)` returns None when it cannot stand in for the value (a date it
does not read, an email that is no email, OTHER): the caller then writes a type label, never
the original. It returns the value itself only where that is not PHI: an age of 89 or under,
a lone year whose shift is under a year, a month-level date the shift keeps in its month.
"""

from __future__ import annotations

from collections.abc import Callable

from phiguard.spans import PhiType
from phiguard.surrogates.ages import age_surrogate
from phiguard.surrogates.casing import apply_case, case_of, fold
from phiguard.surrogates.dates import DateShift
from phiguard.surrogates.keyed import Keyed
from phiguard.surrogates.names import NameSurrogates
from phiguard.surrogates.places import PlaceSurrogates
from phiguard.surrogates.pools import pools
from phiguard.surrogates.shapes import reshape, reshape_phone
from phiguard.surrogates.web import WebSurrogates

_CACHE_LIMIT = 200_000
_TRIES = 32
# Leading words of a profession kept as written: clinically useful, not identifying.
_PROFESSION_KEPT = frozenset({"retired", "former", "ex", "part-time", "semi-retired", "unemployed"})


class Surrogates:
    """Realistic, consistent surrogates for one scope; see the module docstring."""

    def __init__(self, key: bytes, *, scope: str, date_shift: DateShift) -> None:
        self._keyed = Keyed(key, scope)
        self.scope = scope
        self.date_shift = date_shift
        self._names = NameSurrogates(self._keyed)
        self._places = PlaceSurrogates(self._keyed)
        self._web = WebSurrogates(self._names, self._places)
        self._cache: dict[tuple[str, str], str | None] = {}
        self._by_type: dict[str, Callable[[str], str | None]] = {
            PhiType.NAME: self._names.surrogate,
            PhiType.DATE: date_shift.shift,
            PhiType.AGE: age_surrogate,
            PhiType.PHONE_OR_FAX: self._phone,
            PhiType.ID: self._id,
            PhiType.EMAIL: lambda v: self._web.email(v, self._keyed.draws("email", fold(v))),
            PhiType.URL: lambda v: self._web.url(v, self._keyed.draws("url", fold(v))),
            PhiType.ADDRESS: self._places.surrogate,
            PhiType.LOCATION: self._places.surrogate,
            PhiType.ORGANIZATION: self._places.surrogate,
            PhiType.PROFESSION: self._profession,
        }

    def surrogate(self, value: str, phi_type: str) -> str | None:
        """The surrogate for `value` of `phi_type` (a PhiType value), or None: label it."""
        key = (phi_type, value)
        if key in self._cache:
            return self._cache[key]
        make = self._by_type.get(phi_type)
        out = make(value) if make is not None and value.strip() else None
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[key] = out
        return out

    def _shaped(self, value: str, kind: str, phone: bool) -> str | None:
        """A same-shape draw that differs from `value`; None if nothing in it can change."""
        draws = self._keyed.draws(kind, value)
        make = reshape_phone if phone else reshape
        for _ in range(_TRIES):  # a try repeats the original with chance 1/9 at most
            out = make(value, draws)
            if out != value:
                return out
        return None  # no digit or letter to change (or 2**-100 bad luck): label it

    def _phone(self, value: str) -> str | None:
        return self._shaped(value, "phone", phone=True)

    def _id(self, value: str) -> str | None:
        return self._shaped(value, "id", phone=False)

    def _profession(self, value: str) -> str | None:
        words = value.split()
        lead = 0
        while lead < len(words) - 1 and words[lead].lower() in _PROFESSION_KEPT:
            lead += 1
        core = " ".join(words[lead:])
        if not core:
            return None
        choices = pools().professions
        draws = self._keyed.draws("profession", fold(core))
        new = draws.choice(choices)
        while new == fold(core):
            new = draws.choice(choices)
        head = (
            value[: value.index(words[lead])] if lead else value[: len(value) - len(value.lstrip())]
        )
        return head + apply_case(new, case_of(core)) + value[len(value.rstrip()) :]

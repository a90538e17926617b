"""The synthetic notes' random draws: names, towns, facilities, casing, one note's cast.

Part of tools/synth_notes.py (see its docstring); the slots built on these are in
synth_slots.py.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from faker import Faker

from synth_data import (
    APOSTROPHE_SURNAMES,
    FACILITY_ADJ,
    FOREIGN_PLACES,
    GENERIC_FACILITY,
    REAL_TOWNS,
    RELATIONS,
    WORDLIKE_FIRST,
    Segs,
    lit,
    phi,
)


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


class GenBase:
    """The random draws every slot uses. One per corpus; all randomness comes from `rng` and
    `fake`, so a seed gives the same corpus."""

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

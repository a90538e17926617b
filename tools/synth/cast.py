"""The people and places of one synthetic document: weighted name draws and the document's cast.

`Names` draws mostly ASCII names, some with diacritics, a few in other scripts; a `Cast` is the
patient, relatives, clinicians and facility a document's mentions repeat ("Mr. Okafor ...
Okafor's wife ..."). Also the vocabulary reader every generator module shares.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

from .pools import Pools

Piece = tuple[str, str | None]
DATA = Path(__file__).with_name("data")
SLOT = re.compile(r"\{(\w+)\}|\[([^\]]*)\]")
_MONTHS = "January February March April May June July August September October November December"
MONTHS = _MONTHS.split()


def read_sections(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    current = ""
    for raw in path.read_text("utf-8").splitlines():
        line = raw.rstrip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]") and " " not in line:
            current = line[1:-1]
            out[current] = []
        else:
            out[current].append(line)
    return out


VOCAB = read_sections(DATA / "vocab.txt")


def _is_plain(s: str) -> bool:
    return all(c.isascii() for c in s)


@dataclass
class Names:
    """Weighted draws: mostly ASCII names, some with diacritics, a few in other scripts."""

    pools: Pools
    rng: random.Random

    @property
    def _split(self) -> dict[str, tuple[list[str], list[str], list[str]]]:
        return self.pools.cache  # shared by every document drawn from these pools

    def draw(self, kind: str) -> str:
        common = self.pools.lists.get(f"common_{kind}")
        if common and self.rng.random() < 0.45:
            return self.rng.choice(common)
        if kind not in self._split:
            entries = self.pools[kind]
            ascii_ = [e for e in entries if _is_plain(e)]
            latin = [
                e
                for e in entries
                if not _is_plain(e) and all(c.isascii() or "À" <= c <= "ž" for c in e)
            ]
            latin_set = set(latin)
            other = [e for e in entries if e not in latin_set and not _is_plain(e)]
            self._split[kind] = (ascii_, latin or ascii_, other or ascii_)
        ascii_, latin, other = self._split[kind]
        r = self.rng.random()
        if r < 0.86:
            return self.rng.choice(ascii_)
        if r < 0.98:
            return self.rng.choice(latin)
        return self.rng.choice(other)


@dataclass
class Person:
    first: str
    last: str
    middle: str = ""


@dataclass
class Cast:
    patient: Person
    relatives: list[tuple[str, Person]]
    clinicians: list[Person]
    facility: list[Piece]
    city: str

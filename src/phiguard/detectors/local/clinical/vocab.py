"""Rule vocabularies: data/rules/<module>.txt, one `[section]` per word set.

Keeping the words in data files means a newcomer extends a rule by adding a word, and a
reviewer sees every list a rule consults in one place.
"""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def vocab(module: str) -> dict[str, frozenset[str]]:
    """The word sets of data/rules/<module>.txt by section name (lower-cased words)."""
    path = resources.files("phiguard") / "data" / "rules" / f"{module}.txt"
    sections: dict[str, set[str]] = {}
    current: set[str] | None = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], set())
            continue
        if current is None:
            raise ValueError(f"data/rules/{module}.txt: words before the first [section]")
        current.update(w.lower() for w in line.split())
    return {k: frozenset(v) for k, v in sections.items()}

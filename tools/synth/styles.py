"""Documents of several styles with gold spans, plus case and typo augmentation.

`generate(style, n, pools, seed)` yields records in the gold JSONL format of `phiguard eval`
(`{"id", "text", "spans": [{"start", "end", "label", "text"}]}`). Training styles: nursing,
discharge, query, general. Proxy styles (`proxy-query`, `proxy-general`) use template families
the training styles never use and must be given the held-out pools.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from .cast import DATA, Piece
from .fill import Filler
from .pools import Pools


def _templates(name: str) -> list[str]:
    lines = (DATA / f"{name}.txt").read_text("utf-8").splitlines()
    return [ln for ln in lines if ln.strip() and not ln.startswith("#")]


@dataclass(frozen=True)
class Style:
    families: tuple[str, ...]  # template files, drawn in proportion to the weights
    weights: tuple[float, ...]
    sentences: tuple[int, int]
    upper: float  # share of documents in ALL CAPS
    lower: float  # share of documents in lower case
    joiners: tuple[str, ...]
    headers: tuple[str, ...] = ()


STYLES: dict[str, Style] = {
    "nursing": Style(
        ("nursing", "negatives"),
        (0.75, 0.25),
        (3, 14),
        0.35,
        0.2,
        (" ", " ", "  ", "\n", "; ", " \n"),
        (
            "NPN 7p-7a",
            "Nursing Progress Note",
            "CCU NSG NOTE:",
            "MICU nsg:",
            "Nursing note 0700-1900",
            "RESPIRATORY CARE:",
            "S/O:",
            "",
        ),
    ),
    "discharge": Style(
        ("discharge", "negatives"),
        (0.85, 0.15),
        (5, 14),
        0.12,
        0.05,
        ("\n", "\n\n", " "),
        ("DISCHARGE SUMMARY", "Discharge Summary", ""),
    ),
    "query": Style(("queries",), (1.0,), (1, 2), 0.04, 0.12, (" ", "\n")),
    "general": Style(("general", "negatives"), (0.9, 0.1), (1, 3), 0.04, 0.08, (" ", "\n")),
    "proxy-query": Style(("proxy_queries",), (1.0,), (1, 2), 0.04, 0.12, (" ",)),
    "proxy-general": Style(("proxy_general",), (1.0,), (1, 2), 0.04, 0.08, (" ",)),
}
TRAIN_STYLES = ("nursing", "discharge", "query", "general")
PROXY_STYLES = ("proxy-query", "proxy-general")
_KEYBOARD = "qwertyuiopasdfghjklzxcvbnm"


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    op = rng.random()
    if op < 0.3:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if op < 0.55:
        return word[:i] + word[i + 1 :]
    if op < 0.8:
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice(_KEYBOARD) + word[i + 1 :]


def _augment(pieces: list[Piece], rng: random.Random, typo_rate: float) -> list[Piece]:
    """Typos in ordinary words (and, rarely, in names); names sometimes in one case."""
    out: list[Piece] = []
    for text, label in pieces:
        if label is None:
            if typo_rate and rng.random() < 0.3:
                text = " ".join(
                    _typo(w, rng) if rng.random() < typo_rate else w for w in text.split(" ")
                )
        else:
            r = rng.random()
            if label == "NAME" and r < 0.09:
                text = text.lower()
            elif label in ("NAME", "LOCATION") and r < 0.15:
                text = text.upper()
            elif label == "NAME" and r < 0.17:
                text = _typo(text, rng)
        out.append((text, label))
    return out


def _apply_case(pieces: list[Piece], mode: str) -> list[Piece]:
    if mode == "upper":
        return [(t.upper(), lab) for t, lab in pieces]
    if mode == "lower":
        return [(t.lower(), lab) for t, lab in pieces]
    return pieces


def assemble(doc_id: str, pieces: list[Piece]) -> dict[str, object]:
    """Join pieces; adjacent pieces of one label become one span, trimmed of whitespace."""
    text_parts: list[str] = []
    spans: list[dict[str, object]] = []
    pos = 0
    for piece, label in pieces:
        if label is not None and piece.strip():
            lead = len(piece) - len(piece.lstrip())
            start, end = pos + lead, pos + len(piece.rstrip())
            spans.append({"start": start, "end": end, "label": label})
        text_parts.append(piece)
        pos += len(piece)
    text = "".join(text_parts)
    for sp in spans:
        sp["text"] = text[sp["start"] : sp["end"]]  # type: ignore[index]
    return {"id": doc_id, "text": text, "spans": spans}


def generate(
    style: str, n: int, pools: Pools, seed: int, typo_rate: float = 0.03
) -> Iterator[dict[str, object]]:
    spec = STYLES[style]
    families = [_templates(f) for f in spec.families]
    rng = random.Random(f"{style}:{seed}")
    for i in range(n):
        filler = Filler(pools, rng)
        pieces: list[Piece] = []
        if spec.headers and rng.random() < 0.6:
            pieces.append((rng.choice(spec.headers) + rng.choice(["\n", " "]), None))
        for k in range(rng.randint(*spec.sentences)):
            family = rng.choices(families, weights=spec.weights)[0]
            if k:
                pieces.append((rng.choice(spec.joiners), None))
            pieces.extend(filler.expand(rng.choice(family)))
        pieces = _augment(pieces, rng, typo_rate)
        r = rng.random()
        mode = "upper" if r < spec.upper else "lower" if r < spec.upper + spec.lower else ""
        yield assemble(f"{style}-{seed}-{i}", _apply_case(pieces, mode))

#!/usr/bin/env python3
"""Swap the names and places of a gold corpus for fresh ones: a check for lexicon overfitting.

Every NAME/LOCATION word of the gold spans is replaced by a fresh Faker word of the same
casing (tools/synth_notes.py's generator, never a word of the corpus's own gold); the context
stays. If recall drops against the original notes, the detector is recognising the corpus's
particular names and places, not the contexts they stand in. The output is a gold JSONL that
`phiguard eval` scores like any other (it is derived from the input notes: keep it out of the
repo when the input is not redistributable).

    .venv/bin/python tools/resurrogate.py ../shared/eval/physionet-dev.jsonl --seed 77 \\
        -o /tmp/dev-77.jsonl
    .venv/bin/phiguard eval /tmp/dev-77.jsonl --show-misses 40
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import synth_notes
from phiguard.evaluation import GoldRecord, load_gold

__all__ = ["resurrogate"]


def _match_case(model: str, s: str) -> str:
    if model.isupper():
        return s.upper()
    if model.islower():
        return s.lower()
    return s


def resurrogate(
    records: Sequence[GoldRecord], seed: int, exclude: frozenset[str]
) -> list[GoldRecord]:
    """The notes with every NAME/LOCATION word swapped for a fresh Faker word, same casing.

    Generic facility words ("Memorial", "St", "of") are kept, single letters (initials) become
    another letter, short all-caps words in a mixed-case note (acronyms) another acronym of the
    same length. Faker never proposes a word of `exclude`.
    """
    gen = synth_notes.Gen(seed, exclude)
    out: list[GoldRecord] = []
    for rec in records:
        text, shift, spans = rec.text, 0, []
        letters = [c for c in text if c.isalpha()]
        caps_note = sum(c.isupper() for c in letters) > 0.7 * max(1, len(letters))
        pieces: list[str] = []
        pos = 0
        for g in rec.spans:
            if g.start < pos:  # overlapping gold: leave as is
                continue
            pieces.append(text[pos : g.start])
            orig = text[g.start : g.end]
            if g.label in ("NAME", "LOCATION"):

                def swap(m: re.Match[str], label: str = g.label, caps: bool = caps_note) -> str:
                    w = m.group()
                    if w.lower() in synth_notes.GENERIC_WORDS or w.isdigit():
                        return w
                    if len(w) == 1:
                        return _match_case(w, chr(ord("a") + gen.rng.randrange(26)))
                    if w.isupper() and len(w) <= 4 and not caps:  # "GH", "VAMC"
                        return "".join(chr(ord("A") + gen.rng.randrange(26)) for _ in w)
                    if label == "NAME":
                        new = gen.first() if gen.chance(0.4) else gen.last()
                    else:
                        new = gen.city() if gen.chance(0.5) else gen.last()
                    return _match_case(w, new)

                repl = re.sub(r"[A-Za-z]+", swap, orig)
            else:
                repl = orig
            start = g.start + shift
            pieces.append(repl)
            spans.append(type(g)(start, start + len(repl), g.label, g.orig_label))
            shift += len(repl) - len(orig)
            pos = g.end
        pieces.append(text[pos:])
        out.append(GoldRecord(rec.id, "".join(pieces), tuple(spans)))
    return out


def to_jsonl(records: Sequence[GoldRecord]) -> str:
    """Gold JSONL in the corpus format, one record a line (what `phiguard eval` reads)."""
    lines = []
    for r in records:
        spans = [
            {"start": g.start, "end": g.end, "label": g.label, "orig_label": g.orig_label,
             "text": r.text[g.start : g.end]}
            for g in r.spans
        ]  # fmt: skip
        lines.append(json.dumps({"id": r.id, "text": r.text, "spans": spans}, ensure_ascii=False))
    return "".join(line + "\n" for line in lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    ap.add_argument("gold", type=Path, help="gold JSONL corpus (e.g. ../shared/eval/...)")
    ap.add_argument("--seed", type=int, required=True, help="Faker seed: one seed, one corpus")
    ap.add_argument("-o", "--output", type=Path, required=True, help="gold JSONL to write")
    args = ap.parse_args(argv)
    gold = load_gold(args.gold)
    records = resurrogate(gold.records, args.seed, synth_notes.load_exclusions(args.gold))
    args.output.write_text(to_jsonl(records), encoding="utf-8")
    n_spans = sum(len(r.spans) for r in records)
    print(f"wrote {len(records)} notes, {n_spans} spans to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

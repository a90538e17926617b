#!/usr/bin/env python3
"""Generate synthetic ICU nursing notes with gold PHI spans: a held-out generalization check.

The local detector is tuned on the PhysioNet dev notes, so its dev score says little about
notes with other names, places and phrasings. This script writes notes in the dev set's style
(ALL CAPS / lower case / mixed, "pt", "c/o", "s/p", vitals, times, doses, "MAE", "A&Ox3", ...)
from ~90 hand-written templates, fills the PHI slots from Faker and small hand lists (none of
which come from the dev notes), and fills the rest with look-alike NON-PHI: times, blood
pressures, pain scores "4/10", ABGs "7.32/45/88", doses, drug names, eponyms ("Foley",
"Swan-Ganz", "Glasgow"), state abbreviations, ordinary words that are also names ("will",
"may", "frank blood", "brown stool"), ages of 89 and under.

Output: JSONL like ../shared/eval/physionet-dev.jsonl, one note a line,
`{"id", "text", "spans": [{"start", "end", "label", "orig_label", "text"}]}`, offsets are
Python str indices. Labels: NAME, DATE, LOCATION, PHONE, AGE (over 89 only), ID.

Annotation conventions follow the dev gold (see docs/generalization.md): titles ("Dr.",
"RN", "Mr.") and generic facility words ("Hospital", "Medical Center", "Rehab", "House") are
not PHI; distinctive facility words ("Memorial", "General", "Adventist", "St.") are; initials
are; a state after a city ("Springfield, OH") is not; weekdays and times are not.

The generator is split by job: synth_data.py (segments, hand word lists), synth_gen.py
(random draws), synth_slots.py (the template slots), synth_templates.py (the templates, and
how a note is assembled); this module is the command and the public API.

Deterministic: the same --seed (and Faker version, and --exclude-gold file) gives the same
file. `--exclude-gold` drops every name/place Faker proposes whose tokens occur in a gold
span of that corpus, so the check uses strings the detector cannot have been tuned on.

    .venv/bin/python tools/synth_notes.py --n 400 --seed 20261124 \\
        --exclude-gold ../shared/eval/physionet-dev.jsonl -o tests/data/synthetic_notes.jsonl
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from synth_data import GENERIC_WORDS, Note, Segment, to_record
from synth_slots import Gen
from synth_templates import TEMPLATES, make_note

__all__ = [
    "GENERIC_WORDS",
    "TEMPLATES",
    "Gen",
    "Note",
    "Segment",
    "generate",
    "load_exclusions",
    "to_record",
]


def load_exclusions(path: str | Path) -> frozenset[str]:
    """Lower-cased \\w+ tokens of every NAME/LOCATION gold span in a JSONL corpus.

    Generic facility words ("Memorial", "St", "of") are kept out of the list: only the
    distinctive name parts are excluded.
    """
    out: set[str] = set()
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            rec = json.loads(line)
            for s in rec["spans"]:
                if s["label"] in ("NAME", "LOCATION", "OTHER"):
                    out.update(t.lower() for t in re.findall(r"\w+", s["text"]) if len(t) > 1)
    return frozenset(out - GENERIC_WORDS)


def generate(n: int, seed: int, exclude: frozenset[str] = frozenset()) -> list[Note]:
    gen = Gen(seed, exclude)
    return [make_note(gen, f"synth_{seed}_{i:04d}") for i in range(n)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--n", type=int, default=400, help="number of notes (default 400)")
    ap.add_argument("--seed", type=int, default=20261124)
    ap.add_argument("--exclude-gold", metavar="JSONL", help="never use names/places of this gold")
    ap.add_argument("-o", "--output", default="-", help="output JSONL (default stdout)")
    args = ap.parse_args(argv)
    exclude = load_exclusions(args.exclude_gold) if args.exclude_gold else frozenset()
    notes = generate(args.n, args.seed, exclude)
    lines = "".join(json.dumps(to_record(n), ensure_ascii=False) + "\n" for n in notes)
    if args.output == "-":
        sys.stdout.write(lines)
    else:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(lines, encoding="utf-8")
        n_spans = sum(len(n.spans()) for n in notes)
        print(f"wrote {len(notes)} notes, {n_spans} spans to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

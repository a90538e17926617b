#!/usr/bin/env python3
"""Score the local detector on the synthetic notes (and the dev set), with error analysis.

The headline numbers are exactly `phiguard eval`'s token level (phiguard.evaluation.scoring on
the same detector + resolver the CLI builds). On top of that this tool reports:

- false positives per 1,000 non-PHI tokens: unlike precision, it does not depend on how much
  PHI a corpus holds, so it compares the PHI-dense synthetic notes with the dev notes;
- for the synthetic set, which it regenerates in memory with tools/synth_notes.py (same
  --n/--seed/--exclude-gold), recall per *generator slot* (e.g. "rel_first_lower",
  "hosp_saint", "date_ordinal") and false positives per non-PHI slot (e.g. "pain_scale",
  "drug", "state_abbr", "template" = the fixed template wording), with the most frequent
  token strings. Synthetic text holds no real PHI, so printing it is fine; nothing is ever
  printed from the dev notes;
- with --resurrogate, the same numbers for the --dev notes with fresh names and places
  (tools/resurrogate.py).

    DEV=../shared/eval/physionet-dev.jsonl
    .venv/bin/python tools/score_synthetic.py tests/data/synthetic_notes.jsonl \\
        --dev $DEV --exclude-gold $DEV
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import synth_notes
from phiguard.evaluation import EvalReport, GoldRecord, detect_all, load_gold, score
from phiguard.resolve import Resolver
from phiguard.run.deidentifier import Deidentifier
from phiguard.spans import Span
from resurrogate import resurrogate

_TOKEN = re.compile(r"\w+")  # the token of phiguard.evaluation.scoring's token level


def build_detector(age_policy: str = "over89") -> Deidentifier:
    """The local detector and default resolver, as `phiguard eval` builds them."""
    return Deidentifier("local", resolver=Resolver(), detector_options={"age_policy": age_policy})


def fp_per_1k(records: Sequence[GoldRecord], rep: EvalReport) -> tuple[float, int]:
    """False-positive tokens per 1,000 non-PHI tokens, and the non-PHI token count."""
    tok = rep.levels["token"].overall
    non_phi = sum(len(_TOKEN.findall(r.text)) for r in records) - tok.gold
    false_pos = tok.predicted - tok.correct
    return (1000 * false_pos / non_phi if non_phi else float("nan")), non_phi


@dataclass
class SlotStats:
    gold: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    missed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    missed_tokens: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    fp: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    fp_tokens: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    fp_types: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    by_case: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    by_orig: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    miss_examples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    fp_examples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


def _ctx(text: str, start: int, end: int, w: int = 35) -> str:
    left = text[max(0, start - w) : start]
    right = text[end : end + w]
    return (left + "[[" + text[start:end] + "]]" + right).replace("\n", " ")


def slot_stats(
    notes: Sequence[synth_notes.Note], preds: Sequence[Sequence[Span]], examples: int = 3
) -> SlotStats:
    """Token-level hits and misses attributed to the generator slot that produced each token."""
    ss = SlotStats()
    for note, pr in zip(notes, preds, strict=True):
        text = note.text
        segs = note.located_segments()
        pspans = [(s.start, s.end, s.type) for s in pr]
        for m in _TOKEN.finditer(text):
            ts, te = m.start(), m.end()
            seg = next(sg for s, e, sg in segs if s <= ts < e)
            hit_types = [t for s, e, t in pspans if s < te and e > ts]
            # the gold is the file's spans, i.e. the PHI segments
            if seg.label is not None:
                ss.gold[seg.kind] += 1
                for key, table in ((note.case, ss.by_case), (seg.orig_label, ss.by_orig)):
                    table[key][0] += 1
                    table[key][1] += bool(hit_types)
                if not hit_types:
                    ss.missed[seg.kind] += 1
                    ss.missed_tokens[seg.kind][m.group()] += 1
                    if len(ss.miss_examples[seg.kind]) < examples:
                        ss.miss_examples[seg.kind].append(_ctx(text, ts, te))
            elif hit_types:
                ss.fp[seg.kind] += 1
                ss.fp_tokens[seg.kind][m.group()] += 1
                for t in set(hit_types):
                    ss.fp_types[seg.kind][t] += 1
                if len(ss.fp_examples[seg.kind]) < examples:
                    ss.fp_examples[seg.kind].append(_ctx(text, ts, te))
    return ss


def _pct(x: float | None) -> str:
    return "  n/a" if x is None or x != x else f"{100 * x:5.1f}"


def report_lines(name: str, rep: EvalReport, records: Sequence[GoldRecord]) -> list[str]:
    tok = rep.levels["token"]
    rate, non_phi = fp_per_1k(records, rep)
    lines = [
        f"== {name}: {rep.documents} notes, {tok.overall.gold} PHI tokens, "
        f"{non_phi} non-PHI tokens",
        f"token recall {_pct(tok.overall.recall)}%  precision {_pct(tok.overall.precision)}%  "
        f"FP per 1k non-PHI tokens {rate:.1f}  ({rep.seconds:.1f}s)",
        "recall by gold label:",
    ]
    for label, sc in sorted(tok.by_label.items()):
        lines.append(f"  {label:9s} {_pct(sc.recall)}%  ({sc.found}/{sc.gold})")
    lines.append("precision by predicted type:")
    for typ, sc in sorted(tok.by_type.items()):
        lines.append(f"  {typ:13s} {_pct(sc.precision)}%  ({sc.correct}/{sc.predicted})")
    return lines


def numbers(rep: EvalReport, records: Sequence[GoldRecord]) -> dict[str, Any]:
    rate, non_phi = fp_per_1k(records, rep)
    return {
        "token": rep.levels["token"].to_dict(),
        "fp_per_1k_non_phi": round(rate, 2),
        "non_phi_tokens": non_phi,
    }


def slot_lines(ss: SlotStats, top: int) -> list[str]:
    lines = ["recall by note casing:"]
    for key, (gold, found) in sorted(ss.by_case.items()):
        lines.append(f"  {key:9s} {_pct(found / gold)}%  ({found}/{gold})")
    lines.append("recall by orig_label:")
    for key, (gold, found) in sorted(ss.by_orig.items()):
        lines.append(f"  {key:17s} {_pct(found / gold)}%  ({found}/{gold})")
    lines.append("recall by generator slot (misses/gold tokens), worst first:")
    rows = sorted(ss.gold, key=lambda k: (-(ss.missed[k] / ss.gold[k]), -ss.gold[k]))
    for k in rows:
        miss, gold = ss.missed[k], ss.gold[k]
        toks = ", ".join(f"{t}({c})" for t, c in ss.missed_tokens[k].most_common(top))
        lines.append(
            f"  {k:22s} recall {_pct(1 - miss / gold)}%  missed {miss:4d}/{gold:<5d} {toks}"
        )
        for ex in ss.miss_examples[k]:
            lines.append(f"      e.g. {ex}")
    lines.append("false-positive tokens by non-PHI slot:")
    for k in sorted(ss.fp, key=lambda k: -ss.fp[k]):
        toks = ", ".join(f"{t}({c})" for t, c in ss.fp_tokens[k].most_common(top))
        types = ", ".join(f"{t}:{c}" for t, c in ss.fp_types[k].most_common())
        lines.append(f"  {k:22s} {ss.fp[k]:5d}  [{types}]  {toks}")
        for ex in ss.fp_examples[k]:
            lines.append(f"      e.g. {ex}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    ap.add_argument("synthetic", help="synthetic JSONL (tests/data/synthetic_notes.jsonl)")
    ap.add_argument("--dev", help="also score this gold corpus (numbers only, no text)")
    ap.add_argument("--n", type=int, default=400, help="--n the synthetic file was made with")
    ap.add_argument("--seed", type=int, default=20261124)
    ap.add_argument("--exclude-gold", help="--exclude-gold the synthetic file was made with")
    ap.add_argument("--top", type=int, default=8, help="token strings shown per slot")
    ap.add_argument("--examples", type=int, default=2, help="contexts shown per slot")
    ap.add_argument("--json", help="write the numbers to this JSON file")
    ap.add_argument(
        "--resurrogate",
        action="store_true",
        help="also score the --dev notes with their names/places swapped for fresh ones",
    )
    args = ap.parse_args(argv)

    d = build_detector()
    out: dict[str, Any] = {}
    lines: list[str] = []
    for path in [args.synthetic, *([args.dev] if args.dev else [])]:
        gold = load_gold(path)
        preds, secs = detect_all([r.text for r in gold.records], d.detector, d.resolver)
        rep = score(gold.records, preds, name=gold.name, detector="local", seconds=secs)
        lines += report_lines(gold.name, rep, gold.records)
        out[gold.name] = numbers(rep, gold.records)
        if path == args.synthetic:
            exclude = (
                synth_notes.load_exclusions(args.exclude_gold) if args.exclude_gold else frozenset()
            )
            notes = synth_notes.generate(args.n, args.seed, exclude)
            if [n.text for n in notes] != [r.text for r in gold.records]:
                lines.append("(regenerated notes differ from the file: no per-slot analysis;")
                lines.append(" check --n/--seed/--exclude-gold and the Faker version)")
            else:
                ss = slot_stats(notes, preds, args.examples)
                lines += slot_lines(ss, args.top)
                out[gold.name]["slots"] = {
                    "recall": {k: round(1 - ss.missed[k] / v, 4) for k, v in ss.gold.items()},
                    "gold_tokens": dict(ss.gold),
                    "false_positive_tokens": dict(ss.fp),
                }
        lines.append("")
    if args.dev and args.resurrogate:
        exclude = synth_notes.load_exclusions(args.dev)
        recs = resurrogate(load_gold(args.dev).records, args.seed, exclude)
        preds, secs = detect_all([r.text for r in recs], d.detector, d.resolver)
        name = "dev-resurrogated"
        rep = score(recs, preds, name=name, detector="local", seconds=secs)
        lines += report_lines(name + " (dev contexts, fresh names/places)", rep, recs)
        lines.append("")
        out[name] = numbers(rep, recs)
    if args.dev and len(out) >= 2:
        synth, dev = (
            out[load_gold(p).name]["token"]["by_label"] for p in (args.synthetic, args.dev)
        )
        weights = {k: v["gold"] for k, v in dev.items() if k in synth and v["gold"]}
        est = sum(w * synth[k]["recall"] for k, w in weights.items()) / sum(weights.values())
        lines.append(
            f"synthetic recall re-weighted to the dev label mix ({', '.join(sorted(weights))}): "
            f"{_pct(est)}%"
        )
        out["synthetic_recall_at_dev_label_mix"] = round(est, 4)
    print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

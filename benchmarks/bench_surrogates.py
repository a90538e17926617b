"""Per-value cost of surrogate generation (phiguard.surrogates), by PHI type.

    .venv/bin/python benchmarks/bench_surrogates.py [--values 2000] [--repeat 5] [--json OUT]

Measures, on synthetic values made from the shipped public lists with a fixed seed (and on
the dev set's gold PHI spans when ../shared is there, one fresh per-note scope per note):

- scope set-up: constructing `Surrogates` (done once per note, patient or run);
- cold: the first surrogate of each distinct value in a scope (nothing cached);
- cached: the same value again in the same scope (the consistency map's hit path);
- per note: a fresh note scope plus a surrogate for every gold span of that note.

Times are CPU time of this process (time.process_time), best of `--repeat` runs, so a busy
shared machine changes them little; prints numbers only, never a value.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from phiguard.surrogates import DateShift, Surrogates, date_offset
from phiguard.surrogates.pools import pools

REPO = Path(__file__).resolve().parents[1]
DEV = REPO.parent / "shared" / "eval" / "physionet-dev.jsonl"
KEY = bytes(range(32))
_DEV_TYPES = {"PHONE": "PHONE_OR_FAX"}


def synthetic(n: int, seed: int = 7) -> dict[str, list[str]]:
    rnd = random.Random(seed)
    p = pools()
    given = [g for v in p.female.values() for g in v] + [g for v in p.male.values() for g in v]
    last = [s for v in p.surnames.values() for s in v]
    towns = list(p.towns)

    def name() -> str:
        f, s = rnd.choice(given).title(), rnd.choice(last).title()
        forms = (f"{f} {s}", f"{s.upper()}, {f.upper()}", f"Dr. {s}", f"{f[0]}. {s}", f)
        return rnd.choice(forms)

    def a_date() -> str:
        d = date(1950, 1, 1) + timedelta(days=rnd.randrange(70 * 365))
        forms = (
            f"{d.month}/{d.day}/{d.year}", f"{d:%m/%d/%y}", f"{d:%Y-%m-%d}",
            f"{d:%B} {d.day}, {d.year}", f"{d:%b} {d.day}th", f"{d.month}/{d.day}", f"{d.year}",
            f"{d:%d-%b-%Y}".upper(),
        )  # fmt: skip
        return rnd.choice(forms)

    def digits(k: int) -> str:
        return "".join(rnd.choice("0123456789") for _ in range(k))

    makers: dict[str, Callable[[], str]] = {
        "NAME": name,
        "DATE": a_date,
        "PHONE_OR_FAX": lambda: f"({rnd.randint(201, 989)}) {digits(3)}-{digits(4)}",
        "ID": lambda: rnd.choice((f"{digits(3)}-{digits(2)}-{digits(4)}", f"MRN{digits(7)}")),
        "EMAIL": lambda: f"{rnd.choice(given)}.{rnd.choice(last)}@{rnd.choice(towns)}.org",
        "URL": lambda: f"https://www.{rnd.choice(towns)}.org/patients/{digits(5)}",
        "ADDRESS": lambda: (
            f"{digits(3)} {rnd.choice(towns).title()} St, "
            f"{rnd.choice(towns).title()}, MA {digits(5)}"
        ),
        "LOCATION": lambda: rnd.choice(towns).title(),
        "ORGANIZATION": lambda: f"{rnd.choice(towns).title()} General Hospital",
        "AGE": lambda: str(rnd.randint(18, 105)),
        "PROFESSION": lambda: rnd.choice(p.professions),
    }
    out: dict[str, list[str]] = {}
    for phi_type, make in makers.items():
        seen: dict[str, None] = {}
        for _ in range(20 * n):  # distinct values; small spaces (ages) give fewer
            seen[make()] = None
            if len(seen) == n:
                break
        out[phi_type] = list(seen)
    return out


def best(repeat: int, run: Callable[[], float]) -> float:
    return min(run() for _ in range(repeat))


def per_type(values: dict[str, list[str]], repeat: int) -> dict[str, dict[str, float]]:
    shift = DateShift(date_offset(KEY, "bench"))
    rows: dict[str, dict[str, float]] = {}
    for phi_type, vals in values.items():

        def cold(vals: list[str] = vals, phi_type: str = phi_type) -> float:
            s = Surrogates(KEY, scope=f"cold:{time.perf_counter_ns()}", date_shift=shift)
            t0 = time.process_time()
            for v in vals:
                s.surrogate(v, phi_type)
            return (time.process_time() - t0) / len(vals)

        s_hot = Surrogates(KEY, scope="hot", date_shift=shift)
        for v in vals:
            s_hot.surrogate(v, phi_type)

        def cached(
            vals: list[str] = vals, phi_type: str = phi_type, s_hot: Surrogates = s_hot
        ) -> float:
            t0 = time.process_time()
            for v in vals:
                s_hot.surrogate(v, phi_type)
            return (time.process_time() - t0) / len(vals)

        rows[phi_type] = {
            "cold_us": best(repeat, cold) * 1e6,
            "cached_us": best(repeat, cached) * 1e6,
        }
    return rows


def setup_cost(repeat: int) -> float:
    shift = DateShift(-100)

    def run() -> float:
        t0 = time.process_time()
        for i in range(2000):
            Surrogates(KEY, scope=f"note:{i}", date_shift=shift)
        return (time.process_time() - t0) / 2000

    return best(repeat, run) * 1e6


def dev_notes(repeat: int) -> dict[str, float] | None:
    if not DEV.exists():
        return None
    notes = []
    with DEV.open(encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            spans = [(s["text"], _DEV_TYPES.get(s["label"], s["label"])) for s in rec["spans"]]
            notes.append((rec["id"], spans))
    n_spans = sum(len(s) for _, s in notes)

    def run() -> float:
        t0 = time.process_time()
        for note_id, spans in notes:
            s = Surrogates(KEY, scope=f"note:{note_id}", date_shift=DateShift(-100))
            for value, phi_type in spans:
                s.surrogate(value, phi_type)
        return time.process_time() - t0

    total = best(repeat, run)
    return {
        "notes": len(notes),
        "spans": n_spans,
        "us_per_note": total / len(notes) * 1e6,
        "us_per_span": total / max(n_spans, 1) * 1e6,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--values", type=int, default=2000, help="distinct values per type")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    args = ap.parse_args()
    pools()  # the lists load once per process: not part of any per-value number
    rows = per_type(synthetic(args.values), args.repeat)
    result = {
        "python": platform.python_version(),
        "values_per_type": args.values,
        "setup_us": setup_cost(args.repeat),
        "types": rows,
        "dev_notes": dev_notes(args.repeat),
    }
    print(f"scope set-up: {result['setup_us']:.1f} us (CPU)")
    print(f"{'type':14s} {'cold CPU us/value':>18s} {'cached CPU us/value':>20s}")
    for phi_type, row in rows.items():
        print(f"{phi_type:14s} {row['cold_us']:18.1f} {row['cached_us']:20.2f}")
    dev = result["dev_notes"]
    if dev is None:
        print("dev notes: skipped (../shared/eval/physionet-dev.jsonl not found)", file=sys.stderr)
    else:
        print(
            f"dev notes, fresh note scope each: {dev['notes']} notes, {dev['spans']} spans, "
            f"{dev['us_per_note']:.1f} us/note, {dev['us_per_span']:.1f} us/span"
        )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

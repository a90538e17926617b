"""Replace every gold PHI string of an annotated corpus with a generated one (keeps context).

Used to train on the PhysioNet dev notes without their PHI strings: each gold span becomes a
surrogate of the same kind and shape (case pattern, word count, digit layout), the same
original string maps to the same surrogate within one patient, and the new offsets are
recomputed. A LOCATION span directly followed by a facility noun ("X Hospital") is extended
over the noun in the training copy, the whole-entity convention of the synthetic styles.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Iterable, Iterator

from .cast import MONTHS, Names
from .pools import Pools

_FAC_NOUN = re.compile(
    r"\s+(?:hospital|medical center|med ctr|medical ctr|rehab|nursing home|clinic|house|manor|"
    r"health center|infirmary)\b",
    re.IGNORECASE,
)
_MONTH = re.compile(r"[A-Za-z]+")
_MONTH_NAMES = {m.lower(): m for m in MONTHS} | {m[:3].lower(): m[:3] for m in MONTHS}


def patient_of(record_id: str) -> str:
    """`pX_nY` -> `pX` (the PhysioNet dev ids); other ids are their own patient."""
    head, sep, _ = record_id.partition("_")
    return head if sep and head.startswith("p") else record_id


def _case_like(new: str, orig: str) -> str:
    if orig.isupper():
        return new.upper()
    if orig.islower():
        return new.lower()
    return new


def _digits_like(orig: str, rng: random.Random) -> str:
    out = []
    for run in re.split(r"(\d+)", orig):
        if run.isdigit():
            n = len(run)
            if n == 4:
                out.append(str(rng.randint(1950, 2029)))
            elif n <= 2:
                value = int(run)
                v = (
                    rng.randint(32, 99)
                    if value > 31
                    else rng.randint(13, 28)
                    if value > 12
                    else rng.randint(1, 12)
                    if n == 2 or value
                    else 0
                )
                out.append(f"{v:0{n}d}" if run.startswith("0") else str(v))
            else:
                out.append("".join(rng.choice(string.digits) for _ in range(n)))
        else:
            out.append(
                _MONTH.sub(
                    lambda m: _case_like(
                        rng.choice(MONTHS)[: len(m.group())]
                        if m.group().lower() in _MONTH_NAMES
                        else m.group(),
                        m.group(),
                    ),
                    run,
                )
            )
    return "".join(out)


class Surrogates:
    def __init__(self, pools: Pools, rng: random.Random) -> None:
        self.rng = rng
        self.names = Names(pools, rng)
        self._memo: dict[tuple[str, str, str], str] = {}

    def _word(self, orig: str, kinds: tuple[str, ...]) -> str:
        if len(orig.rstrip(".")) == 1 and orig[0].isalpha():  # an initial
            return self.rng.choice(string.ascii_uppercase) + orig[1:]
        if orig.isupper() and len(orig) <= 4 and "LOCATION" in kinds:  # "GH", "SJH"
            return "".join(self.rng.choice(string.ascii_uppercase) for _ in orig)
        kind = self.rng.choice(["first", "last"]) if kinds == ("NAME",) else "city"
        return self.names.draw(kind).split(" ")[0]

    def replace(self, patient: str, label: str, orig: str) -> str:
        key = (patient, label, orig.lower())
        if key in self._memo:
            return _case_like(self._memo[key], orig)
        if label in {"NAME", "LOCATION", "ORGANIZATION"}:
            parts = re.split(r"(\W+)", orig)
            new = "".join(
                p
                if not p or not p[0].isalnum()
                else (_digits_like(p, self.rng) if p.isdigit() else self._word(p, (label,)))
                for p in parts
            )
        else:
            new = _digits_like(orig, self.rng)
        new = _case_like(new, orig)
        self._memo[key] = new
        return new


def resurrogate(
    records: Iterable[dict[str, object]], pools: Pools, seed: int
) -> Iterator[dict[str, object]]:
    sur = Surrogates(pools, random.Random(f"resurrogate:{seed}"))
    for rec in records:
        text = str(rec["text"])
        patient = patient_of(str(rec["id"]))
        spans = sorted(rec["spans"], key=lambda s: (s["start"], s["end"]))  # type: ignore
        parts: list[str] = []
        out_spans: list[dict[str, object]] = []
        pos = 0
        new_len = 0
        for sp in spans:
            start, end, label = int(sp["start"]), int(sp["end"]), str(sp["label"])
            if start < pos:
                continue
            parts.append(text[pos:start])
            new_len += start - pos
            new = sur.replace(patient, label, text[start:end])
            parts.append(new)
            out_spans.append({"start": new_len, "end": new_len + len(new), "label": label})
            new_len += len(new)
            pos = end
            if label == "LOCATION":
                m = _FAC_NOUN.match(text, pos)
                if m:
                    parts.append(m.group())
                    new_len += len(m.group())
                    out_spans[-1]["end"] = new_len
                    pos = m.end()
        parts.append(text[pos:])
        new_text = "".join(parts)
        for sp in out_spans:
            sp["text"] = new_text[int(sp["start"]) : int(sp["end"])]  # type: ignore[call-overload]
        yield {"id": rec["id"], "text": new_text, "spans": out_spans}

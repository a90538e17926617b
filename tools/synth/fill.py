"""Template filling: `{slot}` placeholders become text pieces, PHI pieces carry their label.

A template is one line of text with `{slot}` placeholders and `[a|b|c]` alternations. Each
document has a `Cast` (its patient, relatives, clinicians, facility) so mentions repeat the way
they do in real notes ("Mr. Okafor ... Okafor's wife ..."). Annotation conventions follow the
PhysioNet gold where it is explicit (titles "Dr."/"Mr." and "RN" are not PHI, initials are,
states and countries are not, ages only over 89, times are not), and cover whole facility names
("Riverside Medical Center", the noun included).
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable
from functools import partial

from .cast import MONTHS, SLOT, VOCAB, Cast, Names, Person, Piece
from .pools import Pools


class Filler:
    """Turns templates into labelled pieces for one document."""

    def __init__(self, pools: Pools, rng: random.Random) -> None:
        self.rng = rng
        self.names = Names(pools, rng)
        self.pools = pools
        self.cast = self.new_cast()
        self.slots: dict[str, Callable[[], list[Piece]]] = {
            name.removeprefix("s_"): getattr(self, name)
            for name in dir(self)
            if name.startswith("s_")
        }
        for key in VOCAB:  # every vocab.txt section is a non-PHI slot of the same name
            self.slots.setdefault(key, partial(self._vocab, key))

    # --- cast ----------------------------------------------------------------------------
    def person(self) -> Person:
        r = self.rng
        first = self.names.draw("first")
        last = self.names.draw("last")
        if r.random() < 0.08:
            last = f"{last}-{self.names.draw('last')}"
        middle = self.names.draw("first") if r.random() < 0.2 else ""
        return Person(first, last, middle)

    def new_cast(self) -> Cast:
        r = self.rng
        rels = [(r.choice(VOCAB["relword"]), self.person()) for _ in range(r.randint(1, 3))]
        docs = [self.person() for _ in range(r.randint(2, 4))]
        return Cast(self.person(), rels, docs, self.facility(), self.names.draw("city"))

    # --- building blocks -------------------------------------------------------------------
    def choice(self, options: list[str]) -> str:
        return self.rng.choice(options)

    def name_variant(self, p: Person, formal: bool = True) -> list[Piece]:
        r = self.rng.random()
        if r < 0.3:
            out: list[Piece] = [(p.first, "NAME"), (" ", None), (p.last, "NAME")]
            if p.middle and self.rng.random() < 0.5:
                out[1:1] = [(" ", None), (p.middle[0] + ".", "NAME")]
            return out
        if r < 0.45 and formal:
            return [
                (self.choice(["Mr. ", "Mrs. ", "Ms. ", "Mr ", "Mrs ", "Miss "]), None),
                (p.last, "NAME"),
            ]
        if r < 0.55:
            return [(p.last, "NAME"), (", ", None), (p.first, "NAME")]
        if r < 0.65:
            return [(p.first, "NAME"), (" ", None), (p.last[0] + self.choice([".", ""]), "NAME")]
        if r < 0.75:
            return [(p.first[0] + ".", "NAME"), (" ", None), (p.last, "NAME")]
        if r < 0.88:
            return [(p.first, "NAME")]
        return [(p.last, "NAME")]

    def facility(self) -> list[Piece]:
        r = self.rng
        last, city, first = (
            self.names.draw("last"),
            self.names.draw("city"),
            self.names.draw("first"),
        )
        noun = self.choice(
            [
                "Hospital",
                "Medical Center",
                "General Hospital",
                "Memorial Hospital",
                "Regional Medical Center",
                "Clinic",
                "Health Center",
                "Rehab",
                "Nursing Home",
                "Community Hospital",
                "Infirmary",
                "Med Ctr",
                "Rehabilitation Center",
                "Cancer Center",
                "Children's Hospital",
            ]
        )
        shape = r.random()
        if shape < 0.35:
            return [(f"{city} {noun}", "LOCATION")]
        if shape < 0.6:
            return [(f"{last} {noun}", "LOCATION")]
        if shape < 0.7:
            return [(f"St. {first}'s {noun}" if r.random() < 0.5 else f"Saint {first}", "LOCATION")]
        if shape < 0.8:
            return [(f"University of {city} {noun}", "LOCATION")]
        if shape < 0.9:
            letters = "".join(r.choice(string.ascii_uppercase) for _ in range(r.randint(2, 3)))
            return [(letters + self.choice(["MC", "H", "GH", "MH"]), "LOCATION")]
        return [(f"{city} VA" + self.choice(["", " Medical Center", "MC"]), "LOCATION")]

    def date(self, long: bool = True) -> str:
        r = self.rng
        y, m, d = r.randint(1935, 2029), r.randint(1, 12), r.randint(1, 28)
        mon = MONTHS[m - 1]
        forms = [
            f"{m}/{d}",
            f"{m}/{d}/{y % 100:02d}",
            f"{m:02d}/{d:02d}/{y}",
            f"{m}-{d}-{y}",
            f"{y}-{m:02d}-{d:02d}",
            f"{mon} {d}",
            f"{mon} {d}, {y}",
            f"{d} {mon} {y}",
            f"{mon[:3]} {d}",
            f"{mon[:3]}. {d}, {y}",
            f"{d}-{mon[:3]}-{y}",
            f"{m}.{d}.{y}",
            f"{mon} {d}{self.choice(['st', 'nd', 'rd', 'th'])}",
            f"{d:02d}{mon[:3].upper()}{y}",
            f"{mon} {y}",
            f"{m}/{y % 100:02d}",
            f"{m}/{d}/{y}",
        ]
        if not long:
            forms = [*forms[:2], f"{mon[:3]} {d}", f"{m}/{d}"]
        return self.choice(forms)

    def phone(self) -> str:
        r = self.rng
        a, b, c = r.randint(201, 989), r.randint(200, 999), r.randint(0, 9999)
        return self.choice(
            [
                f"{a}-{b}-{c:04d}",
                f"({a}) {b}-{c:04d}",
                f"{a}.{b}.{c:04d}",
                f"{b}-{c:04d}",
                f"{a} {b} {c:04d}",
                f"{a}{b}{c:04d}",
                f"+1 {a} {b} {c:04d}",
                f"1-{a}-{b}-{c:04d}",
            ]
        )

    def ident(self) -> str:
        r = self.rng
        digits = "".join(r.choice(string.digits) for _ in range(r.randint(6, 10)))
        up = string.ascii_uppercase
        return self.choice(
            [
                digits,
                f"{r.randint(100, 899)}-{r.randint(10, 99)}-{r.randint(1000, 9999)}",
                f"{r.randint(1, 9)}{r.choice(up)}{r.choice(up)}{r.randint(0, 9)}-"
                f"{r.choice(up)}{r.choice(up)}{r.randint(0, 9)}-{r.choice(up)}{r.choice(up)}"
                f"{r.randint(10, 99)}",
                f"{r.randint(1, 9)}{''.join(r.choice(up) for _ in range(3))}{r.randint(100, 999)}",
                f"{r.choice(up)}{r.choice(up)}{digits}",
                f"{digits[:3]}-{digits[3:]}",
            ]
        )

    # --- PHI slots (s_ prefix; called by name from templates) ------------------------------
    def s_pt(self) -> list[Piece]:
        return self.name_variant(self.cast.patient)

    def s_pt_first(self) -> list[Piece]:
        return [(self.cast.patient.first, "NAME")]

    def s_pt_last(self) -> list[Piece]:
        return [(self.cast.patient.last, "NAME")]

    def s_pt_title(self) -> list[Piece]:
        return [
            (self.choice(["Mr. ", "Mrs. ", "Ms. ", "MR. ", "Mr ", "Ms "]), None),
            (self.cast.patient.last, "NAME"),
        ]

    def s_pt_full(self) -> list[Piece]:
        p = self.cast.patient
        if p.middle and self.rng.random() < 0.4:
            return [
                (p.first, "NAME"),
                (" ", None),
                (p.middle, "NAME"),
                (" ", None),
                (p.last, "NAME"),
            ]
        return [(p.first, "NAME"), (" ", None), (p.last, "NAME")]

    def s_pt_init(self) -> list[Piece]:
        p = self.cast.patient
        return [(f"{p.first} {p.last[0]}.", "NAME")]

    def s_pt_header(self) -> list[Piece]:
        p = self.cast.patient
        return [(p.last.upper(), "NAME"), (", ", None), (p.first.upper(), "NAME")]

    def s_rel(self) -> list[Piece]:
        word, p = self.rng.choice(self.cast.relatives)
        name = [(p.first, "NAME")] if self.rng.random() < 0.6 else self.name_variant(p, False)
        sep = self.choice([" ", " ", ", ", " (", " - "])
        tail = [(")", None)] if sep == " (" else []
        return [
            (self.choice(["", "pt's ", "her ", "his ", "the "]) + word + sep, None),
            *name,
            *tail,
        ]

    def s_relname(self) -> list[Piece]:
        return [(self.rng.choice(self.cast.relatives)[1].first, "NAME")]

    def s_dr(self) -> list[Piece]:
        p = self.rng.choice(self.cast.clinicians)
        r = self.rng.random()
        if r < 0.45:
            return [
                (self.choice(["Dr. ", "Dr ", "dr. ", "DR. ", "Dr.", "Doctor "]), None),
                (p.last, "NAME"),
            ]
        if r < 0.6:
            return [
                (self.choice(["Dr. ", "Dr "]), None),
                (p.first, "NAME"),
                (" ", None),
                (p.last, "NAME"),
            ]
        if r < 0.75:
            return [(p.last, "NAME"), (self.choice([" MD", ", MD", " M.D.", " NP", " PA"]), None)]
        if r < 0.85:
            return [(f"{p.first[0]}. {p.last}", "NAME")]
        return [
            (p.first, "NAME"),
            (" ", None),
            (p.last, "NAME"),
            (self.choice([", MD", " MD", ", DO", ", NP"]), None),
        ]

    def s_rn(self) -> list[Piece]:
        p = self.rng.choice(self.cast.clinicians)
        r = self.rng.random()
        if r < 0.3:
            return [(self.choice(["RN ", "rn ", "nurse "]), None), (p.first, "NAME")]
        if r < 0.6:
            return [
                (p.first, "NAME"),
                (" ", None),
                (p.last, "NAME"),
                (self.choice([", RN", " RN", " R.N.", ", RRT"]), None),
            ]
        if r < 0.8:
            return [(f"{p.first} {p.last[0]}.", "NAME"), (self.choice([" RN", ", RN"]), None)]
        return [(p.first, "NAME")]

    def s_name(self) -> list[Piece]:
        return self.name_variant(self.person(), formal=True)

    def s_full(self) -> list[Piece]:
        p = self.person()
        return [(p.first, "NAME"), (" ", None), (p.last, "NAME")]

    def s_first(self) -> list[Piece]:
        return [(self.names.draw("first"), "NAME")]

    def s_last(self) -> list[Piece]:
        return [(self.names.draw("last"), "NAME")]

    def s_fac(self) -> list[Piece]:
        return self.cast.facility if self.rng.random() < 0.6 else self.facility()

    def s_city(self) -> list[Piece]:
        return [
            (self.cast.city if self.rng.random() < 0.4 else self.names.draw("city"), "LOCATION")
        ]

    def s_town_st(self) -> list[Piece]:
        return [
            (self.names.draw("city"), "LOCATION"),
            (self.choice([", ", " "]), None),
            (self.choice(VOCAB["state"][:14]), None),
        ]

    def s_addr(self) -> list[Piece]:
        r = self.rng
        street = f"{r.randint(1, 9999)} {self.names.draw('street')}"
        if not any(street.endswith(s) for s in ("St", "Street", "Ave", "Road", "Rd")):
            street += self.choice(
                [" St", " Street", " Ave", " Road", " Rd", " Blvd", " Lane", " Dr", " Way", ""]
            )
        out: list[Piece] = [(street, "LOCATION")]
        if r.random() < 0.3:
            out += [
                (", ", None),
                (
                    self.choice(["Apt ", "Unit ", "#"])
                    + str(r.randint(1, 40))
                    + self.choice(["", "B", "C"]),
                    "LOCATION",
                ),
            ]
        if r.random() < 0.6:
            out += [
                (", ", None),
                (self.names.draw("city"), "LOCATION"),
                (", ", None),
                (self.choice(VOCAB["state"][:8]), None),
            ]
            if r.random() < 0.6:
                out += [(" ", None), (f"{r.randint(1000, 99999):05d}", "LOCATION")]
        return out

    def s_street(self) -> list[Piece]:
        return [(self.names.draw("street"), "LOCATION")]

    def s_date(self) -> list[Piece]:
        return [(self.date(), "DATE")]

    def s_sdate(self) -> list[Piece]:
        return [(self.date(long=False), "DATE")]

    def s_year(self) -> list[Piece]:
        y = self.rng.randint(1940, 2028)
        return [(self.choice([str(y), f"'{y % 100:02d}", str(y)]), "DATE")]

    def s_phone(self) -> list[Piece]:
        return [(self.phone(), "PHONE_OR_FAX")]

    def s_pager(self) -> list[Piece]:
        r = self.rng
        num = self.choice(
            [
                f"{r.randint(10000, 99999)}",
                f"{r.randint(1, 9)}-{r.randint(1000, 9999)}",
                f"x{r.randint(1000, 99999)}",
            ]
        )
        return [
            (self.choice(["pager ", "pager #", "pg ", "beeper ", "ext ", "x"]), None),
            (num, "PHONE_OR_FAX"),
        ]

    def s_mrn(self) -> list[Piece]:
        return [
            (self.choice(["MRN ", "MRN: ", "MR# ", "unit no. ", "Medical record #"]), None),
            (self.ident(), "ID"),
        ]

    def s_id(self) -> list[Piece]:
        return [(self.ident(), "ID")]

    def s_email(self) -> list[Piece]:
        p = self.person()
        user = re.sub(r"[^a-z]", "", (p.first[0] + p.last).lower()) or "user"
        dom = re.sub(r"[^a-z]", "", self.names.draw("last").lower()) or "mail"
        return [
            (f"{user}{self.rng.randint(1, 99)}@{dom}.{self.choice(['com', 'org', 'net'])}", "EMAIL")
        ]

    def s_url(self) -> list[Piece]:
        dom = re.sub(r"[^a-z]", "", self.names.draw("last").lower()) or "site"
        return [
            (
                self.choice(["https://", "http://", "www.", "https://www."])
                + dom
                + self.choice([".com", ".org", ".net/patient", ".com/portal"]),
                "URL",
            )
        ]

    def s_age90(self) -> list[Piece]:
        n = self.rng.randint(90, 104)
        words = {
            90: "ninety",
            91: "ninety-one",
            92: "ninety-two",
            95: "ninety-five",
            101: "one hundred and one",
        }
        text = words.get(n, str(n)) if self.rng.random() < 0.25 else str(n)
        return [(text, "AGE")]

    def s_org(self) -> list[Piece]:
        return [(self.rng.choice(self.pools["company"]), "ORGANIZATION")]

    # --- non-PHI slots -----------------------------------------------------------------------
    def s_age(self) -> list[Piece]:
        return [(str(self.rng.randint(18, 89)), None)]

    def s_time(self) -> list[Piece]:
        r = self.rng
        h, m = r.randint(0, 23), self.choice(["00", "15", "30", "45", "10"])
        return [
            (
                self.choice(
                    [
                        f"{h:02d}{m}",
                        f"{h}:{m}",
                        f"{(h % 12) or 12}{self.choice(['am', 'pm', ' pm', 'AM'])}",
                        f"{h:02d}:{m}",
                    ]
                ),
                None,
            )
        ]

    def s_dose(self) -> list[Piece]:
        r = self.rng
        return [
            (
                self.choice(
                    [
                        f"{r.randint(1, 100)} mg",
                        f"{r.randint(1, 20)}mg",
                        f"{r.randint(1, 10)} units",
                        f"{r.randint(1, 500)}mcg/hr",
                        f"{r.randint(1, 5)}L",
                        f"{r.randint(1, 40)} meq",
                        f"{r.randint(50, 250)}cc/hr",
                    ]
                ),
                None,
            )
        ]

    def s_vital(self) -> list[Piece]:
        r = self.rng
        return [
            (
                self.choice(
                    [
                        f"BP {r.randint(80, 180)}/{r.randint(40, 100)}",
                        f"HR {r.randint(50, 140)}",
                        f"RR {r.randint(10, 35)}",
                        f"T {r.randint(96, 103)}.{r.randint(0, 9)}",
                        f"sats {r.randint(85, 100)}%",
                        f"CVP {r.randint(2, 18)}",
                        f"{r.randint(80, 180)}/{r.randint(40, 100)}",
                        f"GCS {r.randint(3, 15)}",
                        f"UO {r.randint(10, 300)}cc/hr",
                        f"wt {r.randint(40, 140)} kg",
                    ]
                ),
                None,
            )
        ]

    def s_lab(self) -> list[Piece]:
        r = self.rng
        return [
            (
                self.choice(
                    [
                        f"K {r.randint(2, 6)}.{r.randint(0, 9)}",
                        f"Na {r.randint(125, 150)}",
                        f"Hct {r.randint(20, 45)}.{r.randint(0, 9)}",
                        f"WBC {r.randint(2, 30)}.{r.randint(0, 9)}",
                        f"INR {r.randint(1, 5)}.{r.randint(0, 9)}",
                        f"Cr {r.randint(0, 6)}.{r.randint(0, 9)}",
                        f"lactate {r.randint(0, 9)}.{r.randint(0, 9)}",
                        f"BUN {r.randint(5, 90)}",
                        f"ABG {self.choice(['7.32', '7.41', '7.28'])}/{r.randint(30, 60)}"
                        f"/{r.randint(60, 200)}",
                        f"plt {r.randint(20, 400)}",
                    ]
                ),
                None,
            )
        ]

    def s_score(self) -> list[Piece]:
        r = self.rng
        return [
            (
                self.choice(
                    [
                        f"{r.randint(0, 10)}/10",
                        f"{r.randint(0, 5)}/5",
                        f"{r.randint(3, 15)}/15",
                        f"{r.randint(1, 4)}+",
                    ]
                ),
                None,
            )
        ]

    def s_num(self) -> list[Piece]:
        return [(str(self.rng.randint(1, 12)), None)]

    def _vocab(self, key: str) -> list[Piece]:
        return [(self.choice(VOCAB[key]), None)]

    def s_month(self) -> list[Piece]:
        return [(self.choice(MONTHS), "DATE")]

    # --- templates -------------------------------------------------------------------------
    def expand(self, template: str) -> list[Piece]:
        out: list[Piece] = []
        pos = 0
        for m in SLOT.finditer(template):
            if m.start() > pos:
                out.append((template[pos : m.start()], None))
            if m.group(1):
                out.extend(self.slots[m.group(1)]())
            else:
                out.append((self.choice(m.group(2).split("|")), None))
            pos = m.end()
        if pos < len(template):
            out.append((template[pos:], None))
        return out


def slot_names() -> set[str]:
    return {n.removeprefix("s_") for n in dir(Filler) if n.startswith("s_")} | set(VOCAB)

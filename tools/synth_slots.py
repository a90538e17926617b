"""The synthetic notes' template slots: `{dr}` in a template calls `Gen.s_dr`.

PHI slots return gold-labelled segments; non-PHI slots return look-alikes that must not be
flagged (times, doses, vitals, eponyms). Part of tools/synth_notes.py (see its docstring).
"""

from __future__ import annotations

from synth_data import (
    DRUGS,
    EPONYM_LINES,
    MONTH_ABBR,
    MONTHS,
    RELATIONS,
    STATES,
    Segs,
    lit,
    phi,
)
from synth_gen import GenBase


class Gen(GenBase):
    """Fills template slots. One per corpus; all randomness comes from `rng` and `fake`."""

    # ------------------------------------------------------------------ PHI slots

    def s_dr(self) -> Segs:
        """A physician with a title: Dr. Last / dr last / Dr. F. Last / DR FIRST LAST."""
        first, last = self.doctor()
        title = self.pick(("Dr. ", "Dr ", "dr ", "dr. ", "DR. ", "Dr.", "MD "))
        r = self.rng.random()
        kind = "dr_title"
        if r < 0.6:
            parts = [(last, "")]
        elif r < 0.78:
            parts = [(first[0], ". "), (last, "")]
            kind = "dr_initial"
        else:
            parts = [(first, " "), (last, "")]
            kind = "dr_full"
        if title == "Dr." and r < 0.6:
            kind = "dr_nospace"
        if title == "MD ":  # "MD Last" is rare; use "Last MD" instead
            return [*self.name_segs(parts, "HCPName", "dr_suffix_md"), lit(" MD")]
        return [lit(title, kind), *self.name_segs(parts, "HCPName", kind)]

    def s_drlast(self) -> Segs:
        """A physician's surname alone (after "per", "aware", in a team list)."""
        _, last = self.doctor()
        return self.name_segs([(last, "")], "HCPName", "surname_bare")

    def s_initlast(self) -> Segs:
        """ "K. Last" / "K Last" with no title: the dev notes' usual clinician reference."""
        first, last = self.doctor()
        sep = self.pick((". ", ".", " "))
        return self.name_segs([(first[0], sep), (last, "")], "HCPName", "initial_last")

    def s_clin(self) -> Segs:
        """A nurse, NP, PA, RT: "NP Janet", "Janet Lee, RN", "RN (Tom)", "PA Kowalski"."""
        first, last = self.pick_tuple(self.cast.nurses)
        role = self.pick(("RN", "NP", "PA", "RRT", "RT", "charge RN", "resource nurse"))
        r = self.rng.random()
        if r < 0.25:
            return [lit(role + " "), *self.name_segs([(first, "")], "HCPName", "role_first")]
        if r < 0.45:
            return [
                *self.name_segs([(first, " "), (last, "")], "HCPName", "full_role"),
                lit(", " + role),
            ]
        if r < 0.6:
            return [lit(role + " "), *self.name_segs([(last, "")], "HCPName", "role_last")]
        if r < 0.75:
            return [
                lit(role + " ("),
                *self.name_segs([(first, "")], "HCPName", "role_paren"),
                lit(")"),
            ]
        if r < 0.88:
            return [*self.name_segs([(first, "")], "HCPName", "first_role"), lit(" " + role)]
        return [
            *self.name_segs([(first[0], ". "), (last, "")], "HCPName", "initial_last"),
            lit(" " + role),
        ]

    def s_sig(self) -> Segs:
        """Signature line at the end of a note."""
        first, last = self.pick_tuple(self.cast.nurses)
        role = self.pick(("RN", "RN", "RRT", "SN", "RN, BSN", "NP"))
        r = self.rng.random()
        if r < 0.35:
            segs = self.name_segs([(first, " "), (last, "")], "HCPName", "signature")
            return [*segs, lit(", " + role)]
        if r < 0.55:
            mid = chr(ord("A") + self.rng.randrange(26))
            segs = self.name_segs([(first, " "), (mid, ". "), (last, "")], "HCPName", "signature")
            return [*segs, lit(", " + role)]
        if r < 0.75:
            return [
                *self.name_segs([(first[0], ". "), (last, "")], "HCPName", "signature"),
                lit(" " + role),
            ]
        if r < 0.88:
            return [
                lit("-"),
                *self.name_segs([(first, "")], "HCPName", "signature_first"),
                lit(" " + role),
            ]
        return [
            *self.name_segs([(last, ", "), (first, "")], "HCPName", "signature_lastfirst"),
            lit(" " + role),
        ]

    def s_pt(self) -> Segs:
        """The patient by title and surname: "Mr. Last", "mrs last"."""
        c = self.cast
        title = c.pt_title if self.chance(0.8) else c.pt_title.lower()
        return [
            lit(title + " ", "pt_title"),
            *self.name_segs([(c.pt_last, "")], "PTName", "pt_title"),
        ]

    def s_ptfull(self) -> Segs:
        """The patient in a header: "LAST, FIRST" or "First Last"."""
        c = self.cast
        if self.chance(0.5):
            return self.name_segs(
                [(c.pt_last.upper(), ", "), (c.pt_first.upper(), "")], "PTName", "pt_lastfirst"
            )
        return self.name_segs([(c.pt_first, " "), (c.pt_last, "")], "PTName", "pt_full")

    def s_nick(self) -> Segs:
        """The name a patient goes by."""
        return self.name_segs([(self.first(), "")], "PTName", "pt_nickname")

    def _relative(self) -> tuple[str, str, str]:
        if self.chance(0.25):
            rel = (self.pick(RELATIONS), self.first(), self.last())
            self.cast.relatives.append(rel)
            return rel
        return self.cast.relatives[self.rng.randrange(len(self.cast.relatives))]

    def s_rel(self) -> Segs:
        """A family member: "wife Mary", "pt's son, John", "daughter mary (HCP)"."""
        relation, first, last = self._relative()
        prefix = self.pick(("", "", "pt's ", "his ", "her ", "the "))
        sep = self.pick((" ", " ", ", ", " - ", "-", " "))
        r = self.rng.random()
        if r < 0.65:
            parts = [(first, "")]
            kind = "rel_first"
        elif r < 0.85:
            parts = [(first, " "), (last, "")]
            kind = "rel_full"
        else:
            kind = "rel_first_lower"
            segs = [phi(first.lower(), "NAME", "RelativeProxyName", kind)]
            return [lit(prefix + relation + sep, kind), *segs]
        return [
            lit(prefix + relation + sep, kind),
            *self.name_segs(parts, "RelativeProxyName", kind),
        ]

    def s_relname(self) -> Segs:
        """A relative's first name alone, already introduced ("Mary aware")."""
        _, first, _ = self.cast.relatives[0]
        return self.name_segs([(first, "")], "RelativeProxyName", "rel_bare")

    def s_relword(self) -> Segs:
        return [lit(self.cast.relatives[0][0])]

    def s_hosp(self) -> Segs:
        if self.chance(0.5):
            return list(self.cast.hospital)
        return self.hosp_fresh()

    def s_ward(self) -> Segs:
        """An in-house unit named after a building, e.g. "Whitfield 4" ("4" is not PHI)."""
        name = self.name_case(self.last())
        num = self.pick(("2", "3", "4", "5", "6", "7", "9", "2 north", "3S", "5 west"))
        return [phi(name, "LOCATION", "Location", "ward"), lit(" " + num, "ward")]

    def s_city(self) -> Segs:
        return [phi(self.name_case(self.city()), "LOCATION", "Location", "city")]

    def s_cityst(self) -> Segs:
        """ "Springfield, OH": the state is allowed under Safe Harbor and not PHI here."""
        st = self.pick(STATES)
        return [
            phi(self.name_case(self.city()), "LOCATION", "Location", "city_state"),
            lit(", " + st, "state_abbr"),
        ]

    def s_addr(self) -> Segs:
        """Street address: number and street name are PHI, the suffix is not."""
        num = str(self.rng.randint(2, 9899))
        street = (
            self._draw(self.fake.last_name)
            if self.chance(0.5)
            else self._draw(lambda: self.fake.street_name().split()[0])
        )
        suffix = self.pick((" St.", " St", " Ave", " Road", " Rd", " Lane", " Dr", " Blvd"))
        return [
            phi(num, "LOCATION", "Location", "street_number"),
            lit(" "),
            phi(self.name_case(street), "LOCATION", "Location", "street_name"),
            lit(suffix, "street_suffix"),
        ]

    def _month_day(self) -> tuple[int, int]:
        return self.rng.randint(1, 12), self.rng.randint(1, 28)

    def _year(self) -> int:
        return self.rng.randint(1979, 2024)

    def s_md(self) -> Segs:
        m, d = self._month_day()
        text = f"{m:02d}/{d:02d}" if self.chance(0.15) else f"{m}/{d}"
        return [phi(text, "DATE", "Date", "date_md")]

    def s_dfull(self) -> Segs:
        m, d = self._month_day()
        y = self._year()
        r = self.rng.random()
        if r < 0.45:
            return [phi(f"{m}/{d}/{y % 100:02d}", "DATE", "Date", "date_mdyy")]
        if r < 0.75:
            return [phi(f"{m:02d}/{d:02d}/{y}", "DATE", "Date", "date_mdyyyy")]
        if r < 0.88:
            return [phi(f"{m}-{d}-{y % 100:02d}", "DATE", "Date", "date_dashed")]
        return [phi(f"{y}-{m:02d}-{d:02d}", "DATE", "Date", "date_iso")]

    def s_dword(self) -> Segs:
        """Month-name dates: "Oct 20th", "October 3", "20 Oct", "oct. 5, 1992"."""
        m, d = self._month_day()
        month = MONTHS[m - 1] if self.chance(0.4) else MONTH_ABBR[m - 1]
        if self.chance(0.2) and month in MONTH_ABBR and month != "May":
            month += "."
        suffix = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd"}.get(d, "th")
        day = f"{d}{suffix}" if self.chance(0.4) else str(d)
        r = self.rng.random()
        if r < 0.55:
            text, kind = f"{month} {day}", "date_month_day"
        elif r < 0.75:
            text, kind = f"{day} {month}", "date_day_month"
        else:
            text, kind = f"{month} {day}, {self._year()}", "date_month_day_year"
        return [phi(text, "DATE", "Date", kind)]

    def s_nth(self) -> Segs:
        """ "the 3rd", "on the 21st": an ordinal day alone."""
        d = self.rng.randint(1, 30)
        suffix = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd"}.get(d, "th")
        return [lit("the ", "date_ordinal"), phi(f"{d}{suffix}", "DATE", "Date", "date_ordinal")]

    def s_my(self) -> Segs:
        """Month and year: "6/85", "03/2019"."""
        m, y = self.rng.randint(1, 12), self._year()
        text = f"{m}/{y % 100:02d}" if self.chance(0.6) else f"{m:02d}/{y}"
        return [phi(text, "DATE", "Date", "date_month_year")]

    def s_month(self) -> Segs:
        m = self.rng.randint(1, 12)
        return [phi(MONTHS[m - 1], "DATE", "Date", "date_month_only")]

    def s_year(self) -> Segs:
        y = self._year()
        r = self.rng.random()
        if r < 0.35:
            return [
                lit("'", "date_year_apos"),
                phi(f"{y % 100:02d}", "DATE", "DateYear", "date_year_apos"),
            ]
        if r < 0.75:
            return [phi(str(y), "DATE", "DateYear", "date_year4")]
        if r < 0.9:
            return [phi(f"{y % 100:02d}", "DATE", "DateYear", "date_year2")]
        return [
            lit("the ", "date_decade"),
            phi(f"{(y // 10) * 10}s", "DATE", "DateYear", "date_decade"),
        ]

    def s_date(self) -> Segs:
        r = self.rng.random()
        if r < 0.6:
            return self.s_md()
        if r < 0.8:
            return self.s_dfull()
        return self.s_dword()

    def s_phone(self) -> Segs:
        a, b, c = (
            self.rng.randint(201, 989),
            self.rng.randint(201, 989),
            self.rng.randint(0, 9999),
        )
        r = self.rng.random()
        if r < 0.35:
            text, kind = f"{a}-{b}-{c:04d}", "phone_dashed"
        elif r < 0.55:
            text, kind = f"({a}) {b}-{c:04d}", "phone_parens"
        elif r < 0.7:
            text, kind = f"{a} {b}-{c:04d}", "phone_space"
        elif r < 0.82:
            text, kind = f"{b}-{c:04d}", "phone_7digit"
        elif r < 0.9:
            text, kind = f"{a}.{b}.{c:04d}", "phone_dots"
        else:
            text, kind = f"{a}{b}{c:04d}", "phone_10digits"
        return [phi(text, "PHONE", "Phone", kind)]

    def s_pager(self) -> Segs:
        word = self.pick(("pager #", "Pager # ", "pgr ", "beeper ", "pg ", "page at ", "bpr #"))
        n = self.rng.randint(10000, 99999)
        text = f"{n}" if self.chance(0.7) else f"{str(n)[0]}-{str(n)[1:]}"
        return [lit(word, "pager"), phi(text, "PHONE", "Phone", "pager")]

    def s_ext(self) -> Segs:
        word = self.pick(("x", "ext ", "ext. ", "x ", "extension "))
        n = self.rng.randint(1000, 99999)
        text = str(n) if self.chance(0.6) else f"{str(n)[0]}-{str(n)[1:]}"
        return [lit(word, "extension"), phi(text, "PHONE", "Phone", "extension")]

    def s_oldage(self) -> Segs:
        age = self.rng.randint(90, 103)
        unit = self.pick((" yo", " y/o", " YO", " year old", " yr old", "yo", " y.o."))
        return [phi(str(age), "AGE", "Age", "age_over89"), lit(unit, "age_over89")]

    def s_mrn(self) -> Segs:
        word = self.pick(("MRN ", "MR# ", "MRN: ", "unit # ", "acct # "))
        n = self.rng.randint(100000, 9999999)
        text = str(n) if self.chance(0.7) else f"{str(n)[:3]}-{str(n)[3:5]}-{str(n)[5:]}"
        return [lit(word, "id"), phi(text, "ID", "ID", "id")]

    # ------------------------------------------------------------------ non-PHI slots

    def s_age(self) -> Segs:
        age = self.rng.randint(19, 89)
        unit = self.pick((" yo", " y/o", " YO", " year old", " yr old", "yo", " y.o.", " YR OLD"))
        return [lit(f"{age}{unit}", "age_under90")]

    def s_time(self) -> Segs:
        h, m = self.rng.randint(0, 23), self.rng.choice((0, 0, 15, 30, 45, 10, 20, 5))
        r = self.rng.random()
        if r < 0.55:
            t = f"{h:02d}{m:02d}"
        elif r < 0.75:
            t = f"{(h % 12) or 12}:{m:02d}{self.pick(('am', 'pm', ' AM', ' PM', 'a', 'p'))}"
        elif r < 0.9:
            t = f"{(h % 12) or 12}{self.pick(('am', 'pm', 'p', 'a'))}"
        else:
            t = f"{h}:{m:02d}"
        return [lit(t, "time")]

    def s_bp(self) -> Segs:
        s = self.rng.randint(82, 178)
        d = self.rng.randint(38, min(s - 20, 98))
        return [lit(f"{s}/{d}", "bp")]

    def s_hr(self) -> Segs:
        return [lit(str(self.rng.randint(48, 132)), "vital")]

    def s_rr(self) -> Segs:
        return [lit(str(self.rng.randint(10, 34)), "vital")]

    def s_sat(self) -> Segs:
        return [lit(f"{self.rng.randint(88, 100)}%", "vital")]

    def s_temp(self) -> Segs:
        return [lit(f"{self.rng.randint(960, 1029) / 10:.1f}", "vital")]

    def s_drug(self) -> Segs:
        d = self.pick(DRUGS)
        return [lit(d if self.chance(0.5) else d.lower(), "drug")]

    def s_dose(self) -> Segs:
        dose = self.pick(
            (
                "0.5mg",
                "1 mg",
                "2mg",
                "2 mg",
                "4mg",
                "5 mg",
                "10mg",
                "20 mg",
                "40mg",
                "80 mg",
                "1 gm",
                "25mcg",
                "50 mcg",
                "10 units",
                "4 units",
                "20 meq",
                "40meq",
                "2 mcg/kg/min",
                "0.5mcg/kg/min",
                "5 mcg/min",
                "30 mcg/kg/min",
                "100cc/hr",
            )
        )
        return [lit(dose, "dose")]

    def s_lab(self) -> Segs:
        r = self.rng.randrange(9)
        x = self.rng.random()
        val = {
            0: f"K {3 + x * 2:.1f}",
            1: f"Hct {22 + x * 14:.1f}",
            2: f"INR {1 + x * 2:.1f}",
            3: f"WBC {4 + x * 18:.1f}",
            4: f"BUN/Cr {self.rng.randint(12, 90)}/{0.6 + x * 4:.1f}",
            5: f"Mg {1.4 + x:.1f}",
            6: f"glucose {self.rng.randint(8, 30)}0's",
            7: f"cks {self.rng.randint(200, 2900)}-{self.rng.randint(20, 300)}-{x * 9:.1f}",
            8: f"plts {self.rng.randint(40, 400)}",
        }[r]
        return [lit(val, "lab")]

    def s_abg(self) -> Segs:
        ph = 7.2 + self.rng.random() * 0.25
        return [
            lit(
                f"{ph:.2f}/{self.rng.randint(30, 65)}/{self.rng.randint(55, 190)}"
                + (f"/{self.rng.randint(18, 34)}" if self.chance(0.5) else ""),
                "abg",
            )
        ]

    def s_pain(self) -> Segs:
        return [lit(f"{self.rng.randint(0, 10)}/10", "pain_scale")]

    def s_vent(self) -> Segs:
        r = self.rng.randrange(4)
        val = {
            0: f"PS {self.rng.randint(5, 18)}/5",
            1: f"CPAP {self.rng.randint(5, 10)}/5",
            2: f"AC {self.pick(('450', '500', '550', '600'))}x{self.rng.randint(10, 20)} "
            f"peep {self.rng.randint(5, 12)} fio2 {self.rng.randint(4, 10)}0%",
            3: f"SIMV {self.rng.randint(6, 14)}/{self.pick(('500', '600'))}/5",
        }[r]
        return [lit(val, "vent")]

    def s_io(self) -> Segs:
        return [lit(f"{self.rng.randint(800, 3900)}/{self.rng.randint(600, 3900)}", "io")]

    def s_eponym(self) -> Segs:
        return [lit(self.pick(EPONYM_LINES), "eponym")]

    def s_weekday(self) -> Segs:
        day = self.pick(
            (
                "Monday",
                "Tuesday",
                "Wednesday",
                "Thursday",
                "Friday",
                "Saturday",
                "Sunday",
                "the weekend",
                "tomorrow",
            )
        )
        return [lit(day, "weekday")]

    def s_gcs(self) -> Segs:
        return [lit(f"{self.rng.randint(3, 15)}/15", "gcs")]

    def s_strength(self) -> Segs:
        return [lit(f"{self.rng.randint(2, 5)}/5", "strength")]

"""Vocabulary and word tests of the name rules.

The name rules (`name_titles`, `name_context`, `names`) pair a cue with these tests;
`Marks` collects their token hits and switches rules off by name.
"""

from __future__ import annotations

from collections.abc import Callable

from phiguard.detectors.local.clinical.common import FUNCTION_WORDS
from phiguard.detectors.local.clinical.lexicon import Lexicon
from phiguard.detectors.local.clinical.tokens import Note, Token
from phiguard.detectors.local.clinical.vocab import vocab

VOCAB = vocab("names")

_TITLES = VOCAB["titles"]
# After these verbs (+ with/to), a dictionary first name is a person: "talked with helen".
_TALK = VOCAB["talk"]
# Verbs that follow a clinician's name in nursing notes: "E. HARTMAN AWARE", "Z. OKONKWO IN".
_AFTER_NAME = VOCAB["after-name"]
# Roles and relations: the next word is a name only if it also looks like one.
_ROLES = VOCAB["roles"]
_CREDENTIALS = VOCAB["credentials"]
# Words that follow a title but are not names ("Dr. aware", "MD notified").
_AFTER_TITLE_NOT = FUNCTION_WORDS | VOCAB["after-title-not"]
_HEADS_NOT_NAMES = VOCAB["heads-not-names"]
_AFTER_CREDENTIAL_NOT = VOCAB["after-credential-not"]
_AFTER_FIRST = VOCAB["after-first"]
_CREDENTIAL_SKIP = VOCAB["credential-skip"]
# Words that follow "daughter", "NP", ... and happen to be surnames too ("NP Aware" is not).
_NOT_AFTER_ROLE = VOCAB["not-after-role"]
# What follows a relative's name: "son Carver in today", "wife Tolliver and son".
_POST_NAME = VOCAB["post-name"]
_PLACE_NOUNS = VOCAB["place-nouns"]
# Words that go before "MD" and are not names: "HOUSE MD", "covering MD", "night MD".
_NOT_BEFORE_MD = VOCAB["not-before-md"]
# What follows a patient's name after "Mr"/"Mrs": "MR QUILL SLEPT", "mrs pike is".
_PATIENT_VERBS = VOCAB["patient-verbs"]
_CLINICIAN_VERBS = VOCAB["clinician-verbs"]
_MONTHS = VOCAB["months"]
# After a capitalised surname these make it an eponym: "Glasgow coma", "Whipple procedure".
_EPONYM_NEXT = VOCAB["eponym-next"]
_AGE_UNITS = VOCAB["age-units"]
# Cue words whose object is a person ("unable to reach X", "contacted X", "contact made with
# X"), services a named person comes from ("X Y from speech"), what a named relative "is"
# ("X is family contact"), and staff roles that precede a full name ("nurse X Y").
_REACH = VOCAB["reach"]
_SERVICES = VOCAB["services"]
_CONTACT_ROLES = VOCAB["contact-roles"]
# ("pt's" is three tokens: "pt", "'", "s")
_BEFORE_CONTACT_ROLE = VOCAB["before-contact-role"]
_STAFF_ROLES = VOCAB["staff-roles"]
_SAYS = VOCAB["says"]
_AFTER_STAFF_NAME = VOCAB["after-staff-name"]
_RUN_TRIGGERS = _REACH | _STAFF_ROLES | {"with", "from", "is", "was"}
_WEAK_TITLES = VOCAB["weak-titles"]
# Clergy titles are never clinical abbreviations: a dictionary surname after one is a name
# even when it is also a word ("RABBI STONE", "Pastor Hill").
_CLERGY = VOCAB["clergy"]
_GENUS = VOCAB["genus"]


class Marks:
    """Token index -> (score, rule) of the names found so far; `allowed` switches rules off."""

    def __init__(self, allowed: Callable[[str], bool]) -> None:
        self.hits: dict[int, tuple[float, str]] = {}
        self.allowed = allowed

    def __call__(self, idx: list[int], score: float, rule: str) -> None:
        if not self.allowed(rule):
            return
        for k in idx:
            if k not in self.hits or self.hits[k][0] < score:
                self.hits[k] = (score, rule)


class NameWords:
    """Word tests and name-sequence helpers shared by the name rules."""

    def __init__(self, lex: Lexicon) -> None:
        self.lex = lex

    # --- word tests -------------------------------------------------------------------
    def _alpha(self, tok: Token) -> bool:
        return tok.text[0].isalpha()

    def _capital(self, note: Note, tok: Token) -> bool:
        return tok.text[0].isupper() and not note.upper and not tok.text.isupper()

    def _namey(self, note: Note, tok: Token) -> bool:
        """Looks like a name on its own: a dictionary name that is not an ordinary word, or a
        capitalised unknown word in a mixed-case note."""
        low, lex = tok.low, self.lex
        if not self._alpha(tok) or low in FUNCTION_WORDS or low in lex.clinical or low in _GENUS:
            return False
        if low in _ROLES or low in _TITLES or low in _CREDENTIALS:
            return False
        if lex.is_common(low):
            return False
        if lex.is_name_word(low):
            return True
        # unknown words: a capitalised word in mixed-case prose; in ALL-CAPS or lower-case
        # notes only at the end of a phrase ("JOANNA KRZESNIAK."), since typos are common there
        if len(low) < 3:
            return False
        if self._capital(note, tok):
            return True
        after = note.text[tok.end : tok.end + 1]
        return (note.upper or note.lower) and (after == "" or after in ".,;)-\n")

    def _cued(self, note: Note, tok: Token) -> bool:
        """Acceptable right after a relation/role cue: also dictionary names that are words."""
        low = tok.low
        if not self._alpha(tok) or low in FUNCTION_WORDS:
            return False
        if low in self.lex.clinical and not (
            self._capital(note, tok) and self.lex.is_name_word(low)
        ):
            return False
        if low in _ROLES or low in _TITLES:
            return False
        if (
            low in self.lex.first
            and len(low) >= 2
            and (low in self.lex.common or not self.lex.is_word(low))
        ):
            return True  # "son rob", "daughter pat", "Son, Ed,": first names that are also words
        if low in self.lex.last and not self.lex.is_common(low):
            return True
        if self.lex.is_name_word(low) and self._followed_by_name(note, tok):
            return True  # "nurse pope garcia", "SISTER, WALLER NICOLE"
        if (
            self.lex.is_name_word(low)
            and low not in _NOT_AFTER_ROLE
            and len(low) >= 3
            and (self._capital(note, tok) or not self.lex.is_word(low))
        ):
            return True  # "daughter Fisher": Title-case surnames that are also words
        return self._capital(note, tok) and len(low) >= 3 and not self.lex.is_common(low)

    def _title_pair(self, note: Note, j: int) -> bool:
        """After a relation word, two Title-case words in mixed-case prose, the second a
        dictionary surname, closed by punctuation or a function word ("daughter, Ivy Stone,")."""
        toks = note.tokens
        if j + 1 >= len(toks) or note.text[toks[j].end : toks[j + 1].start] != " ":
            return False
        for t in (toks[j], toks[j + 1]):
            if not (
                self._capital(note, t)
                and t.text.isalpha()
                and t.text[1:].islower()
                and len(t.text) >= 3
                and t.low not in self.lex.clinical | FUNCTION_WORDS
                and t.low not in _ROLES | _TITLES | _CREDENTIALS | _NOT_AFTER_ROLE | _MONTHS
            ):
                return False
        return toks[j + 1].low in self.lex.last and self._boundary(note, j + 1, j + 2)

    def _before_verb(self, note: Note, j: int) -> bool:
        """After a relation word, a dictionary name that is also a word ("SON CARVER IN
        TODAY", "wife tolliver and"), when what follows is what follows a name."""
        toks, lex = note.tokens, self.lex
        tok = toks[j]
        low = tok.low
        if low == "will" and j + 1 < len(toks):  # "SON WILL IN TODAY", not "son will call"
            return toks[j + 1].low in (
                "in",
                "and",
                "called",
                "phoned",
                "visited",
                "here",
                "arrived",
                "came",
            )
        if (
            not self._alpha(tok)
            or len(low) < 3
            or not (lex.is_name_word(low) or self._capital(note, tok))
            or low in _NOT_AFTER_ROLE
            or low in FUNCTION_WORDS
            or low in lex.clinical
            or low in _ROLES | _TITLES | _CREDENTIALS
            or j + 1 >= len(toks)
        ):
            return False
        nxt = toks[j + 1]
        if nxt.text.isdigit() and len(nxt.text) == 3:  # "SON QUILL 555-0143"
            return True
        if nxt.text in (",", ".", ")", "(", ";", "&", "-"):
            return nxt.text != "." or nxt.start == tok.end
        return nxt.low in _POST_NAME

    def _followed_by_name(self, note: Note, tok: Token) -> bool:
        """The next word is a dictionary name that is no English word ("... garcia")."""
        k = note.index_at(tok.end)
        if k >= len(note.tokens):
            return False
        t = note.tokens[k]
        return (
            self._adjacent(note, tok, t)
            and self.lex.is_name_word(t.low)
            and not self.lex.is_word(t.low)
            and t.low not in self.lex.clinical
            and t.low not in FUNCTION_WORDS
        )

    def _role_name(self, note: Note, tok: Token) -> bool:
        """After "RN", "NP", "covering MD": a surname from the dictionary is enough, even one
        that inflects an English word ("RN Gaines"), but not an ordinary word itself."""
        low = tok.low
        if not self._alpha(tok) or low in FUNCTION_WORDS or low in self.lex.clinical:
            return False
        if low in _ROLES or low in _TITLES or low in _CREDENTIALS:
            return False
        if self._namey(note, tok):
            return True
        return self.lex.is_name_word(low) and low not in _NOT_AFTER_ROLE and len(low) >= 3

    def _initial(self, note: Note, i: int) -> bool:
        """A single letter + "." standing as its own word, followed by a space ("E. Hartman")."""
        toks, text = note.tokens, note.text
        tok = toks[i]
        if not (
            len(tok.text) == 1
            and tok.text.isalpha()
            and i + 2 < len(toks)
            and toks[i + 1].text == "."
            and toks[i + 1].start == tok.end
        ):
            return False
        before = text[tok.start - 1] if tok.start else " "
        after_title = before == "." and i >= 2 and toks[i - 2].low in _TITLES  # "Dr.A. Ramos"
        if before not in " \t\n(-,;:&" and not after_title:
            return False
        gap = text[toks[i + 1].end : toks[i + 2].start]
        glued = (
            gap == ""
            and len(toks[i + 2].text) >= 3
            and toks[i + 2].text.isalpha()
            and (toks[i + 2].text[0].isupper() or note.lower)
        )
        return gap in (" ", "  ") or glued  # "E. Hartman", "T.OKAFOR"

    def _adjacent(self, note: Note, a: Token, b: Token) -> bool:
        gap = note.text[a.end : b.start]
        return gap in (" ", "  ", "", "\t") or (gap.strip() == "" and "\n" not in gap)

    # --- runs of dictionary names after/before a cue -------------------------------------
    def _run_word(self, tok: Token) -> bool:
        """A dictionary name word that is not also a cue, function or clinical word."""
        low = tok.low
        return (
            len(low) >= 3
            and tok.text[0].isalpha()
            and self.lex.is_name_word(low)
            and low not in self.lex.clinical
            and low not in FUNCTION_WORDS
            and low not in _ROLES | _TITLES | _CREDENTIALS | _NOT_AFTER_ROLE | _MONTHS
        )

    def _boundary(self, note: Note, a: int, b: int) -> bool:
        """Nothing name-like follows token a on its far side b (b = a + 1 or a - 1):
        punctuation, a line break, a function word or the edge of the note."""
        toks = note.tokens
        if b < 0 or b >= len(toks):
            return True
        far = toks[b]
        return (
            not far.text[0].isalpha()
            or far.low in FUNCTION_WORDS
            or "\n" in note.text[toks[min(a, b)].end : toks[max(a, b)].start]
        )

    def _run_from(self, note: Note, j: int, step: int, closed: bool = True) -> list[int]:
        """Up to three adjacent name words from token j onwards (step 1) or backwards (-1);
        if `closed`, a boundary must follow on the far side, else [] is returned."""
        toks = note.tokens
        run: list[int] = []
        k = j
        while 0 <= k < len(toks) and len(run) < 3 and self._run_word(toks[k]):
            if run and not self._adjacent(note, *sorted((toks[k], toks[run[-1]]))):
                break
            run.append(k)
            k += step
        if not run or (closed and not self._boundary(note, run[-1], k)):
            return []
        return sorted(run)

    def _plausible(self, note: Note, run: list[int]) -> bool:
        """A run reads as a name: one word is no ordinary word, all are Title-case in
        mixed-case prose, or a first name stands in a run of two or more."""
        toks, lex = note.tokens, self.lex
        return (
            any(not lex.is_common(toks[k].low) for k in run)
            or all(self._capital(note, toks[k]) for k in run)
            or (len(run) >= 2 and any(toks[k].low in lex.first for k in run))
        )

    def _run_cues(self, note: Note, i: int) -> list[int]:
        """Names found from a cue at token i with a run of dictionary names next to it:
        "unable to reach X", "contact was made with X Y", "X Y from speech", "X is family
        contact", "nurse X Y". The run must be closed by punctuation or a function word, so
        "nurse call light" style phrases that run on into the sentence are left alone."""
        toks, n, low = note.tokens, len(note.tokens), note.tokens[i].low
        run: list[int] = []
        if low in _REACH or (
            low == "with" and {t.low for t in toks[max(0, i - 3) : i]} & (_REACH | {"made"})
        ):
            j = i + 1
            if j < n and toks[j].low in ("with", "w"):
                j += 1
            run = self._run_from(note, j, 1, closed=False)
            return run if run and self._plausible(note, run) else []
        if low in _STAFF_ROLES:
            run = self._run_from(note, i + 1, 1)
            if len(run) < 2:
                return []
            k = run[-1] + 1  # "nurse X Y that/who/aware": two plain words pass only here
            said = k < n and toks[k].low in _AFTER_STAFF_NAME
            return run if said or self._plausible(note, run) else []
        if low == "from" and i + 1 < n and i > 0:
            j = i + 2 if toks[i + 1].low == "the" else i + 1
            if j < n and toks[j].low in _SERVICES:
                run = self._run_from(note, i - 1, -1)
        elif low in ("is", "was") and i > 0:
            j = i + 1
            while j < n and j - i <= 5 and toks[j].low in _BEFORE_CONTACT_ROLE:
                j += 1
            if j < n and toks[j].low in _CONTACT_ROLES:
                run = self._run_from(note, i - 1, -1)
        return run if run and self._plausible(note, run) else []

    # --- sequence taking ---------------------------------------------------------------
    def _take(self, note: Note, i: int, first_ok: bool) -> list[int]:
        """Name tokens starting at i: optional initials, a first word already judged by the
        caller (`first_ok`), then up to two continuation words that look like names."""
        toks, got = note.tokens, []
        j = i
        while j < len(toks) and self._initial(note, j):
            got.append(j)
            j += 2
        if j >= len(toks) or not self._alpha(toks[j]):
            return got if got and j < len(toks) else []
        if not (first_ok or self._namey(note, toks[j])):
            return got if got else []
        got.append(j)
        k = j + 1
        while k < len(toks) and len(got) < 4:
            prev = toks[k - 1]
            if self._initial(note, k) and k + 2 < len(toks):
                got.append(k)
                k += 2
                continue
            t = toks[k]
            if not self._adjacent(note, prev, t) and note.text[prev.end : t.start] != "-":
                break
            first_then_last = prev.low in self.lex.first and t.low in self.lex.last
            last_then_name = (  # "fry davis", "WALLER NICOLE": a surname then another name
                self.lex.is_name_word(prev.low)
                and self.lex.is_name_word(t.low)
                and not self.lex.is_word(t.low)
                and t.low not in FUNCTION_WORDS
            )
            first_then_unknown = (  # "joanna krzesniak", "mary ellen tsosie"
                prev.low in self.lex.first
                and self._alpha(t)
                and len(t.low) >= 3
                and t.low not in FUNCTION_WORDS
                and not self.lex.is_word(t.low)
                and t.text[0].isupper() == prev.text[0].isupper()
            )
            if t.low not in self.lex.clinical and (
                self._namey(note, t)
                or (first_then_last and self._capital(note, t))
                or last_then_name
                or first_then_unknown
            ):
                got.append(k)
                k += 1
                continue
            break
        return got

    def _next_word(self, note: Note, i: int) -> int:
        """Index of the word after token i, skipping a "." glued to it ("Dr." -> name)."""
        toks, nxt = note.tokens, i + 1
        if nxt < len(toks) and toks[nxt].text == "." and toks[nxt].start == toks[i].end:
            nxt += 1
        return nxt

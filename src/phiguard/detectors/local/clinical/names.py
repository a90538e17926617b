"""Person names in any case, from context cues plus name dictionaries.

Clinical notes write names as "Dr. Okafor", "DR PELLEGRINI", "dr lindqvist", "son rob",
"B. TREMBLAY PA", "Ana Ruiz, RN", or bare after a relation word. Case is unreliable (ALL
CAPS and all-lower notes are common), so each rule pairs a cue (title, relation, credential,
signature position) with a vocabulary test: ordinary English and clinical words (drugs, labs,
abbreviations) are never names unless a strong cue such as "Dr." stands right before them.
"""

from __future__ import annotations

from phiguard.detectors.local.clinical.common import FAIR, FUNCTION_WORDS, GOOD, STRONG, span, words
from phiguard.detectors.local.clinical.lexicon import Lexicon
from phiguard.detectors.local.clinical.tokens import Note, Token
from phiguard.spans import PhiType, Span

_TITLES = words("dr drs doctor mr mrs ms miss mister mssr prof professor rabbi pastor reverend rev")
# After these verbs (+ with/to), a dictionary first name is a person: "talked with helen".
_TALK = words("spoke talked discussed met called phoned paged notified updated informed contacts")
# Verbs that follow a clinician's name in nursing notes: "E. HARTMAN AWARE", "Z. OKONKWO IN".
_AFTER_NAME = words(
    """aware notified paged called updated informed made in ordered here at spoke came saw said
    wants will placed to and"""
)
# Roles and relations: the next word is a name only if it also looks like one.
_ROLES = words(
    """ho np pa rn md rt lpn cna nurse caseworker chaplain intern resident fellow attending surgeon
    therapist pharmacist sw coordinator interpreter manager wife husband son sons daughter
    daughters dtr dtrs sister sisters brother brothers mother father mom dad friend
    girlfriend boyfriend fiance fiancee niece neice nephew aunt aunts uncle cousin grandson
    granddaughter grandaughter granddaughters grandmother grandfather proxy hcp partner
    spouse stepdaughter stepson sibling other"""
)
_CREDENTIALS = words(
    """md rn np pa rrt crna licsw licws lcsw msw pharmd phd bsn msn aprn fnp dpt pa-c cnm lpn"""
)
# Words that follow a title but are not names ("Dr. aware", "MD notified").
_AFTER_TITLE_NOT = FUNCTION_WORDS | words(
    """office offices orders order team note notes paged note's service on-call oncall who"""
)
_HEADS_NOT_NAMES = words("house hospital hosp center memorial clinic rehab")
_AFTER_CREDENTIAL_NOT = words("line lines numbers pressure pressures catheter cath sat sats")
_AFTER_FIRST = words("aware notified asking asked called updated visited visiting states phoned")
_CREDENTIAL_SKIP = words("charge covering primary staff night day")
# Words that follow "daughter", "NP", ... and happen to be surnames too ("NP Aware" is not).
_NOT_AFTER_ROLE = words(
    """aware notified asking asked called updated visited visiting visit states stated said here
    there home came come comes went will would can may might must should did does has had have
    called calling phoned paged feels felt wants wanted needs present arrived left took brought
    gave given given spoke speaks talked discussed reports reported concerned involved very
    also just still now then today tonight tomorrow yesterday later already well good ill sick
    bedside unit floor room staff member members mother father brother sister wife husband
    friends family visitors rounds round both all works working worked"""
)
# What follows a relative's name: "son Carver in today", "wife Tolliver and son".
_POST_NAME = words(
    """in and at here lives living lived visited visiting called calls phoned is was has will
    came comes states stated aware updated asking asked who would wants brought staying stayed
    arrived left spoke"""
)
_PLACE_NOUNS = words(
    "heart medical med health center centre river lake park general street st road hall house"
)
# Words that go before "MD" and are not names: "HOUSE MD", "covering MD", "night MD".
_NOT_BEFORE_MD = words(
    """house staff team resident intern fellow attending covering primary night day floor unit
    outside home family private new old on-call oncall call cardiology renal surgery surgical
    medical micu ccu sicu icu neuro consult consulting admitting referring evening morning"""
)
# What follows a patient's name after "Mr"/"Mrs": "MR QUILL SLEPT", "mrs pike is".
_PATIENT_VERBS = words(
    """had has is was remains remained slept sleeps resting rested tolerated tolerating denies
    denied states stated continues continued received arrived returned came went became
    appears appeared seems woke awoke awake alert asleep sleeping complains complained c/o
    ambulated ambulating agitated pleasant comfortable"""
)
_CLINICIAN_VERBS = words("aware notified paged ordered updated")
_MONTHS = words(
    """january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday"""
)
# After a capitalised surname these make it an eponym: "Glasgow coma", "Whipple procedure".
_EPONYM_NEXT = words(
    """disease disease's syndrome sign signs maneuver manoeuvre position coma scale score
    procedure operation test criteria collar catheter cath tube drain bag stockings stocking
    hugger reflex reflexes phenomenon respirations breathing type classification fracture
    repair needle pump balloon valve filter line port boots"""
)
_AGE_UNITS = words("yo y yr yrs year years yof yom")
# Cue words whose object is a person ("unable to reach X", "contacted X", "contact made with
# X"), services a named person comes from ("X Y from speech"), what a named relative "is"
# ("X is family contact"), and staff roles that precede a full name ("nurse X Y").
_REACH = words("contact contacts contacted reach reached")
_SERVICES = words(
    """speech pt ot physical occupational social sw case cm nutrition dietary pharmacy rehab
    respiratory psych psychiatry chaplaincy pastoral palliative ethics hospice vna admitting
    interpreter interpreters transplant wound ostomy nephrology cardiology neurology"""
)
_CONTACT_ROLES = words("contact hcp proxy interpreter translator spokesperson guardian")
# ("pt's" is three tokens: "pt", "'", "s")
_BEFORE_CONTACT_ROLE = words("the a pt pts ' ’ s his her their main primary family designated")
_STAFF_ROLES = words(
    """nurse caseworker chaplain therapist pharmacist coordinator interpreter manager sw"""
)
_SAYS = words("reports reported states stated says said asks asked phoned called visited")
_AFTER_STAFF_NAME = words(
    """that who from re regarding about aware notified said says states stated reports
    reported called paged spoke"""
)
_RUN_TRIGGERS = _REACH | _STAFF_ROLES | {"with", "from", "is", "was"}
_WEAK_TITLES = words("mr ms miss rabbi pastor reverend rev")
# Clergy titles are never clinical abbreviations: a dictionary surname after one is a name
# even when it is also a word ("RABBI STONE", "Pastor Hill").
_CLERGY = words("rabbi pastor reverend")
_GENUS = words("aureus coli faecalis faecium pneumoniae epidermidis difficile albicans")


class NameRules:
    """Token rules for NAME spans; each returns token indices judged to be names."""

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

    # --- rules -------------------------------------------------------------------------
    def find(self, note: Note) -> list[Span]:
        toks = note.tokens
        n = len(toks)
        hits: dict[int, tuple[float, str]] = {}

        def mark(idx: list[int], score: float, rule: str) -> None:
            for k in idx:
                if k not in hits or hits[k][0] < score:
                    hits[k] = (score, rule)

        for i, tok in enumerate(toks):
            low = tok.low
            if low in _RUN_TRIGGERS:
                mark(self._run_cues(note, i), FAIR, "name-run")
            nxt = i + 1
            if nxt < n and toks[nxt].text == "." and toks[nxt].start == tok.end:
                nxt += 1
            # title: "Dr. Okafor", "DR PELLEGRINI", "dr. o'malley", "Drs Abara and Lund"
            # "Dr. May", "Mr. Will": a Title-case dictionary name after a written-out title
            cap_name = (
                nxt < n
                and tok.text[0].isupper()
                and (nxt > i + 1 or tok.text in ("Mr", "Mrs", "Ms", "Dr"))
                and self._capital(note, toks[nxt])
                and len(toks[nxt].text) >= 2
                and self.lex.is_name_word(toks[nxt].low)
                and toks[nxt].low not in self.lex.clinical
                and toks[nxt].low not in _ROLES | _TITLES | _CREDENTIALS
            )
            bare_initial = (  # "Dr. t pryce": "t" is also a function word
                nxt + 1 < n
                and len(toks[nxt].text) == 1
                and toks[nxt].text.isalpha()
                and toks[nxt].low not in ("a", "i")
                and note.text[toks[nxt].end : toks[nxt + 1].start] == " "
                and self.lex.is_name_word(toks[nxt + 1].low)
                and toks[nxt + 1].low not in self.lex.clinical | FUNCTION_WORDS
            )
            # "DR WILL." / "Dr May,": a name that is also a function word, then punctuation
            word_name = (
                nxt + 1 < n
                and low in ("dr", "doctor")
                and toks[nxt].low in ("will", "may", "hope", "mark", "bill", "april", "june")
                and toks[nxt + 1].text in (".", ",", ")", ";")
            )
            # "DR I. JENKINS", "Dr. A. Quist": "I"/"A" with a period and a name after a title
            dotted_initial = (
                nxt + 2 < n
                and toks[nxt].low in ("a", "i")
                and self._initial(note, nxt)
                and self.lex.is_name_word(toks[nxt + 2].low)
                and toks[nxt + 2].low not in self.lex.clinical | FUNCTION_WORDS
            )
            if (
                low in _TITLES
                and nxt < n
                and (
                    toks[nxt].low not in _AFTER_TITLE_NOT
                    or cap_name
                    or bare_initial
                    or word_name
                    or dotted_initial
                )
            ):
                # "MR" and "MS" are also mitral regurgitation and mental status / morphine
                weak = low in _WEAK_TITLES and not cap_name
                if weak and nxt > i + 1 and low in ("mr", "ms") and toks[nxt].text[0].isalpha():
                    # "Mr. Shepherd": with a period it is a title unless an ordinary word
                    # follows ("severe MR. Arrived to CCU")
                    weak = not (
                        toks[nxt].low in self.lex.last or not self.lex.is_word(toks[nxt].low)
                    )
                first_ok = self._alpha(toks[nxt]) and (
                    not weak
                    or self._namey(note, toks[nxt])
                    or cap_name
                    or (
                        low in _CLERGY
                        and self._role_name(note, toks[nxt])
                        and nxt + 1 < n
                        and (
                            toks[nxt + 1].low in _POST_NAME | _AFTER_NAME
                            or toks[nxt + 1].text in (",", ".", ";", ")")
                        )
                    )
                )
                got = (
                    self._take(note, nxt, first_ok) if first_ok or self._initial(note, nxt) else []
                )
                if (
                    got in ([], [nxt])
                    and len(toks[nxt].text) == 1
                    and toks[nxt].text.isalpha()
                    and nxt + 1 < n
                    and note.text[toks[nxt].end : toks[nxt + 1].start] == " "
                    and self._alpha(toks[nxt + 1])
                    and len(toks[nxt + 1].text) >= 2
                    and toks[nxt + 1].low not in FUNCTION_WORDS
                    and toks[nxt + 1].low not in self.lex.clinical
                ):  # "Dr. k pryce", "DR J OKORO": an initial without its period
                    got = [nxt, *self._take(note, nxt + 1, True)]
                mark(got, STRONG, "name-title")
                if got:
                    k = got[-1] + 1
                    if (
                        k + 1 < n
                        and toks[k].low in ("and", "&", "/")
                        and (
                            self._namey(note, toks[k + 1])
                            or (
                                self._capital(note, toks[k + 1])
                                and self.lex.is_name_word(toks[k + 1].low)
                                and toks[k + 1].low not in self.lex.clinical
                            )
                        )
                    ):
                        mark(self._take(note, k + 1, True), GOOD, "name-title")
            # role or relation: "son rob", "NP JOANNA", "caseworker Ines Vukovic"
            elif low in _ROLES and not (
                low == "other" and (i == 0 or toks[i - 1].low != "significant")
            ):
                j = i + 1
                while j < n and toks[j].text in (",", ":", "-", "(", "=", "&"):
                    j += 1
                if j < n and toks[j].low in ("is", "was") and low in ("proxy", "hcp"):
                    j += 1
                pro = low in ("pa", "rn", "np", "ho", "md", "rt")
                if low == "rt" and j < n and self.lex.is_word(toks[j].low):
                    continue  # "RT" is also "right": "RT BASE"
                if (
                    j < n
                    and (
                        self._role_name(note, toks[j])
                        if pro
                        else (self._cued(note, toks[j]) or self._before_verb(note, j))
                    )
                    and not (
                        low in ("pa", "rn", "np", "ho", "md", "other")
                        and not self._role_name(note, toks[j])
                    )
                ):
                    mark(self._take(note, j, True), GOOD, "name-relation")
                elif not pro and self._title_pair(note, j):
                    mark([j, j + 1], FAIR, "name-relation")
            # credential after: "B. CLIFFORD MD", "anita morris rn", "Maria Silva, RN"
            if low in _CREDENTIALS and i > 0:
                j = i - 1
                if toks[j].text == ",":
                    j -= 1
                if (  # "WANG, KELLY RRT": LAST, FIRST before the credential
                    j >= 2
                    and toks[j].low in self.lex.first
                    and toks[j - 1].text == ","
                    and toks[j - 2].low in self.lex.last
                    and toks[j - 2].low not in self.lex.clinical
                ):
                    mark([j - 2, j], GOOD, "name-credential")
                while j > 0 and toks[j].low in _CREDENTIAL_SKIP:
                    j -= 1  # "Mark Conner, charge RN"
                if j >= 0 and toks[j].text == ",":
                    j -= 1
                seq: list[int] = []
                while j >= 0 and len(seq) < 4:
                    t = toks[j]
                    line_first = j == 0 or "\n" in note.text[toks[j - 1].end : t.start]
                    if (
                        seq
                        and self._alpha(t)
                        and len(toks[seq[-1]].text) > 1
                        and toks[seq[-1]].low in self.lex.first
                        and toks[seq[-1]].low not in self.lex.last
                        and t.low not in self.lex.first
                        and not (line_first and t.low in self.lex.last)  # "PRYCE MELODY RN"
                    ):
                        break  # names run First [Middle] Last: nothing before the first name
                    if t.text == "-" and seq and j > 0 and toks[j - 1].end == t.start:
                        j -= 1
                        continue
                    if t.text == "." and j > 0 and self._initial(note, j - 1):
                        seq.append(j - 1)
                        j -= 2
                        continue
                    if (
                        self._alpha(t)
                        and t.low not in FUNCTION_WORDS
                        and t.low not in self.lex.clinical
                        and t.low not in _CREDENTIALS
                        and (
                            seq == []
                            or self._adjacent(note, t, toks[seq[-1]])
                            or note.text[t.end : toks[seq[-1]].start] == "-"
                        )
                        and (not self.lex.is_common(t.low) or self.lex.is_name_word(t.low))
                        and t.low not in _HEADS_NOT_NAMES
                    ):
                        seq.append(j)
                        j -= 1
                        continue
                    break
                after = toks[i + 1].low if i + 1 < n else ""
                if (
                    seq
                    and after not in _AFTER_CREDENTIAL_NOT
                    and (
                        any(len(toks[k].text) == 1 for k in seq)
                        or any(
                            self.lex.is_name_word(toks[k].low)
                            and not self.lex.is_common(toks[k].low)
                            for k in seq
                        )
                        or all(self._capital(note, toks[k]) for k in seq)
                        or (  # "FORD MD TO SEE", "hale md called"
                            len(seq) == 1
                            and low in ("md", "np", "pa")
                            and self.lex.is_name_word(toks[seq[0]].low)
                            and toks[seq[0]].low not in _NOT_BEFORE_MD
                            and len(toks[seq[0]].text) >= 3
                            and after in _AFTER_NAME | {"called", "to", "paged", "notified"}
                            and (
                                seq[0] == 0
                                or toks[seq[0] - 1].text in (",", ".", ";", ":", "(")
                                or "\n" in note.text[toks[seq[0] - 1].end : toks[seq[0]].start]
                            )
                        )
                        or (  # "PATEL GROVER RN" alone on its line: a signature
                            len(seq) >= 2
                            and all(self.lex.is_name_word(toks[k].low) for k in seq)
                            and (
                                min(seq) == 0
                                or "\n" in note.text[toks[min(seq) - 1].end : toks[min(seq)].start]
                            )
                            and (i + 1 >= n or "\n" in note.text[tok.end : toks[i + 1].start])
                        )
                        or (
                            any(toks[k].low in self.lex.first for k in seq)
                            and any(not self.lex.is_word(toks[k].low) for k in seq)
                        )
                    )
                ):
                    mark(seq, GOOD, "name-credential")
            # initial + surname after "per"/"by": "per B. TREMBLAY", "by C. OKAFOR"
            if (
                self._initial(note, i)
                and self._alpha(toks[i + 2])
                and (  # "R." and "L." are right/left unless a plain dictionary name follows
                    tok.low not in ("r", "l")
                    or (
                        self.lex.is_name_word(toks[i + 2].low)
                        and (
                            not self.lex.is_word(toks[i + 2].low)
                            # "L. QUILL AWARE": a name word, then what follows a clinician
                            or (i + 3 < n and toks[i + 3].low in _CLINICIAN_VERBS)
                        )
                        and toks[i + 2].low not in self.lex.clinical
                    )
                )
            ):
                sur = toks[i + 2]
                before = toks[i - 1].low if i else ""
                namey = self._namey(note, sur) or sur.low in self.lex.last
                if (
                    len(sur.text) > 1
                    and sur.low not in self.lex.clinical
                    and sur.low not in FUNCTION_WORDS
                    and sur.low not in _GENUS
                    and (
                        (
                            namey
                            and before
                            in (
                                "per",
                                "by",
                                "with",
                                "w",
                                "(",
                                "and",
                                "to",
                                "called",
                                "paged",
                                "meet",
                                "met",
                            )
                        )
                        or (sur.low in self.lex.last and not self.lex.is_common(sur.low))
                        or (
                            i + 3 < n
                            and toks[i + 3].low in _AFTER_NAME
                            and (sur.low in self.lex.last or not self.lex.is_common(sur.low))
                        )
                        or (
                            i + 3 < n
                            and toks[i + 3].low in _CLINICIAN_VERBS
                            and self.lex.is_name_word(sur.low)
                        )
                        or (i + 3 < n and toks[i + 3].low in _CREDENTIALS)
                    )
                ):
                    mark([i, i + 2], GOOD, "name-initial")
            # first + last name pair from the dictionaries: "janelle okafor", "mary lindqvist"
            if (
                nxt == i + 1
                and i + 1 < n
                and low in self.lex.first
                and not self.lex.is_common(low)
                and low not in self.lex.clinical
                and self._adjacent(note, tok, toks[i + 1])
            ):
                t2 = toks[i + 1]
                if (
                    self._alpha(t2)
                    and t2.low not in self.lex.clinical
                    and t2.low not in FUNCTION_WORDS
                    and (
                        (
                            t2.low in self.lex.last
                            and (t2.low not in self.lex.common or not self.lex.is_word(low))
                            and t2.low not in _HEADS_NOT_NAMES
                            and t2.low not in _NOT_AFTER_ROLE
                            and tok.text[0].isupper() == t2.text[0].isupper()
                        )
                        or (
                            not self.lex.is_common(t2.low)
                            and len(t2.low) >= 3
                            and self._capital(note, tok)
                            and self._capital(note, t2)
                        )
                    )
                ):
                    mark([i, *self._take(note, i + 1, True)], GOOD, "name-pair")
            elif (  # "per hope gallardo": a first name that is also a word, then a surname
                # that is none, in the same case ("hope" alone stays a word)
                nxt == i + 1
                and i + 1 < n
                and low in self.lex.first
                and self._run_word(tok)
                and toks[i + 1].low in self.lex.last
                and len(toks[i + 1].low) >= 4
                and toks[i + 1].text.isalpha()
                and not self.lex.is_word(toks[i + 1].low)
                and toks[i + 1].low not in self.lex.clinical
                and tok.text[0].isupper() == toks[i + 1].text[0].isupper()
                and self._adjacent(note, tok, toks[i + 1])
            ):
                mark([i, i + 1], FAIR, "name-pair")
            # "HERNANDEZ, CYNTHIA": a surname, a comma and a first name
            if (
                i + 2 < n
                and toks[i + 1].text == ","
                and low in self.lex.last
                and low not in _ROLES
                and (low not in self.lex.common or not self.lex.is_word(toks[i + 2].low))
                and toks[i + 2].low in self.lex.first
                and not self.lex.is_word(toks[i + 2].low)
                and toks[i + 2].low not in self.lex.clinical
            ):
                mark([i, *self._take(note, i + 2, True)], GOOD, "name-last-first")
            # a name followed by what people do in notes: "AMY AWARE", "Bianca asking"
            if (
                i + 1 < n
                and self.lex.is_name_word(low)
                and not self.lex.is_word(low)
                and len(low) >= 3
                and low not in FUNCTION_WORDS
                and low not in _ROLES
                and low not in self.lex.clinical
                and toks[i + 1].low in _AFTER_FIRST
            ):
                mark([i], FAIR, "name-first-verb")
            if (  # "Hope reports that": a Title-case first name that is also a word, as
                # the subject of a reporting verb in mixed-case prose
                i + 1 < n
                and low in self.lex.first
                and self._capital(note, tok)
                and tok.text[1:].islower()
                and self._run_word(tok)
                and toks[i + 1].low in _SAYS
            ):
                mark([i], FAIR, "name-first-verb")
            # a first name alone in parentheses: "contact person (Rosalind)"
            if (
                0 < i < n - 1
                and toks[i - 1].text == "("
                and self.lex.is_name_word(low)
                and (
                    not self.lex.is_word(low)
                    or (i >= 2 and toks[i - 2].low in ("person", "contact", "proxy", "hcp"))
                    or toks[i + 1].low in ("is", "was")  # "(QUILL IS AWAY)"
                )
                and low not in self.lex.clinical | FUNCTION_WORDS
                and len(low) >= 3
                and low not in self.lex.clinical
                and (toks[i + 1].text == ")" or toks[i + 1].low in ("is", "was", "will"))
            ):
                mark([i], FAIR, "name-paren")
            # "per A BARNES": an initial without its period after per/by
            if (
                low in ("per", "by")
                and i + 2 < n
                and len(toks[i + 1].text) == 1
                and toks[i + 1].text.isalpha()
                and (
                    toks[i + 1].text.isupper()
                    or not self.lex.is_word(toks[i + 2].low)
                    or (  # "per k pryce.": a lower-case initial, a name and the end of a clause
                        toks[i + 1].low not in ("a", "i", "o")
                        and note.text[toks[i + 2].end : toks[i + 2].end + 1]
                        in ("", ".", ",", ";", ")", "\n")
                    )
                )
                and self.lex.is_name_word(toks[i + 2].low)
                and toks[i + 2].low not in self.lex.clinical
                and self._adjacent(note, toks[i + 1], toks[i + 2])
            ):
                mark([i + 1, i + 2], FAIR, "name-initial")
            # "J SMITH ORDERED": an initial without its period, then a surname and a verb
            if (
                len(tok.text) == 1
                and tok.text.isupper()
                and i + 2 < n
                and (
                    tok.text not in ("I", "A", "O", "L", "R", "C", "X", "S", "M")
                    or (tok.text in ("L", "R") and not self.lex.is_word(toks[i + 1].low))
                    or (  # "C OKAFOR ORDERED": any initial before a surname that is no word
                        tok.text not in ("I", "A")
                        and not self.lex.is_word(toks[i + 1].low)
                        and toks[i + 2].low in _CLINICIAN_VERBS
                    )
                )
                and toks[i + 1].low in self.lex.last
                and toks[i + 1].low not in self.lex.clinical
                and len(toks[i + 1].text) >= 3
                and (i == 0 or note.text[tok.start - 1] in " \t\n(")
                and toks[i + 2].low in _AFTER_NAME | {"ordered", "wrote", "said"}
                and self._adjacent(note, tok, toks[i + 1])
            ):
                mark([i, i + 1], FAIR, "name-initial")
            # "grace vukovic aware": a first name and an unknown word, then "aware"/"notified"
            if (
                low in self.lex.first
                and i + 2 < n
                and toks[i + 2].low in _AFTER_NAME
                and toks[i + 2].low not in ("to", "and", "in", "at", "will")
                and self._alpha(toks[i + 1])
                and not self.lex.is_common(toks[i + 1].low)
                and toks[i + 1].low not in self.lex.clinical
                and self._adjacent(note, tok, toks[i + 1])
            ):
                mark([i, i + 1], FAIR, "name-pair")
            # "per TREMBLAY", "talked with joanna": weaker cues, so the word must look like a name
            if (
                low == "per"
                and i + 1 < n
                and self._namey(note, toks[i + 1])
                and not self._initial(note, i + 1)
                and self.lex.is_name_word(toks[i + 1].low)
            ):
                mark(self._take(note, i + 1, True), FAIR, "name-per")
            if (
                low in ("contacts", "contacted", "contact")
                and i + 1 < n
                and self.lex.is_name_word(toks[i + 1].low)
                and not self.lex.is_common(toks[i + 1].low)
                and toks[i + 1].low not in self.lex.clinical | FUNCTION_WORDS | _ROLES
            ):
                mark(self._take(note, i + 1, True), FAIR, "name-talk")
            if (  # "MR QUILL SLEPT WELL", "mrs pike had": a weak title, a name and a verb
                low in ("mr", "mrs", "ms")
                and i + 2 < n
                and i + 1 not in hits
                and self._alpha(toks[i + 1])
                and len(toks[i + 1].text) >= 3
                and self.lex.is_name_word(toks[i + 1].low)
                and toks[i + 1].low not in self.lex.clinical | FUNCTION_WORDS | _ROLES
                and (low != "ms" or not self.lex.is_common(toks[i + 1].low))  # mental status
                and (
                    toks[i + 2].low in _PATIENT_VERBS
                    or (toks[i + 2].low.endswith("ed") and len(toks[i + 2].low) >= 5)
                )
            ):
                mark([i + 1], GOOD, "name-title")
            if (  # "goes by Dotty", "prefers to be called BUD"
                low in ("by", "called")
                and i >= 2
                and toks[i - 1].low in ("goes", "be")
                and (toks[i - 1].low != "be" or toks[i - 2].low in ("to", "prefers"))
                and i + 1 < n
                and self._alpha(toks[i + 1])
                and len(toks[i + 1].text) >= 2
                and toks[i + 1].low not in FUNCTION_WORDS | self.lex.clinical | _ROLES
                and (
                    self.lex.is_name_word(toks[i + 1].low)
                    or not self.lex.is_word(toks[i + 1].low)
                    or self._capital(note, toks[i + 1])
                )
            ):
                mark([i + 1], GOOD, "name-nickname")
            if low in _TALK and i + 2 < n and toks[i + 1].low in ("with", "to", "w"):
                t = toks[i + 2]
                plain_name = (
                    (t.low in self.lex.first and not self.lex.is_common(t.low))
                    or (self.lex.is_name_word(t.low) and not self.lex.is_word(t.low))
                ) and t.low not in self.lex.clinical | FUNCTION_WORDS | _ROLES
                if plain_name or (
                    self.lex.is_name_word(t.low)
                    and t.low not in self.lex.clinical | FUNCTION_WORDS | _ROLES | _NOT_AFTER_ROLE
                    and len(t.text) >= 3
                    and i + 3 < n
                    and (
                        # "spoke with Quist Pryce, who": two Title-case names
                        (
                            self._capital(note, t)
                            and self._capital(note, toks[i + 3])
                            and self.lex.is_name_word(toks[i + 3].low)
                        )
                        # "talked with quist from case management"
                        or toks[i + 3].low in ("from", "re", "regarding", "about", "who")
                    )
                ):
                    mark(self._take(note, i + 2, True), FAIR, "name-talk")
            # capitalised dictionary first name mid-sentence in a mixed-case note: "Matteo";
            # in ALL-CAPS or lower-case notes a first name that is no English word: "KAYLEE"
            bare = (note.upper or note.lower) and len(low) >= 4 and not self.lex.is_word(low)
            if (
                (self._capital(note, tok) or bare)
                and low in self.lex.first
                and low not in self.lex.states
                and low not in self.lex.us_cities
                and not self.lex.is_common(low)
                and low not in self.lex.clinical
                and i > 0
                and toks[i - 1].text not in (".", "\n", ":")
                and note.text[toks[i - 1].end : tok.start].count("\n") == 0
            ):
                mark([i], FAIR, "name-dictionary")
            elif (
                self._capital(note, tok)
                and tok.text[1:].islower()
                and len(low) >= 4
                and low in self.lex.last
                and low not in FUNCTION_WORDS
                and low not in _MONTHS
                and note.text[tok.end : tok.end + 1] not in ("'", "’")  # "Kussmaul's"
                and not self.lex.is_word(low)
                and low not in self.lex.clinical
                and low not in self.lex.states
                and low not in self.lex.us_cities
                and low not in self.lex.world_cities
                and low not in self.lex.facility_stems
                and i > 0
                and toks[i - 1].text not in (".", "\n", ":", "-")
                and not note.text[max(0, tok.start - 4) : tok.start]
                .lower()
                .endswith(("s/p ", "sp "))
                and note.text[toks[i - 1].end : tok.start].count("\n") == 0
                and note.text[tok.end : tok.end + 1] != "-"  # "Cheyne-Stokes"
                and (i + 1 >= n or toks[i + 1].low not in _EPONYM_NEXT)
            ):  # "left a message for Okonjo": a Title-case surname mid-sentence
                mark([i], FAIR, "name-dictionary")
            elif (  # "supportive to pt, Stone.": in an all-lower-case note a Title-case word
                # mid-sentence was capitalised on purpose; a dictionary name is a name then
                note.lower
                and tok.text[0].isupper()
                and tok.text[1:].islower()
                and len(low) >= 4
                and self._run_word(tok)
                and low not in self.lex.states
                and i > 0
                and (toks[i - 1].text.islower() or toks[i - 1].text in (",", ";", "(", "&"))
                and not note.text[max(0, tok.start - 4) : tok.start].endswith(("s/p ", "sp "))
                and note.text[toks[i - 1].end : tok.start].count("\n") == 0
                and (i + 1 >= n or not toks[i + 1].text[0].isupper())
                and note.text[tok.end : tok.end + 1] not in ("'", "’", "-")
                and (i + 1 >= n or toks[i + 1].low not in _EPONYM_NEXT)
            ):
                mark([i], FAIR, "name-dictionary")

            # "o'dowd quang aware": two dictionary names, one no English word, then "aware"
            if (
                i + 2 < n
                and toks[i + 2].low in _AFTER_FIRST | {"aware", "notified", "paged"}
                and all(
                    self._alpha(t)
                    and len(t.text) >= 3
                    and self.lex.is_name_word(t.low)
                    and t.low not in self.lex.clinical
                    and t.low not in FUNCTION_WORDS
                    and t.low not in _ROLES
                    for t in (tok, toks[i + 1])
                )
                and not (self.lex.is_word(low) and self.lex.is_word(toks[i + 1].low))
                and self._adjacent(note, tok, toks[i + 1])
            ):
                mark([i, i + 1], FAIR, "name-pair")
            # "dusty quintero is a 64 yo": the words opening a line before "is a <age>"
            if (
                low in ("is", "was")
                and i > 0
                and i + 3 < n
                and toks[i + 1].low in ("a", "an")
                and toks[i + 2].text.isdigit()
                and toks[i + 3].low in _AGE_UNITS
            ):
                seq = []
                k = i - 1
                while k >= 0 and len(seq) < 3 and self._alpha(toks[k]):
                    t = toks[k]
                    if t.low in FUNCTION_WORDS or t.low in self.lex.clinical or t.low in _ROLES:
                        break
                    seq.append(k)
                    k -= 1
                    if (  # "okoro-lind vance is a": a hyphenated surname counts as one word
                        k >= 1
                        and toks[k].text == "-"
                        and toks[k].start == toks[k - 1].end
                        and toks[k].end == t.start
                        and self._alpha(toks[k - 1])
                    ):
                        k -= 1
                at_line_start = k < 0 or "\n" in note.text[toks[k].end : toks[k + 1].start]
                if (
                    seq
                    and (at_line_start or toks[k].text in (".", ":"))
                    and any(self.lex.is_name_word(toks[x].low) for x in seq)
                ):
                    mark(seq, FAIR, "name-age")

        # a signature at the very end: "... 1400U/HR. SUSAN", "Mary Rueping"
        tail = [k for k in range(max(0, n - 3), n) if self._alpha(toks[k])]
        if tail and note.text[toks[tail[0]].start :].count("\n") <= 2:
            last = tail[-1]
            line_start = note.text.rfind("\n", 0, toks[last].start) + 1
            line = [k for k in range(n) if toks[k].start >= line_start and self._alpha(toks[k])]
            if 1 <= len(line) <= 3 and all(
                self._namey(note, toks[k])
                or self._initial(note, k)
                or (  # "Quill Pryce" alone on the last line
                    len(line) >= 2
                    and self._capital(note, toks[k])
                    and self.lex.is_name_word(toks[k].low)
                    and toks[k].low not in self.lex.clinical | FUNCTION_WORDS
                )
                for k in line
            ):
                if any(self.lex.is_name_word(toks[k].low) for k in line):
                    mark(line, FAIR, "name-signature")
            elif (
                (toks[last].low in self.lex.first or toks[last].low in self.lex.last)
                and (
                    not self.lex.is_common(toks[last].low)
                    # "... PTT AT 2200. BAXTER": a surname that is also a word, when nothing at
                    # all (not even a full stop) follows it: a sentence would end with one
                    or (
                        toks[last].low in self.lex.last
                        and (note.upper or note.lower or toks[last].text.isupper())
                        and self._run_word(toks[last])
                        and not note.text[toks[last].end :].strip()
                        and toks[last].start > toks[last - 1].end
                    )
                )
                and toks[last].low not in self.lex.clinical
                and (last > 0 and toks[last - 1].text == ".")
            ):
                mark([last], FAIR, "name-signature")

        self._extend_hits(note, hits)
        return [span(toks[k].start, toks[k].end, PhiType.NAME, s, r) for k, (s, r) in hits.items()]

    def _extend_hits(self, note: Note, hits: dict[int, tuple[float, str]]) -> None:
        """Grow found names over hyphens ("LAMB-COOPER") and "and" + first name ("linda and
        tamara"): both are strong evidence once one side is known to be a name."""
        toks, n = note.tokens, len(note.tokens)
        for k in sorted(hits):
            score = hits[k][0]
            for step in (1, -1):
                dash, other = k + step, k + 2 * step
                if not (0 <= other < n) or toks[dash].text != "-" or other in hits:
                    continue
                a, b = (toks[k], toks[other]) if step == 1 else (toks[other], toks[k])
                if toks[dash].start == a.end and toks[dash].end == b.start:
                    t = toks[other]
                    if (
                        self._alpha(t)
                        and len(t.text) > 1
                        and t.low not in self.lex.clinical
                        and t.low not in _ROLES
                        and t.low not in FUNCTION_WORDS
                    ):
                        hits[other] = (score, "name-hyphen")
            nxt = k + 1
            if (  # "proxy - Pike Hunter", "son, Okoro Chance": a Title-case name after a name
                nxt < n
                and nxt not in hits
                and self._capital(note, toks[k])
                and self._capital(note, toks[nxt])
                and note.text[toks[k].end : toks[nxt].start] == " "
                and self.lex.is_name_word(toks[nxt].low)
                and toks[nxt].low not in self.lex.clinical
                and toks[nxt].low not in _ROLES | _TITLES | _HEADS_NOT_NAMES | _PLACE_NOUNS
                and toks[nxt].low not in FUNCTION_WORDS
            ):
                hits[nxt] = (FAIR, "name-grow")
            if k + 2 < n and toks[k + 1].low in ("and", "&"):
                t = toks[k + 2]
                if t.low in self.lex.first and not self.lex.is_word(t.low) and k + 2 not in hits:
                    hits[k + 2] = (FAIR, "name-and")

"""Person names in any case, from context cues plus name dictionaries.

Clinical notes write names as "Dr. Okafor", "DR PELLEGRINI", "dr lindqvist", "son rob",
"B. TREMBLAY PA", "Ana Ruiz, RN", or bare after a relation word. Case is unreliable (ALL
CAPS and all-lower notes are common), so each rule pairs a cue (title, relation, credential,
signature position) with a vocabulary test: ordinary English and clinical words (drugs, labs,
abbreviations) are never names unless a strong cue such as "Dr." stands right before them.
"""

from __future__ import annotations

from collections.abc import Callable

from phiguard.detectors.local.clinical.common import FAIR, FUNCTION_WORDS, span
from phiguard.detectors.local.clinical.name_context import ContextRules
from phiguard.detectors.local.clinical.name_words import (
    _CREDENTIALS,
    _HEADS_NOT_NAMES,
    _PLACE_NOUNS,
    _ROLES,
    _RUN_TRIGGERS,
    _TALK,
    _TITLES,
    Marks,
)
from phiguard.detectors.local.clinical.tokens import Note
from phiguard.spans import PhiType, Span

_PER_BY = frozenset({"per", "by"})
_IS_WAS = frozenset({"is", "was"})
_WEAK_CUES = (
    frozenset({"per", "contacts", "contacted", "contact", "mr", "mrs", "ms", "by", "called"})
    | _TALK
)


class NameRules(ContextRules):
    """Token rules for NAME spans; `find` runs every rule over every token, in order."""

    def find(self, note: Note, allowed: Callable[[str], bool] = lambda _: True) -> list[Span]:
        toks = note.tokens
        n = len(toks)
        mark = Marks(allowed)
        hits = mark.hits

        # Each rule starts from a condition on its own token; testing that first (the gate)
        # skips the call for the many tokens no rule can start from.
        lex, titles_roles = self.lex, _TITLES | _ROLES
        for i in range(n):
            tok = toks[i]
            low = tok.low
            single = len(tok.text) == 1
            if low in _RUN_TRIGGERS:
                self._run(note, i, mark)
            if low in titles_roles and self._title_or_relation(note, i, mark):
                continue
            if low in _CREDENTIALS:
                self._credential(note, i, mark)
            if single:
                self._initial_surname(note, i, mark)
            name_word = lex.is_name_word(low)
            if name_word:
                self._dictionary_pair(note, i, mark)
                self._last_first(note, i, mark)
                self._first_verb(note, i, mark)
                self._paren(note, i, mark)
            if single or low in _PER_BY:
                self._bare_initial(note, i, mark)
            if name_word:
                self._pair_verb(note, i, mark)
            if low in _WEAK_CUES:
                self._weak_cues(note, i, mark)
            if name_word:
                self._dictionary(note, i, mark)
                self._pair_aware(note, i, mark)
            if low in _IS_WAS:
                self._age_line(note, i, mark)

        # a signature at the very end: "... 1400U/HR. SUSAN", "Ann Halvorsen"
        tail = [k for k in range(max(0, n - 3), n) if self._alpha(toks[k])]
        if tail and note.text[toks[tail[0]].start :].count("\n") <= 2:
            last = tail[-1]
            line_start = note.text.rfind("\n", 0, toks[last].start) + 1
            line = [k for k in range(n) if toks[k].start >= line_start and self._alpha(toks[k])]
            if (
                line_start > 0
                and 1 <= len(line) <= 3
                and all(  # a signature follows a body
                    self._namey(note, toks[k])
                    or self._initial(note, k)
                    or (  # "Quill Pryce" alone on the last line
                        len(line) >= 2
                        and self._capital(note, toks[k])
                        and self.lex.is_name_word(toks[k].low)
                        and toks[k].low not in self.lex.clinical | FUNCTION_WORDS
                    )
                    for k in line
                )
            ):
                if any(self.lex.is_name_word(toks[k].low) for k in line):
                    mark(line, FAIR, "names.signature")
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
                mark([last], FAIR, "names.signature")

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
                        hits[other] = (score, "names.hyphen")
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
                hits[nxt] = (FAIR, "names.grow")
            if k + 2 < n and toks[k + 1].low in ("and", "&"):
                t = toks[k + 2]
                if t.low in self.lex.first and not self.lex.is_word(t.low) and k + 2 not in hits:
                    hits[k + 2] = (FAIR, "names.and")

"""Name rules from context: dictionary pairs, "LAST, FIRST", verbs after names, lines."""

from __future__ import annotations

from phiguard.detectors.local.clinical.common import FAIR, FUNCTION_WORDS, GOOD
from phiguard.detectors.local.clinical.name_titles import TitleRules
from phiguard.detectors.local.clinical.name_words import (
    _AFTER_FIRST,
    _AFTER_NAME,
    _AGE_UNITS,
    _CLINICIAN_VERBS,
    _EPONYM_NEXT,
    _HEADS_NOT_NAMES,
    _MONTHS,
    _NOT_AFTER_ROLE,
    _PATIENT_VERBS,
    _ROLES,
    _SAYS,
    _TALK,
    Marks,
)
from phiguard.detectors.local.clinical.tokens import Note, at


class ContextRules(TitleRules):
    """Rules that read a name from the words around it."""

    def _dictionary_pair(self, note: Note, i: int, mark: Marks) -> None:
        """names.pair: a first + last name pair from the dictionaries."""
        toks, n, tok, low = at(note, i)
        nxt = self._next_word(note, i)
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
                mark([i, *self._take(note, i + 1, True)], GOOD, "names.pair")
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
            mark([i, i + 1], FAIR, "names.pair")

    def _last_first(self, note: Note, i: int, mark: Marks) -> None:
        """names.last-first: "HERNANDEZ, CYNTHIA"."""
        toks, n, _tok, low = at(note, i)
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
            mark([i, *self._take(note, i + 2, True)], GOOD, "names.last-first")

    def _first_verb(self, note: Note, i: int, mark: Marks) -> None:
        """names.first-verb: a name followed by what people do in notes."""
        toks, n, tok, low = at(note, i)
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
            mark([i], FAIR, "names.first-verb")
        if (  # "Hope reports that": a Title-case first name that is also a word, as
            # the subject of a reporting verb in mixed-case prose
            i + 1 < n
            and low in self.lex.first
            and self._capital(note, tok)
            and tok.text[1:].islower()
            and self._run_word(tok)
            and toks[i + 1].low in _SAYS
        ):
            mark([i], FAIR, "names.first-verb")

    def _paren(self, note: Note, i: int, mark: Marks) -> None:
        """names.paren: a first name alone in parentheses."""
        toks, n, _tok, low = at(note, i)
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
            mark([i], FAIR, "names.paren")

    def _bare_initial(self, note: Note, i: int, mark: Marks) -> None:
        """names.initial: an initial without its period before a surname."""
        toks, n, tok, low = at(note, i)
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
            mark([i + 1, i + 2], FAIR, "names.initial")
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
            mark([i, i + 1], FAIR, "names.initial")

    def _pair_verb(self, note: Note, i: int, mark: Marks) -> None:
        """names.pair: a first name and an unknown word, then "aware"/"notified"."""
        toks, n, tok, low = at(note, i)
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
            mark([i, i + 1], FAIR, "names.pair")

    def _weak_cues(self, note: Note, i: int, mark: Marks) -> None:
        """names.per / names.talk / names.title / names.nickname: weaker cues, so the word
        must look like a name."""
        toks, n, _tok, low = at(note, i)
        # "per TREMBLAY", "talked with joanna": weaker cues, so the word must look like a name
        if (
            low == "per"
            and i + 1 < n
            and self._namey(note, toks[i + 1])
            and not self._initial(note, i + 1)
            and self.lex.is_name_word(toks[i + 1].low)
        ):
            mark(self._take(note, i + 1, True), FAIR, "names.per")
        if (
            low in ("contacts", "contacted", "contact")
            and i + 1 < n
            and self.lex.is_name_word(toks[i + 1].low)
            and not self.lex.is_common(toks[i + 1].low)
            and toks[i + 1].low not in self.lex.clinical | FUNCTION_WORDS | _ROLES
        ):
            mark(self._take(note, i + 1, True), FAIR, "names.talk")
        if (  # "MR QUILL SLEPT WELL", "mrs pike had": a weak title, a name and a verb
            low in ("mr", "mrs", "ms")
            and i + 2 < n
            and i + 1 not in mark.hits
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
            mark([i + 1], GOOD, "names.title")
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
            mark([i + 1], GOOD, "names.nickname")
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
                mark(self._take(note, i + 2, True), FAIR, "names.talk")

    def _dictionary(self, note: Note, i: int, mark: Marks) -> None:
        """names.dictionary: a dictionary name where case says it is one."""
        toks, n, tok, low = at(note, i)
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
            mark([i], FAIR, "names.dictionary")
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
            and not note.text[max(0, tok.start - 4) : tok.start].lower().endswith(("s/p ", "sp "))
            and note.text[toks[i - 1].end : tok.start].count("\n") == 0
            and note.text[tok.end : tok.end + 1] != "-"  # "Cheyne-Stokes"
            and (i + 1 >= n or toks[i + 1].low not in _EPONYM_NEXT)
        ):  # "left a message for Okonjo": a Title-case surname mid-sentence
            mark([i], FAIR, "names.dictionary")
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
            mark([i], FAIR, "names.dictionary")

    def _pair_aware(self, note: Note, i: int, mark: Marks) -> None:
        """names.pair: two dictionary names, one no English word, then "aware"."""
        toks, n, tok, low = at(note, i)
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
            mark([i, i + 1], FAIR, "names.pair")

    def _age_line(self, note: Note, i: int, mark: Marks) -> None:
        """names.age: the words opening a line before "is a <age>"."""
        toks, n, _tok, low = at(note, i)
        # "dusty quintero is a 64 yo": the words opening a line before "is a <age>"
        if (
            low in ("is", "was")
            and i > 0
            and i + 3 < n
            and toks[i + 1].low in ("a", "an")
            and toks[i + 2].text.isdigit()
            and toks[i + 3].low in _AGE_UNITS
        ):
            seq: list[int] = []
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
                mark(seq, FAIR, "names.age")

"""Name rules anchored on a written cue: titles, roles and relations, credentials, initials."""

from __future__ import annotations

from phiguard.detectors.local.clinical.common import FAIR, FUNCTION_WORDS, GOOD, STRONG
from phiguard.detectors.local.clinical.name_words import (
    _AFTER_CREDENTIAL_NOT,
    _AFTER_NAME,
    _AFTER_TITLE_NOT,
    _CLERGY,
    _CLINICIAN_VERBS,
    _CREDENTIAL_SKIP,
    _CREDENTIALS,
    _GENUS,
    _HEADS_NOT_NAMES,
    _NOT_BEFORE_MD,
    _POST_NAME,
    _ROLES,
    _RUN_TRIGGERS,
    _TITLES,
    _WEAK_TITLES,
    Marks,
    NameWords,
)
from phiguard.detectors.local.clinical.tokens import Note, at


class TitleRules(NameWords):
    """Rules that start from a title, role, relation, credential or initial."""

    def _run(self, note: Note, i: int, mark: Marks) -> None:
        """names.run: a cue with a run of dictionary names next to it."""
        _toks, _, _tok, low = at(note, i)
        if low in _RUN_TRIGGERS:
            mark(self._run_cues(note, i), FAIR, "names.run")

    def _title_or_relation(self, note: Note, i: int, mark: Marks) -> bool:
        """names.title / names.relation: a title or a role/relation word, then the name.

        True when the token is settled and no later rule may look at it."""
        toks, n, tok, low = at(note, i)
        nxt = self._next_word(note, i)
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
                weak = not (toks[nxt].low in self.lex.last or not self.lex.is_word(toks[nxt].low))
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
            got = self._take(note, nxt, first_ok) if first_ok or self._initial(note, nxt) else []
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
            mark(got, STRONG, "names.title")
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
                    mark(self._take(note, k + 1, True), GOOD, "names.title")
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
                return True  # "RT" is also "right": "RT BASE"
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
                mark(self._take(note, j, True), GOOD, "names.relation")
            elif not pro and self._title_pair(note, j):
                mark([j, j + 1], FAIR, "names.relation")
        return False

    def _credential(self, note: Note, i: int, mark: Marks) -> None:
        """names.credential: the name before a credential ("B. CLIFFORD MD", "Maria Silva, RN")."""
        toks, n, tok, low = at(note, i)
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
                mark([j - 2, j], GOOD, "names.credential")
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
                        self.lex.is_name_word(toks[k].low) and not self.lex.is_common(toks[k].low)
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
                mark(seq, GOOD, "names.credential")

    def _initial_surname(self, note: Note, i: int, mark: Marks) -> None:
        """names.initial: an initial + surname after per/by/with or before a clinician verb."""
        toks, n, tok, _ = at(note, i)
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
                mark([i, i + 2], GOOD, "names.initial")

"""Streets, towns, states, hospitals and ZIP codes.

A place is read as words and numbers. Street types, directions, unit words, facility nouns
("Hospital", "Medical Center") and generic place words ("New", "Lake", "Saint") stay as
written (data/surrogates/place_kept.txt); a US state, by name or postal code, becomes another
state in the same form; every other word becomes a one-word US town name (GeoNames) in the
original's case, the same one wherever that word appears in the scope ("Boston", "Boston
Medical Center", "boston.org"). Numbers become random digits of the same width, except ZIPs.

ZIP codes follow Safe Harbor's three-digit rule: the first three digits stay unless their area
has 20,000 people or fewer (data/surrogates/zip3_restricted.txt), in which case they become
000; the digits after them are replaced.
"""

from __future__ import annotations

import re

from phiguard.surrogates.casing import apply_case, case_of, fold
from phiguard.surrogates.keyed import Draws, Keyed
from phiguard.surrogates.pools import pools
from phiguard.surrogates.shapes import reshape

_TOKEN = re.compile(r"(?P<num>\d+)|(?P<word>[^\W\d_]+(?:['\u2019][^\W\d_]+)*)")
_POSSESSIVE = re.compile(r"['\u2019][sS]$")
_CACHE_LIMIT = 200_000
_CONNECTORS = frozenset({"of", "the", "and", "at", "for", "in", "on", "a", "&"})


def zip_surrogate(zip5: str, plus4: str, draws: Draws) -> tuple[str, str]:
    """(ZIP, +4) under the three-digit rule; the five digits always differ from the original."""
    head = "000" if zip5[:3] in pools().zip3_restricted else zip5[:3]
    four = "".join(str(draws.below(10)) for _ in plus4)
    tail = zip5[3:]
    while head + tail == zip5:
        tail = f"{draws.below(100):02d}"
    return head + tail, four


class PlaceSurrogates:
    """Place surrogates for one (key, scope); the word cache is only a speed-up."""

    def __init__(self, keyed: Keyed) -> None:
        self._keyed = keyed
        self._lists = pools()
        self._words: dict[str, str] = {}

    def word(self, text: str) -> str:
        """A place word's surrogate town word, in the word's case; never the word itself."""
        folded = fold(text)
        out = self._words.get(folded)
        if out is None:
            draws = self._keyed.draws("place", folded)
            out = draws.choice(self._lists.towns)
            while out == folded:
                out = draws.choice(self._lists.towns)
            if len(self._words) >= _CACHE_LIMIT:
                self._words.clear()
            self._words[folded] = out
        return apply_case(out, case_of(text))

    def state_code(self, code: str) -> str:
        draws = self._keyed.draws("state", code)
        out = draws.choice(self._lists.state_list)
        while out == code:
            out = draws.choice(self._lists.state_list)
        return out

    def _state_at(self, value: str, spans: list[tuple[int, int, str]], i: int) -> int:
        """How many word tokens from i name a state (0 if none): "New York", "Ohio", "MA"."""
        for n in (3, 2, 1):
            if i + n > len(spans):
                continue
            if n > 1 and any(
                value[spans[k][1] : spans[k + 1][0]] != " " for k in range(i, i + n - 1)
            ):
                continue
            words = " ".join(fold(spans[k][2]) for k in range(i, i + n))
            if words in self._lists.state_codes and (n > 1 or len(words) > 2):
                return n
        text = spans[i][2]
        return 1 if len(text) == 2 and text.isupper() and text in self._lists.states else 0

    def surrogate(self, value: str) -> str | None:
        """The place in its form; None when nothing in it could be replaced.

        A place made only of kept words ("Memorial", "General Hospital") is itself the name:
        its first word (not "of", "the") is then replaced like any other."""
        out = self._surrogate(value, keep=True)
        return out if out is not None else self._surrogate(value, keep=False)

    def _surrogate(self, value: str, keep: bool) -> str | None:
        matches = list(_TOKEN.finditer(value))
        words = [(m.start(), m.end(), m.group()) for m in matches if m.group("word")]
        draws = self._keyed.draws("place-numbers", fold(value))
        pieces: list[str] = []
        pos = i = w = 0
        while i < len(matches):
            m = matches[i]
            pieces.append(value[pos : m.start()])
            if m.group("num"):
                text, i = self._number(value, matches, i, bool(words), draws)
                pieces.append(text)
                pos = matches[i - 1].end()
                continue
            n = self._state_at(value, words, w)
            if n:
                end = words[w + n - 1][1]
                pieces.append(self._state(value[m.start() : end], m.group()))
            else:
                n, end = 1, m.end()
                pieces.append(self._word(m.group(), keep))
                keep = keep or pieces[-1] != m.group()  # unkept: only the first word
            w += n
            i += n
            pos = end
        pieces.append(value[pos:])
        out = "".join(pieces)
        return None if out == value else out

    def _state(self, text: str, first: str) -> str:
        lists = self._lists
        code = lists.state_codes.get(" ".join(fold(p) for p in text.split()), text.upper())
        new = self.state_code(code)
        if len(text) == 2:
            return apply_case(new, case_of(text))
        return apply_case(lists.states[new].lower(), case_of(first))

    def _word(self, text: str, keep: bool = True) -> str:
        folded = fold(text)
        if folded in _CONNECTORS or (keep and folded in self._lists.place_kept):
            return text
        if len(folded) == 1:  # a unit letter ("4B"): random, same case
            return reshape(text, self._keyed.draws("place-letter", text))
        if _POSSESSIVE.search(text) and len(text) > 3:
            return self._word(text[:-2], keep) + text[-2:]
        return self.word(text)

    def _number(
        self, value: str, matches: list[re.Match[str]], i: int, has_words: bool, draws: Draws
    ) -> tuple[str, int]:
        """The number at i (a ZIP, a ZIP+4 or any other number) and the next token index."""
        digits = matches[i].group()
        if len(digits) == 5 and (i > 0 or not has_words):  # a house number comes first
            nxt = matches[i + 1] if i + 1 < len(matches) else None
            if nxt and len(nxt.group()) == 4 and value[matches[i].end() : nxt.start()] == "-":
                new5, new4 = zip_surrogate(digits, nxt.group(), draws)
                return f"{new5}-{new4}", i + 2
            return zip_surrogate(digits, "", draws)[0], i + 1
        out = reshape(digits, draws)
        while out == digits:
            out = reshape(digits, draws)
        return out, i + 1

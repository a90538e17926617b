"""Emails and URLs: synthetic ones of the same form.

Email: the local part's words become name surrogates (so "carlos.salazar@..." agrees with
"Carlos Salazar" in the same scope), its digits random digits, its dots, dashes and
underscores stay. Domain and URL host labels become town words except the top-level domain,
a country's second level ("co.uk") and public, non-identifying words (data/surrogates/
web_kept.txt: "gmail", "www", "index", "html"). A URL keeps its scheme, port and punctuation;
path and query words are replaced like host labels, digits become random digits.
"""

from __future__ import annotations

import re

from phiguard.surrogates.keyed import Draws
from phiguard.surrogates.names import NameSurrogates
from phiguard.surrogates.places import PlaceSurrogates
from phiguard.surrogates.pools import pools
from phiguard.surrogates.shapes import reshape

_EMAIL = re.compile(r"(?P<local>[^@\s]+)@(?P<domain>[^@\s]+\.[^\W\d_]{2,})")
_URL = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.\-]*://)?(?P<host>[^/?#\s:@]+)(?P<port>:\d+)?(?P<rest>[/?#]\S*)?",
    re.IGNORECASE,
)
_RUN = re.compile(r"[^\W\d_]+|\d+")
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_SECOND_LEVEL = frozenset({"co", "ac", "com", "org", "net", "gov", "edu", "nhs", "or", "ne"})


class WebSurrogates:
    def __init__(self, names: NameSurrogates, places: PlaceSurrogates) -> None:
        self._names = names
        self._places = places
        self._kept = pools().web_kept

    def _runs(self, text: str, draws: Draws, word: str) -> str:
        """Letters -> a name or place word, digits -> random digits, the rest as written."""

        def one(m: re.Match[str]) -> str:
            run = m.group()
            if run.isdigit():
                return reshape(run, draws)
            if run.lower() in self._kept:
                return run
            if len(run) == 1:
                return reshape(run, draws)
            return self._names.word(run) if word == "name" else self._places.word(run)

        return _RUN.sub(one, text)

    def _host(self, host: str, draws: Draws) -> str:
        if _IPV4.fullmatch(host):
            return reshape(host, draws)
        labels = host.split(".")
        keep_from = len(labels) - 1
        if len(labels) > 2 and labels[-2].lower() in _SECOND_LEVEL and len(labels[-1]) == 2:
            keep_from -= 1
        out = [
            label if i >= keep_from else self._runs(label, draws, "place")
            for i, label in enumerate(labels)
        ]
        return ".".join(out)

    def email(self, value: str, draws: Draws) -> str | None:
        m = _EMAIL.fullmatch(value)
        if m is None:
            return None
        out = f"{self._runs(m['local'], draws, 'name')}@{self._host(m['domain'], draws)}"
        return None if out == value else out

    def url(self, value: str, draws: Draws) -> str | None:
        m = _URL.fullmatch(value)
        if m is None or "." not in m["host"]:
            return None
        rest = self._runs(m["rest"], draws, "place") if m["rest"] else ""
        out = f"{m['scheme'] or ''}{self._host(m['host'], draws)}{m['port'] or ''}{rest}"
        return None if out == value else out

"""Same-shape random characters for phones, faxes, MRNs, SSNs and account numbers.

Every digit becomes a random digit and every letter a random letter of the same case; all
else (dashes, dots, spaces, parentheses) stays, so "(617) 555-0134" keeps its layout and
"MRN-00A1234" its letter and digit positions. A run of digits that started with a non-zero
digit starts with one again (no "0xx" area codes). Phones keep their letters ("ext", "x") and
a leading country code ("+1 ") or trunk "1-".
"""

from __future__ import annotations

import re
import string

from phiguard.surrogates.keyed import Draws

_PHONE_PREFIX = re.compile(r"^(?:\+\d{1,3}(?=\D)|1(?=[\s.\-(]))")


def reshape(value: str, draws: Draws, *, keep_letters: bool = False) -> str:
    out: list[str] = []
    prev_digit = False
    for c in value:
        if c.isnumeric() and not c.isalpha():  # "7", and "٣" or "¼" too
            out.append(str(draws.below(10) if prev_digit or c == "0" else 1 + draws.below(9)))
            prev_digit = True
            continue
        prev_digit = False
        if c.isalpha() and not keep_letters:
            letters = string.ascii_uppercase if c.isupper() else string.ascii_lowercase
            out.append(draws.choice(letters))
        else:
            out.append(c)
    return "".join(out)


def reshape_phone(value: str, draws: Draws) -> str:
    m = _PHONE_PREFIX.match(value)
    cut = m.end() if m else 0
    return value[:cut] + reshape(value[cut:], draws, keep_letters=True)

"""Phones, IDs, ZIPs, places, emails, URLs, ages, professions, and the engine's guarantees."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phiguard.spans import PhiType
from phiguard.surrogates import DateShift, Surrogates
from phiguard.surrogates.pools import pools

KEY = bytes(range(32))
RESTRICTED = sorted(pools().zip3_restricted)


def make(scope: str = "note:1", key: bytes = KEY) -> Surrogates:
    return Surrogates(key, scope=scope, date_shift=DateShift(-30))


def char_class(c: str) -> str:
    if c.isdigit():
        return "9"
    if c.isalpha():
        return "A" if c.isupper() else "a"
    return c


IDS = st.text(alphabet="0123456789ABCXYZabcxyz-./ #", min_size=1, max_size=20).filter(
    lambda s: any(c.isalnum() for c in s)
)


@settings(max_examples=200, deadline=None)
@given(value=IDS)
def test_ids_keep_their_shape_and_never_repeat(value: str) -> None:
    out = make().surrogate(value, PhiType.ID)
    assert out is not None and out != value
    assert [char_class(c) for c in out] == [char_class(c) for c in value]
    for i, c in enumerate(value):  # a run that started non-zero starts non-zero
        if c.isdigit() and c != "0" and (i == 0 or not value[i - 1].isdigit()):
            assert out[i] != "0"


@settings(max_examples=100, deadline=None)
@given(
    value=st.from_regex(r"\A(\+1 )?\(?[2-9]\d\d\)?[ .-]\d{3}[ .-]\d{4}( ext\. \d{1,4}| x\d{2})?\Z")
)
def test_phones_keep_layout_letters_and_country_code(value: str) -> None:
    out = make().surrogate(value, PhiType.PHONE_OR_FAX)
    assert out is not None and out != value
    assert [c if not c.isdigit() else "9" for c in out] == [
        c if not c.isdigit() else "9" for c in value
    ]
    if value.startswith("+1 "):
        assert out.startswith("+1 ")


def test_values_without_characters_to_replace_give_none() -> None:
    s = make()
    assert s.surrogate("--", PhiType.ID) is None
    assert s.surrogate("ext.", PhiType.PHONE_OR_FAX) is None
    assert s.surrogate("something", PhiType.OTHER) is None
    assert s.surrogate("x", "NOT_A_TYPE") is None


@settings(max_examples=200, deadline=None)
@given(
    zip5=st.one_of(
        st.from_regex(r"\A\d{5}\Z"), st.sampled_from(RESTRICTED).map(lambda p: p + "42")
    ),
    plus4=st.one_of(st.just(""), st.from_regex(r"\A\d{4}\Z")),
)
def test_zip_codes_follow_the_three_digit_rule(zip5: str, plus4: str) -> None:
    value = f"{zip5}-{plus4}" if plus4 else zip5
    out = make().surrogate(value, PhiType.ADDRESS)
    assert out is not None and re.fullmatch(r"\d{5}(-\d{4})?", out)
    assert out[:5] != zip5  # the five digits never survive
    assert out[:3] == ("000" if zip5[:3] in RESTRICTED else zip5[:3])
    assert len(out) == len(value)


def test_the_restricted_prefixes_are_the_safe_harbor_list() -> None:
    assert RESTRICTED == [
        "036", "059", "063", "102", "203", "556", "692", "790", "821", "823", "830", "831",
        "878", "879", "884", "890", "893",
    ]  # fmt: skip


def test_a_full_address_keeps_its_form() -> None:
    s = make()
    out = s.surrogate("1234 N. Elm Street, Apt 4B, Boston, MA 02115-1234", PhiType.ADDRESS)
    assert out is not None
    m = re.fullmatch(
        r"(\d{4}) N\. ([A-Z][a-z]+) Street, Apt (\d)([A-Z]), "
        r"([A-Z][a-z]+), ([A-Z]{2}) (021\d\d)-\d{4}",
        out,
    )
    assert m, out
    assert m[1] != "1234" and m[2] != "Elm" and m[5] != "Boston" and m[6] != "MA"
    assert m[6] in pools().states
    # The same town word wherever it appears in the scope, in its case.
    town = m[5]
    assert s.surrogate("BOSTON", PhiType.LOCATION) == town.upper()
    assert s.surrogate("Boston Medical Center", PhiType.ORGANIZATION) == f"{town} Medical Center"


@pytest.mark.parametrize(
    ("value", "pattern"),
    [
        ("Massachusetts General Hospital", r"(?!Massachusetts)[A-Z][a-z]+( [A-Z][a-z]+)* General "
                                           r"Hospital"),
        ("St. Mary's Hospital", r"St\. (?!Mary)[A-Z][a-z]+'s Hospital"),
        ("NEW YORK", r"(?!NEW YORK)[A-Z ]+"),
        ("General Hospital", r"(?!General)[A-Z][a-z]+ Hospital"),  # all kept words: name the first
        ("Memorial", r"(?!Memorial)[A-Z][a-z]+"),
    ],
)  # fmt: skip
def test_facilities_and_states(value: str, pattern: str) -> None:
    out = make().surrogate(value, PhiType.LOCATION)
    assert out is not None and re.fullmatch(pattern, out), out


def test_state_codes_and_names_agree() -> None:
    s = make()
    code = s.surrogate("NY", PhiType.LOCATION)
    name = s.surrogate("New York", PhiType.LOCATION)
    assert code in pools().states and code != "NY"
    assert name == pools().states[code]  # type: ignore[index]


def test_emails_keep_their_form_and_agree_with_names() -> None:
    s = make()
    name = s.surrogate("Carlos Salazar", PhiType.NAME)
    out = s.surrogate("carlos.salazar42@gmail.com", PhiType.EMAIL)
    assert name is not None and out is not None
    first, last = name.lower().split()
    assert re.fullmatch(rf"{first}\.{last}\d\d@gmail\.com", out), out
    hosp = s.surrogate("JSmith@mgh.harvard.edu", PhiType.EMAIL)
    assert hosp is not None
    m = re.fullmatch(r"([A-Z][a-z]+)@([a-z]+)\.([a-z]+)\.edu", hosp)
    assert m and m[2] != "mgh" and m[3] != "harvard", hosp
    assert s.surrogate("not an email", PhiType.EMAIL) is None


def test_urls_keep_scheme_shape_and_public_words() -> None:
    s = make()
    out = s.surrogate("https://www.mgh.harvard.edu/patients/index.html?id=12345", PhiType.URL)
    assert out is not None
    m = re.fullmatch(
        r"https://www\.([a-z]+)\.([a-z]+)\.edu/([a-z]+)/index\.html\?([a-z]+)=(\d{5})", out
    )
    assert m, out
    assert (m[1], m[2], m[3]) != ("mgh", "harvard", "patients") and m[5] != "12345"
    uk = s.surrogate("www.stthomas.nhs.uk", PhiType.URL)
    assert uk is not None and re.fullmatch(r"www\.[a-z]+\.nhs\.uk", uk) and "stthomas" not in uk
    assert s.surrogate("http://10.1.2.3:8080/x", PhiType.URL) is not None
    assert s.surrogate("nonsense", PhiType.URL) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("92", "90+"),
        ("89", "89"),  # not PHI: stays
        ("45", "45"),
        ("92 y/o", "90+ y/o"),
        ("92-year-old", "90+ year-old"),
        ("ninety-two", "90+"),
        ("Ninety two year old", "90+ year old"),
        ("eighty-nine", "eighty-nine"),
        ("one hundred and two", "90+"),
        ("91-93", "90+"),
        ("aged 104", "aged 90+"),
        ("no age here", None),
    ],
)
def test_ages_over_89_become_90_plus(value: str, expected: str | None) -> None:
    assert make().surrogate(value, PhiType.AGE) == expected


def test_professions_are_replaced_in_case_keeping_retired() -> None:
    s = make()
    out = s.surrogate("retired firefighter", PhiType.PROFESSION)
    assert out is not None and out.startswith("retired ") and "firefighter" not in out
    assert out[len("retired ") :] in pools().professions
    upper = s.surrogate("TEACHER", PhiType.PROFESSION)
    assert upper is not None and upper.isupper() and upper != "TEACHER"


def test_dates_go_through_the_scope_shift() -> None:
    assert make().surrogate("03/04/2012", PhiType.DATE) == "02/03/2012"
    assert make().surrogate("someday", PhiType.DATE) is None


VALUES = [
    ("Carlos Salazar", "NAME"), ("SALAZAR, CARLOS", "NAME"), ("C. Salazar", "NAME"),
    ("03/04/2012", "DATE"), ("(617) 555-0134", "PHONE_OR_FAX"), ("MRN 0012345", "ID"),
    ("123-45-6789", "ID"), ("carlos@example.org", "EMAIL"), ("http://example.org/a/1", "URL"),
    ("12 Main St, Boston, MA 02115", "ADDRESS"), ("Boston", "LOCATION"),
    ("Mercy Hospital", "ORGANIZATION"), ("nurse", "PROFESSION"), ("95", "AGE"),
]  # fmt: skip
_CHILD = """
import json, sys
from phiguard.surrogates import DateShift, Surrogates
s = Surrogates(bytes(range(32)), scope="patient:9", date_shift=DateShift(-30))
print(json.dumps([s.surrogate(v, t) for v, t in json.loads(sys.stdin.read())]))
"""


def test_another_process_with_the_same_key_and_scope_gives_the_same_surrogates() -> None:
    here = [make("patient:9").surrogate(v, t) for v, t in reversed(VALUES)][::-1]  # any order
    child = subprocess.run(
        [sys.executable, "-c", _CHILD], input=json.dumps(VALUES), capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    assert json.loads(child.stdout) == here
    assert all(out is not None and out != v for out, (v, _) in zip(here, VALUES, strict=True))


def test_scopes_and_keys_separate_surrogates() -> None:
    base = [make("patient:9").surrogate(v, t) for v, t in VALUES]
    other_scope = [make("patient:10").surrogate(v, t) for v, t in VALUES]
    other_key = [make("patient:9", key=bytes(32)).surrogate(v, t) for v, t in VALUES]
    varying = [i for i, (_, t) in enumerate(VALUES) if t not in ("DATE", "AGE")]
    assert sum(base[i] != other_scope[i] for i in varying) >= len(varying) - 1
    assert sum(base[i] != other_key[i] for i in varying) >= len(varying) - 1


def test_short_keys_are_refused_and_repr_hides_the_key() -> None:
    with pytest.raises(ValueError):
        make(key=b"short")
    from phiguard.surrogates.keyed import Keyed

    assert repr(Keyed(KEY, "s")) == "Keyed(<key>)"


@pytest.mark.parametrize("key", [bytes(range(32)), bytes(range(16)), b"k" * 100])
def test_keyed_digests_are_standard_hmac_sha256(key: bytes) -> None:
    """The precomputed-pad HMAC equals the library's, so other implementations can match."""
    import hmac

    from phiguard.surrogates.keyed import Keyed, frame

    msg = frame(b"phiguard/surrogate/v1", b"patient:9") + frame(
        b"given", "josé".encode(), (2).to_bytes(4, "big")
    )
    assert Keyed(key, "patient:9").digest("given", "josé", 2) == hmac.digest(key, msg, "sha256")


NEVER_THE_ORIGINAL = [t for t in PhiType if t not in (PhiType.AGE, PhiType.DATE, PhiType.OTHER)]


@settings(max_examples=300, deadline=None)
@given(value=st.text(max_size=40), phi_type=st.sampled_from(list(PhiType)))
def test_any_text_gives_a_string_or_none_never_an_error(value: str, phi_type: PhiType) -> None:
    out = make().surrogate(value, phi_type)
    assert out is None or isinstance(out, str)
    if out is not None and phi_type in NEVER_THE_ORIGINAL:
        assert out != value

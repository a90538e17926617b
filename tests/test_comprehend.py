"""ComprehendDetector against a real botocore client, stubbed (this machine has no AWS)."""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from botocore.stub import Stubber

from phiguard.detectors import get_detector
from phiguard.detectors.base import Detector
from phiguard.detectors.chunking import chunk_text, utf8_len
from phiguard.detectors.comprehend.detector import ComprehendDetector
from phiguard.errors import DetectionError, Hint
from phiguard.spans import Span

NAMES = ("José Ñúñez", "Zoë Brontë", "Łukasz Żółć", "Renée O'Connor")
PHONE = "617-555-0199"


# -- fixtures and helpers -----------------------------------------------------------------


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def entity(
    i: int, begin: int, end: int, text: str, etype: str = "NAME", score: float = 0.99
) -> dict[str, Any]:
    return {
        "Id": i,
        "BeginOffset": begin,
        "EndOffset": end,
        "Score": score,
        "Text": text,
        "Category": "PROTECTED_HEALTH_INFORMATION",
        "Type": etype,
        "Traits": [],
    }


def find_all(text: str, needle: str) -> Iterator[int]:
    at = text.find(needle)
    while at >= 0:
        yield at
        at = text.find(needle, at + 1)


def fake_response(chunk: str, offsets: Callable[[str, int], int] | None = None) -> dict[str, Any]:
    """What DetectPHI would say about `chunk`: every known name and the phone number.

    Offsets are code points by default (the documented behaviour); `offsets` converts
    a str index to another unit to simulate a service counting differently.
    """
    conv = offsets or (lambda _t, i: i)
    entities: list[dict[str, Any]] = []
    for needle, etype, score in [(n, "NAME", 0.997) for n in NAMES] + [
        (PHONE, "PHONE_OR_FAX", 0.41)
    ]:
        for at in find_all(chunk, needle):
            b, e = conv(chunk, at), conv(chunk, at + len(needle))
            entities.append(entity(len(entities), b, e, needle, etype, score))
    return {"Entities": entities, "ModelVersion": "2.0.0"}


def utf16_offset(text: str, i: int) -> int:
    return len(text[:i].encode("utf-16-le")) // 2


def utf8_offset(text: str, i: int) -> int:
    return len(text[:i].encode("utf-8"))


def big_note(layout: str = "lines") -> str:
    """~50,000 UTF-8 bytes, names every few dozen bytes so every chunk border is near one.

    "lines" has some newlines; "prose" has none, so cuts fall at sentence ends; "spaces"
    has no newline or full stop, so cuts fall at spaces, right beside or inside names.
    The emoji and accents before each name make code points, UTF-16 units and bytes all
    disagree, so a unit mix-up would shift every span.
    """
    rng = random.Random(7)
    emoji = ["👩\u200d⚕️", "🩺", "🇨🇦", "👍🏽", "💊", "🙂"]
    seps = {
        "lines": [" ", " ", " ", ". ", "; ", "\n", "\n\n"],
        "prose": [" ", " ", ". ", "; ", "! "],
        "spaces": [" ", "; ", ", "],
    }[layout]
    parts: list[str] = []
    while utf8_len("".join(parts)) < 50_000:
        name = rng.choice(NAMES)
        sep = rng.choice(seps)
        parts.append(f"{rng.choice(emoji)} pt {name} called {PHONE}{sep}")
        if rng.random() < 0.05:
            parts.append("ÉÉÉ" * rng.randint(1, 400) + " ")  # long accented runs, no PHI
    return "".join(parts)


# -- the big note ---------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["lines", "prose", "spaces"])
def test_big_note_with_emoji_and_accents_maps_back_exactly(
    client: Any, stubber: Stubber, layout: str
) -> None:
    note = big_note(layout)
    assert 50_000 <= utf8_len(note) < 52_000

    chunks = chunk_text(note, 20_000)
    assert len(chunks) >= 3
    for chunk in chunks:
        stubber.add_response("detect_phi", fake_response(chunk.text), {"Text": chunk.text})
    sent: list[str] = []
    client.meta.events.register(
        "provide-client-params.comprehendmedical.DetectPHI",
        lambda params, **_: sent.append(params["Text"]),
    )

    spans = ComprehendDetector(client=client).detect(note)

    # Requests: exactly the chunks, each within the limit, together the whole note.
    assert sent == [c.text for c in chunks]
    assert all(utf8_len(t) <= 20_000 for t in sent)
    assert "".join(sent) == note

    # Every span is exactly a known PHI string in the ORIGINAL note.
    assert spans
    for s in spans:
        assert note[s.start : s.end] in (*NAMES, PHONE), (s.start, s.end)
        assert s.source == "comprehend"
        assert s.type == ("PHONE_OR_FAX" if note[s.start : s.end] == PHONE else "NAME")

    # And exactly the occurrences that a chunk held whole were found, nothing else.
    expected = {
        (c.start + at, c.start + at + len(n))
        for c in chunks
        for n in (*NAMES, PHONE)
        for at in find_all(c.text, n)
    }
    assert {(s.start, s.end) for s in spans} == expected
    every = {(at, at + len(n)) for n in (*NAMES, PHONE) for at in find_all(note, n)}
    assert len(expected) >= len(every) - len(chunks)  # at most one entity lost per border


@pytest.mark.parametrize("layout", ["lines", "prose", "spaces"])
def test_chunk_borders_land_next_to_names(layout: str) -> None:
    """The big-note test is only meaningful if borders actually sit beside PHI."""
    note = big_note(layout)
    borders = [c.end for c in chunk_text(note, 20_000)[:-1]]
    starts = [at for n in NAMES for at in find_all(note, n)]
    for border in borders:
        assert min(abs(border - s) for s in starts) < 40


def test_end_to_end_through_botocore_serialisation(aws_env: None) -> None:
    """No Stubber: the real request is signed and serialised, the JSON answer parsed."""
    note = big_note()
    det = ComprehendDetector(region="us-east-1")
    bodies: list[str] = []

    def send(request: Any, **_: Any) -> AWSResponse:
        assert request.headers["X-Amz-Target"] == b"ComprehendMedical_20181030.DetectPHI"
        assert b"Credential=testing/" in request.headers["Authorization"]
        assert len(request.body) < 20_000 * 6  # JSON escaping may expand, the text may not
        text = json.loads(request.body)["Text"]
        bodies.append(text)
        return _json_response(200, fake_response(text))

    det._client.meta.events.register("before-send.comprehendmedical.DetectPHI", send)
    spans = det.detect(note)
    assert all(utf8_len(b) <= 20_000 for b in bodies)
    assert "".join(bodies) == note
    assert spans and all(note[s.start : s.end] in (*NAMES, PHONE) for s in spans)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


def _json_response(status: int, payload: dict[str, Any]) -> AWSResponse:
    body = json.dumps(payload).encode()
    headers: Any = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "req-1"}
    return AWSResponse(
        "https://comprehendmedical.us-east-1.amazonaws.com/", status, headers, _Raw(body)
    )


# -- mapping details --------------------------------------------------------------------------


def test_scores_types_and_low_scores_kept(client: Any, stubber: Stubber) -> None:
    text = "Zoë Brontë, 94 y/o, MRN 1234"
    stubber.add_response(
        "detect_phi",
        {
            "Entities": [
                entity(0, 0, 10, "Zoë Brontë", "NAME", 0.9981),
                entity(1, 12, 14, "94", "AGE", 0.12),
                entity(2, 24, 28, "1234", "SOMETHING_NEW", 0.5),
            ],
            "ModelVersion": "2.0.0",
        },
        {"Text": text},
    )
    spans = ComprehendDetector(client=client).detect(text)
    assert spans == [
        Span(0, 10, "NAME", 0.9981, "comprehend"),
        Span(12, 14, "AGE", 0.12, "comprehend"),
        Span(24, 28, "OTHER", 0.5, "comprehend"),
    ]


def test_blank_text_sends_nothing(client: Any, stubber: Stubber) -> None:
    det = ComprehendDetector(client=client)
    assert det.detect("") == []
    assert det.detect(" \n\t ") == []


@pytest.mark.parametrize("unit", [utf16_offset, utf8_offset], ids=["utf16", "utf8"])
def test_offsets_in_other_units_are_recognised(
    client: Any, stubber: Stubber, unit: Callable[[str, int], int]
) -> None:
    text = "👩\u200d⚕️🇨🇦 Ñ 🙂 seen: José Ñúñez 🩺 and Zoë Brontë."
    stubber.add_response("detect_phi", fake_response(text, unit), {"Text": text})
    spans = ComprehendDetector(client=client).detect(text)
    assert [text[s.start : s.end] for s in spans] == ["José Ñúñez", "Zoë Brontë"]


def test_slightly_shifted_offsets_repaired_when_unambiguous(client: Any, stubber: Stubber) -> None:
    text = "Seen today by José Ñúñez at noon."
    stubber.add_response(
        "detect_phi",
        {"Entities": [entity(0, 16, 26, "José Ñúñez")], "ModelVersion": "2.0.0"},
        {"Text": text},
    )
    (span,) = ComprehendDetector(client=client).detect(text)
    assert text[span.start : span.end] == "José Ñúñez"


@pytest.mark.parametrize(
    ("text", "ent"),
    [
        ("Seen by José Ñúñez.", entity(0, 8, 18, "Somebody Else")),  # text is not there at all
        ("Zoë Zoë Zoë Zoë", entity(0, 1, 4, "Zoë")),  # several candidates: ambiguous
        ("short", entity(0, 3, 99, "ort!")),  # out of range, text not found either
    ],
)
def test_unmappable_entity_is_an_error_without_phi(
    client: Any, stubber: Stubber, text: str, ent: dict[str, Any]
) -> None:
    stubber.add_response("detect_phi", {"Entities": [ent], "ModelVersion": "2.0.0"}, {"Text": text})
    with pytest.raises(DetectionError) as info:
        ComprehendDetector(client=client).detect(text)
    msg = str(info.value)
    assert "\n" not in msg
    for word in ("José", "Ñúñez", "Zoë", "Somebody", "short"):
        assert word not in msg


def test_truncated_response_is_re_asked_in_halves(client: Any, stubber: Stubber) -> None:
    text = ("Pt José Ñúñez stable. " * 20).strip()
    first = fake_response(text)
    first["Entities"] = first["Entities"][:3]
    first["PaginationToken"] = "more"
    stubber.add_response("detect_phi", first, {"Text": text})
    halves = chunk_text(text, (utf8_len(text) + 1) // 2)
    assert len(halves) == 2
    for h in halves:
        stubber.add_response("detect_phi", fake_response(h.text), {"Text": h.text})
    spans = ComprehendDetector(client=client).detect(text)
    assert len(spans) == 20
    assert all(text[s.start : s.end] == "José Ñúñez" for s in spans)


# -- retries ----------------------------------------------------------------------------------

RETRYABLE = [
    ("TooManyRequestsException", 400),
    ("ThrottlingException", 400),
    ("ServiceUnavailableException", 503),
    ("InternalServerException", 500),
]


@pytest.mark.parametrize(("code", "status"), RETRYABLE)
def test_transient_errors_retried_then_succeed(
    client: Any, stubber: Stubber, code: str, status: int
) -> None:
    text = "Call Zoë Brontë at 617-555-0199"
    for _ in range(3):
        stubber.add_client_error(
            "detect_phi", code, "Rate exceeded", status, expected_params={"Text": text}
        )
    stubber.add_response("detect_phi", fake_response(text), {"Text": text})
    sleeps = Sleeps()
    det = ComprehendDetector(client=client, sleep=sleeps, rand=lambda: 1.0)
    spans = det.detect(text)
    assert [text[s.start : s.end] for s in spans] == ["Zoë Brontë", PHONE]
    assert sleeps == pytest.approx([0.2, 0.4, 0.8])  # grows exponentially


def test_persistent_throttling_gives_up_after_max_attempts(client: Any, stubber: Stubber) -> None:
    text = "Call Zoë Brontë at 617-555-0199"
    for _ in range(8):
        stubber.add_client_error("detect_phi", "ThrottlingException", "slow down", 400)
    sleeps = Sleeps()
    det = ComprehendDetector(client=client, max_delay=1.0, sleep=sleeps, rand=lambda: 1.0)
    with pytest.raises(DetectionError) as info:
        det.detect(text)
    assert sleeps == pytest.approx([0.2, 0.4, 0.8, 1.0, 1.0, 1.0, 1.0])  # 7 waits, capped
    msg = str(info.value)
    assert "ThrottlingException" in msg and "after 8 attempts" in msg and "quota" in msg
    assert "Zoë" not in msg and "\n" not in msg
    assert info.value.exit_code == 4


def test_jitter_stays_under_the_cap() -> None:
    det = ComprehendDetector(
        client=object(), base_delay=0.5, max_delay=4.0, rand=random.Random(1).random
    )
    for attempt in range(1, 30):
        cap = min(4.0, 0.5 * 2 ** (attempt - 1))
        assert 0.0 <= det.backoff(attempt) <= cap
    delays = [det.backoff(9) for _ in range(200)]
    assert len(set(delays)) > 100  # full jitter: spread over [0, cap], not a fixed delay
    assert det.backoff(10_000) <= 4.0  # huge attempt counts do not overflow


def test_retried_read_timeout(aws_env: None) -> None:
    det = ComprehendDetector(region="us-east-1", sleep=Sleeps())
    calls: list[int] = []

    def send(request: Any, **_: Any) -> AWSResponse:
        calls.append(1)
        if len(calls) == 1:
            raise ReadTimeoutError(endpoint_url=request.url)
        return _json_response(200, {"Entities": [], "ModelVersion": "2.0.0"})

    det._client.meta.events.register("before-send.comprehendmedical.DetectPHI", send)
    assert det.detect("nothing here") == []
    assert len(calls) == 2  # botocore's own retries are off; ours did the second call


# -- errors that need a human ---------------------------------------------------------------

NOTE = "Patient José Ñúñez, MRN 55512, seen by Zoë"


def assert_clean(err: DetectionError) -> str:
    msg = str(err)
    assert "\n" not in msg
    assert " --" not in msg, "library messages name no CLI flag"
    for word in ("José", "Ñúñez", "55512", "Zoë", "Patient"):
        assert word not in msg
    assert err.__cause__ is None and (err.__context__ is None or err.__suppress_context__)
    return msg


@pytest.mark.parametrize(
    ("code", "status", "hint"),
    [
        ("AccessDeniedException", 400, "comprehendmedical:DetectPHI"),
        ("ExpiredTokenException", 400, "refresh"),
        ("UnrecognizedClientException", 400, "expired or invalid"),
        ("TextSizeLimitExceededException", 400, "max_bytes"),
        ("InvalidRequestException", 400, "InvalidRequestException"),
        ("InvalidEncodingException", 400, "encoding"),
    ],
)
def test_non_retryable_client_errors(
    client: Any, stubber: Stubber, code: str, status: int, hint: str
) -> None:
    # The service message deliberately echoes the note: it must not reach the error.
    stubber.add_client_error("detect_phi", code, f"bad input: {NOTE}", status)
    sleeps = Sleeps()
    with pytest.raises(DetectionError) as info:
        ComprehendDetector(client=client, sleep=sleeps).detect(NOTE)
    msg = assert_clean(info.value)
    assert code in msg and hint in msg
    assert sleeps == []


def test_no_credentials(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var)
    det = ComprehendDetector(region="us-east-1")
    with pytest.raises(DetectionError) as info:
        det.detect(NOTE)
    msg = assert_clean(info.value)
    assert "NoCredentialsError" in msg and info.value.hint is Hint.PROFILE


def test_partial_credentials(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(DetectionError) as info:
        ComprehendDetector(region="us-east-1").detect(NOTE)
    assert "PartialCredentialsError" in assert_clean(info.value)


def test_no_region(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(DetectionError) as info:
        ComprehendDetector()
    assert "no AWS region" in assert_clean(info.value) and info.value.hint is Hint.REGION


def test_unknown_profile(aws_env: None) -> None:
    with pytest.raises(DetectionError) as info:
        ComprehendDetector(profile="no-such-profile")
    assert "'no-such-profile' not found" in assert_clean(info.value)
    assert info.value.hint is Hint.PROFILE


def test_endpoint_unreachable(aws_env: None) -> None:
    det = ComprehendDetector(region="us-east-1", sleep=Sleeps())

    def send(request: Any, **_: Any) -> AWSResponse:
        raise EndpointConnectionError(endpoint_url=request.url)

    det._client.meta.events.register("before-send.comprehendmedical.DetectPHI", send)
    with pytest.raises(DetectionError) as info:
        det.detect(NOTE)
    msg = assert_clean(info.value)
    assert msg.startswith("cannot reach https://comprehendmedical.us-east-1.amazonaws.com ")
    assert "to detect PHI" in msg and info.value.hint is Hint.REGION


def test_missing_boto3_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(DetectionError) as info:
        ComprehendDetector(region="us-east-1")
    assert "phiguard[aws]" in str(info.value)


def test_foreign_exceptions_propagate(client: Any) -> None:
    class Boom(Exception):
        pass

    class Client:
        def detect_phi(self, **_: Any) -> Any:
            raise Boom

    with pytest.raises(Boom):
        ComprehendDetector(client=Client()).detect("text")


def test_bad_options() -> None:
    for kwargs in (
        {"max_bytes": 20_001},
        {"max_bytes": 3},
        {"max_attempts": 0},
        {"base_delay": -1},
    ):
        with pytest.raises(ValueError):
            ComprehendDetector(client=object(), **kwargs)  # type: ignore[arg-type]


# -- integration with the registry ------------------------------------------------------------


def test_get_detector_builds_it(client: Any) -> None:
    det = get_detector("comprehend", client=client)
    assert isinstance(det, ComprehendDetector)
    assert isinstance(det, Detector)
    assert det.name == "comprehend"

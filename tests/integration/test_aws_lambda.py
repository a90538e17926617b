"""The Lambda handlers on the reference sample note and event, in-process, against dynalite
(the vault), moto_server (KMS, STS, S3), with the local backend and with Comprehend Medical on
a Stubber answering DetectPHI's real response shape."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from phiguard import aws_lambda
from phiguard.aws_lambda import environment
from phiguard.aws_lambda.environment import Role
from phiguard.aws_lambda.runtime import DeadlineExceeded, InternalError
from phiguard.errors import ConfigError, DetectionError, InputError
from support.lambda_world import KNOWN_PHI, SAMPLE, Context, LambdaEnv, detectphi_response

TOKEN = re.compile(r"[0-9a-f]{64}")
ENTITY_KEYS = {"Id", "BeginOffset", "EndOffset", "Score", "Text", "Category", "Type", "Traits"}


@pytest.fixture(scope="module")
def message() -> str:
    return SAMPLE.read_text(encoding="utf-8")


def event(message: str, action: str = "deidentify", entities: Any = None) -> dict[str, Any]:
    """The reference design's event shape."""
    body: dict[str, Any] = {"message": message, "anonymizeOrDeidentify": action}
    if entities is not None:
        body["entities"] = entities
    return {"body": body}


@pytest.fixture()
def comprehend(lambda_env: LambdaEnv, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """The comprehend backend, its DetectPHI client answered by a Stubber."""
    monkeypatch.setenv("PHIGUARD_BACKEND", "comprehend")
    environment.reset()
    detector: Any = environment.pipeline(Role.DETECT).detector
    with Stubber(detector._client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def _covered(message: str, entities: list[dict[str, Any]], needle: str) -> bool:
    """Every letter and digit of `needle` (first occurrence) lies inside some entity."""
    at = message.index(needle)
    inside = {i for e in entities for i in range(e["BeginOffset"], e["EndOffset"])}
    return all(at + i in inside for i, c in enumerate(needle) if c.isalnum())


# -- local backend ------------------------------------------------------------------------


def test_identify_phi_returns_comprehend_shaped_entities(
    lambda_env: LambdaEnv, message: str
) -> None:
    entities = aws_lambda.identify_phi(event(message), Context())
    assert entities and all(set(e) == ENTITY_KEYS for e in entities)
    for i, e in enumerate(entities):
        assert e["Id"] == i and e["Category"] == "PROTECTED_HEALTH_INFORMATION"
        assert e["Text"] == message[e["BeginOffset"] : e["EndOffset"]]  # str offsets
        assert e["Traits"] == [] and 0.0 <= e["Score"] <= 1.0
    for needle in ("SALAZAR, CARLOS", "(770) 922-9800", "RQ36114734", "2/11/1961"):
        assert _covered(message, entities, needle), needle


def test_mask_entities_masks_what_identify_phi_found_by_offsets(
    lambda_env: LambdaEnv, message: str
) -> None:
    entities = aws_lambda.identify_phi(event(message), Context())
    masked = aws_lambda.mask_entities(event(message, "anonymize", entities), Context())
    assert isinstance(masked, str) and len(masked) == len(message)
    inside = {i for e in entities for i in range(e["BeginOffset"], e["EndOffset"])}
    assert all(masked[i] == "#" for i in inside)
    assert all(masked[i] == message[i] for i in range(len(message)) if i not in inside)
    # without entities it detects them itself, to the same result
    assert aws_lambda.mask_entities(event(message, "anonymize"), Context()) == masked


def test_deidentify_stores_the_mapping_then_reidentify_restores_the_note(
    lambda_env: LambdaEnv, message: str
) -> None:
    entities = aws_lambda.identify_phi(event(message), Context())
    out = aws_lambda.deidentify_entities(event(message, "deidentify", entities), Context())
    assert set(out) == {"deid_message", "hashed_message"}
    deid = out["deid_message"]
    assert out["hashed_message"] == hashlib.sha3_256(deid.encode("utf-8")).hexdigest()
    for needle in ("SALAZAR, CARLOS", "(770) 922-9800", "RQ36114734"):
        assert needle not in deid
    tokens = set(TOKEN.findall(deid))
    items = lambda_env.vault_items(out["hashed_message"])
    assert {i["EntityHash"]["S"] for i in items} == tokens  # stored before it was returned
    blob = b"".join(i["Entity"]["B"] for i in items)
    assert b"SALAZAR" not in blob and b"Carlos" not in blob  # sealed, not stored plain

    ctx = Context()
    restored = aws_lambda.reidentify_entities({"body": {"message": deid}}, ctx)
    assert restored == message
    audit = lambda_env.audit_items(f"lambda:{ctx.aws_request_id}")
    assert len(audit) == 1
    assert audit[0]["MessageHashes"]["L"] == [{"S": out["hashed_message"]}]
    # DeidentifyEntities' output can be handed on as it is
    assert aws_lambda.reidentify_entities({"body": out}, Context()) == message


def test_entities_that_do_not_match_the_message_are_refused(
    lambda_env: LambdaEnv, message: str
) -> None:
    at = message.index("SALAZAR")
    wrong = [{"BeginOffset": at + 1, "EndOffset": at + 8, "Text": "SALAZAR", "Type": "NAME"}]
    with pytest.raises(InputError, match=r"entity 0 at \d+\.\.\d+") as err:
        aws_lambda.mask_entities(event(message, "anonymize", wrong), Context())
    assert "SALAZAR" not in str(err.value)
    outside = [{"BeginOffset": 0, "EndOffset": len(message) + 5}]
    before = len(lambda_env.vault_items())
    with pytest.raises(InputError, match="outside the message"):
        aws_lambda.deidentify_entities(event(message, "deidentify", outside), Context())
    assert len(lambda_env.vault_items()) == before


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ({}, 'no "body"'),
        ({"body": "{not json"}, "not JSON"),
        ({"body": {"text": "x"}}, 'no "message"'),
        ({"body": {"message": 5}}, "must be a string"),
        ({"body": {"message": "x", "anonymizeOrDeidentify": "encrypt"}}, "anonymize, deidentify"),
        ({"body": {"message": "x", "entities": "SALAZAR"}}, "must be a list"),
    ],
)
def test_bad_events_are_input_errors(
    lambda_env: LambdaEnv, bad: dict[str, Any], match: str
) -> None:
    with pytest.raises(InputError, match=match):
        aws_lambda.mask_entities(bad, Context())


def test_api_gateway_string_bodies_are_read(lambda_env: LambdaEnv) -> None:
    note = "Seen by Dr. Saanvi Sarkar on 11/12/2011."
    masked = aws_lambda.mask_entities({"body": json.dumps({"message": note})}, Context())
    assert "Sarkar" not in masked and "11/12/2011" not in masked


def test_a_writer_without_a_key_is_refused(
    lambda_env: LambdaEnv, monkeypatch: pytest.MonkeyPatch, message: str
) -> None:
    monkeypatch.delenv("PHIGUARD_KMS_KEY_ID")
    environment.reset()
    with pytest.raises(ConfigError, match="PHIGUARD_KMS_KEY_ID"):
        aws_lambda.deidentify_entities(event(message), Context())


def test_the_deadline_stops_before_the_vault_write_and_nothing_is_stored(
    lambda_env: LambdaEnv, message: str
) -> None:
    entities = aws_lambda.identify_phi(event(message), Context())
    late = Context(1_000.0)  # entities given: the vault write is the first step checked
    before = len(lambda_env.vault_items())
    with pytest.raises(DeadlineExceeded, match="before the vault write; nothing was released"):
        aws_lambda.deidentify_entities(event(message, "deidentify", entities), late)
    assert len(lambda_env.vault_items()) == before


def test_unexpected_errors_are_withheld(
    lambda_env: LambdaEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_: Any) -> None:
        raise KeyError("SALAZAR, CARLOS")

    monkeypatch.setattr(environment, "pipeline", boom)
    monkeypatch.setattr(aws_lambda.notes, "pipeline", boom)
    with pytest.raises(InternalError) as err:
        aws_lambda.identify_phi(event("SALAZAR, CARLOS"), Context())
    assert "SALAZAR" not in str(err.value) and "KeyError" in str(err.value)
    assert err.value.__cause__ is None and err.value.__suppress_context__


# -- Comprehend Medical (Stubber) -------------------------------------------------------------


def test_identify_phi_with_comprehend_passes_its_entities_through(
    comprehend: Stubber, message: str
) -> None:
    response = detectphi_response(message)
    comprehend.add_response("detect_phi", response, {"Text": message})
    entities = aws_lambda.identify_phi(event(message), Context())
    got = {(e["BeginOffset"], e["EndOffset"], e["Type"]) for e in entities}
    sent = {(e["BeginOffset"], e["EndOffset"], e["Type"]) for e in response["Entities"]}
    # the resolver merges what overlaps ("SALAZAR, CARLOS" holds no second name here)
    assert got == sent
    assert all(e["Text"] == message[e["BeginOffset"] : e["EndOffset"]] for e in entities)


def test_comprehend_round_trip_through_the_vault(
    comprehend: Stubber, lambda_env: LambdaEnv, message: str
) -> None:
    comprehend.add_response("detect_phi", detectphi_response(message), {"Text": message})
    out = aws_lambda.deidentify_entities(event(message), Context())
    for needle, _ in KNOWN_PHI:
        assert needle not in out["deid_message"]
    assert aws_lambda.reidentify_entities({"body": out}, Context()) == message


def test_comprehend_throttled_past_retries_is_a_detection_error_for_the_retry(
    comprehend: Stubber, message: str
) -> None:
    detector: Any = environment.pipeline(Role.DETECT).detector
    detector._sleep = lambda s: None
    for _ in range(detector.max_attempts):
        comprehend.add_client_error("detect_phi", "ThrottlingException", http_status_code=400)
    with pytest.raises(DetectionError, match="ThrottlingException"):
        aws_lambda.identify_phi(event(message), Context())


def test_the_deadline_is_checked_before_every_detectphi_request(
    comprehend: Stubber, message: str
) -> None:
    # no response queued: a request sent anyway would fail with UnStubbedResponseError
    with pytest.raises(DeadlineExceeded):
        aws_lambda.identify_phi(event(message), Context([60_000.0, 500.0]))


def test_no_phi_in_logs_or_errors(
    comprehend: Stubber, lambda_env: LambdaEnv, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="phiguard")  # other tests may have raised it
    comprehend.add_response("detect_phi", detectphi_response(message), {"Text": message})
    out = aws_lambda.deidentify_entities(event(message), Context())
    aws_lambda.reidentify_entities({"body": out}, Context())
    tampered = out["deid_message"].replace(TOKEN.findall(out["deid_message"])[0], "0" * 64)
    with pytest.raises(Exception) as err:
        aws_lambda.reidentify_entities({"body": {"message": tampered}}, Context())
    logged = "\n".join(r.getMessage() for r in caplog.records) + str(err.value)
    assert "deidentify_entities" in logged  # the handlers did log
    for needle, _ in KNOWN_PHI:
        assert needle not in logged

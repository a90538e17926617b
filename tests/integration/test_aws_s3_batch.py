"""The S3 batch path: a JSON Lines object in moto's S3, de-identified line for line into the
output bucket, mappings in dynalite; failures listed, never released; fail closed."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest

from phiguard import aws_lambda
from phiguard.aws_lambda import environment
from phiguard.aws_lambda.runtime import DeadlineExceeded
from phiguard.aws_lambda.s3_batch import FAILURES_SUFFIX, object_name
from phiguard.errors import InputError, VaultError
from support.lambda_world import Context, LambdaEnv

NOTES = [
    "Carlos Salazar was seen on 11/12/2011; call (770) 922-9800.",
    "Saanvi Sarkar, MRN RQ36114734, admitted 11/23/2011.",
]


def _lines() -> bytes:
    rows = [
        # odd spacing and key order, numbers that JSON libraries rewrite: kept byte for byte
        f'{{"id": 7, "score": 1.50, "text": {json.dumps(NOTES[0])}}}\n',
        f'{{"text":{json.dumps(NOTES[1])} ,"id":"b-2","big":12345678901234567890}}\n',
        '{"id": "no-note", "other": "x"}\n',
    ]
    return "".join(rows).encode("utf-8")


def s3_event(bucket: str, key: str) -> dict[str, Any]:
    """An S3 ObjectCreated notification (keys come URL-encoded)."""
    return {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": bucket}, "object": {"key": key.replace(" ", "+")}},
            }
        ]
    }


@pytest.fixture()
def buckets(lambda_env: LambdaEnv, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    inbox, outbox = f"in-{uuid.uuid4().hex[:8]}", f"out-{uuid.uuid4().hex[:8]}"
    for b in (inbox, outbox):
        lambda_env.s3.create_bucket(Bucket=b)
    monkeypatch.setenv("PHIGUARD_OUTPUT_BUCKET", outbox)
    return inbox, outbox


def _get(lambda_env: LambdaEnv, bucket: str, key: str) -> bytes:
    body: bytes = lambda_env.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return body


def _keys(lambda_env: LambdaEnv, bucket: str) -> list[str]:
    return [o["Key"] for o in lambda_env.s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_jsonl_object_in_deidentified_object_out(
    lambda_env: LambdaEnv, buckets: tuple[str, str]
) -> None:
    inbox, outbox = buckets
    key = "incoming/ward 7/Salazar Carlos.jsonl"  # names in keys: reports must not repeat them
    lambda_env.s3.put_object(Bucket=inbox, Key=key, Body=_lines())
    result = aws_lambda.s3_batch(s3_event(inbox, key), Context())
    name = object_name(inbox, key)
    assert result == {"objects": [{"object": name, "records": 3, "released": 2, "failed": 1}]}
    assert "Salazar" not in json.dumps(result)

    out = _get(lambda_env, outbox, "deidentified/ward 7/Salazar Carlos.jsonl").decode("utf-8")
    first, second = out.splitlines(keepends=True)
    src_first, src_second, _ = _lines().decode("utf-8").splitlines(keepends=True)
    deid = [json.loads(first)["text"], json.loads(second)["text"]]
    # every byte but the note's is the input's
    assert first.replace(json.dumps(deid[0]), json.dumps(NOTES[0])) == src_first
    assert second.replace(json.dumps(deid[1]), json.dumps(NOTES[1])) == src_second
    for phi in ("Carlos", "Salazar", "(770) 922-9800", "RQ36114734", "Sarkar"):
        assert phi not in out
    failures = _get(
        lambda_env, outbox, "deidentified/ward 7/Salazar Carlos.jsonl" + FAILURES_SUFFIX
    )
    assert [json.loads(x)["line"] for x in failures.decode().splitlines()] == [3]
    # each released line re-identifies to its note
    for text, note in zip(deid, NOTES, strict=True):
        assert aws_lambda.reidentify_entities({"body": {"message": text}}, Context()) == note


def test_a_malformed_object_releases_nothing(
    lambda_env: LambdaEnv, buckets: tuple[str, str]
) -> None:
    inbox, outbox = buckets
    lambda_env.s3.put_object(Bucket=inbox, Key="incoming/bad.jsonl", Body=_lines() + b"{oops\n")
    before = len(lambda_env.vault_items())
    with pytest.raises(InputError, match=r"s3-object-[0-9a-f]{16}:4: malformed JSON"):
        aws_lambda.s3_batch(s3_event(inbox, "incoming/bad.jsonl"), Context())
    assert _keys(lambda_env, outbox) == [] and len(lambda_env.vault_items()) == before


def test_a_vault_failure_writes_no_output(
    lambda_env: LambdaEnv, buckets: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, outbox = buckets
    lambda_env.s3.put_object(Bucket=inbox, Key="incoming/x.jsonl", Body=_lines())
    monkeypatch.setenv("PHIGUARD_TABLE", "no-such-vault-table")
    environment.reset()
    with pytest.raises(VaultError):
        aws_lambda.s3_batch(s3_event(inbox, "incoming/x.jsonl"), Context())
    assert _keys(lambda_env, outbox) == []


def test_the_deadline_stops_the_object_and_removes_its_rows(
    lambda_env: LambdaEnv, buckets: tuple[str, str]
) -> None:
    inbox, outbox = buckets
    lambda_env.s3.put_object(Bucket=inbox, Key="incoming/y.jsonl", Body=_lines())
    aws_lambda.mask_entities({"body": {"message": NOTES[0]}}, Context())  # model loaded first
    before = len(lambda_env.vault_items())
    # plenty for the first records, then too little before the output is written
    late = Context([60_000.0] * 3 + [100.0])  # 3 records checked, then the output write
    with pytest.raises(DeadlineExceeded, match="before writing the output"):
        aws_lambda.s3_batch(s3_event(inbox, "incoming/y.jsonl"), late)
    assert _keys(lambda_env, outbox) == []
    assert len(lambda_env.vault_items()) == before  # the journal took the rows back


def test_an_unreadable_object_is_one_clear_error(
    lambda_env: LambdaEnv, buckets: tuple[str, str]
) -> None:
    inbox, _ = buckets
    with pytest.raises(
        InputError, match=r"cannot read the input object \(s3:GetObject: NoSuchKey\)"
    ) as err:
        aws_lambda.s3_batch(s3_event(inbox, "incoming/Salazar.jsonl"), Context())
    assert "Salazar" not in str(err.value)


def test_consistent_tokens_in_a_batch(
    lambda_env: LambdaEnv, buckets: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """PHIGUARD_CONSISTENT: the same name gets the same token in every record (no run journal:
    such rows are shared by notes, so a run never deletes them)."""
    inbox, outbox = buckets
    monkeypatch.setenv("PHIGUARD_CONSISTENT", "true")
    environment.reset()
    rows = [
        json.dumps({"text": t}) + "\n" for t in ("Carlos Salazar came in.", "Call Carlos Salazar.")
    ]
    lambda_env.s3.put_object(Bucket=inbox, Key="incoming/c.jsonl", Body="".join(rows).encode())
    aws_lambda.s3_batch(s3_event(inbox, "incoming/c.jsonl"), Context())
    out = _get(lambda_env, outbox, "deidentified/c.jsonl").decode()
    first, second = (json.loads(line)["text"] for line in out.splitlines())
    tokens = [set(re.findall(r"[0-9a-f]{64}", t)) for t in (first, second)]
    assert tokens[0] and tokens[0] <= tokens[1]  # "Carlos Salazar": one token in both
    environment.reset()
    monkeypatch.delenv("PHIGUARD_CONSISTENT")
    assert aws_lambda.reidentify_entities({"body": {"message": second}}, Context()) == (
        "Call Carlos Salazar."
    )

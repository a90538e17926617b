"""--comprehend-mode async: Comprehend Medical batch jobs over moto's S3, the job API on a
Stubber. The stub plays the service's part in S3 too: when a job starts, it reads the job's
input documents from S3 and writes one `<name>.out` answer per document (DetectPHI's entity
JSON) under the job's output folder, as Comprehend Medical does."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from phiguard.detectors import get_detector
from phiguard.detectors.comprehend.jobs import AsyncComprehendDetector
from phiguard.errors import ConfigError, DetectionError
from support.dynamodb_server import fake_aws_env
from support.lambda_world import SAMPLE, detectphi_response

ROLE = "arn:aws:iam::123456789012:role/comprehend-medical-s3"
JOB = "f3c1e5a2b7d94c0e8a6b2d4f1e3c5a7b"


class FakeService:
    """Comprehend Medical's side of a job: the Stubber answers the API, this writes S3."""

    def __init__(self, s3: Any, stub: Stubber) -> None:
        self.s3, self.stub = s3, stub
        self.skip: set[str] = set()  # documents the job "fails" on

    def on_start(self, params: dict[str, Any], **_: Any) -> None:
        src, dst = params["InputDataConfig"], params["OutputDataConfig"]
        listed = self.s3.list_objects_v2(Bucket=src["S3Bucket"], Prefix=src["S3Key"])
        for obj in listed.get("Contents", []):
            name = obj["Key"].rsplit("/", 1)[-1]
            if name in self.skip:
                continue
            text = self.s3.get_object(Bucket=src["S3Bucket"], Key=obj["Key"])["Body"].read()
            answer = detectphi_response(text.decode("utf-8"))
            key = f"{dst['S3Key']}123456789012-PHI-{JOB}/output/{name}.out"
            self.s3.put_object(Bucket=dst["S3Bucket"], Key=key, Body=json.dumps(answer).encode())

    def job(self, *statuses: str) -> None:
        """One job: started, then described with each status in turn."""
        expected = {
            "InputDataConfig": {"S3Bucket": "notes-in", "S3Key": ANY},
            "OutputDataConfig": {"S3Bucket": "notes-out", "S3Key": ANY},
            "DataAccessRoleArn": ROLE,
            "JobName": ANY,
            "ClientRequestToken": ANY,
            "LanguageCode": "en",
        }
        self.stub.add_response("start_phi_detection_job", {"JobId": JOB}, expected)
        for status in statuses:
            props = {"JobId": JOB, "JobStatus": status}
            self.stub.add_response(
                "describe_phi_detection_job",
                {"ComprehendMedicalAsyncJobProperties": props},
                {"JobId": JOB},
            )


@pytest.fixture()
def s3(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with fake_aws_env():
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_endpoint)
        client = boto3.client("s3", region_name="us-east-1")
        for bucket in ("notes-in", "notes-out"):
            client.create_bucket(Bucket=bucket)
        yield client
        for bucket in ("notes-in", "notes-out"):
            for obj in client.list_objects_v2(Bucket=bucket).get("Contents", []):
                client.delete_object(Bucket=bucket, Key=obj["Key"])
            client.delete_bucket(Bucket=bucket)


def _detector(s3: Any, **options: Any) -> tuple[AsyncComprehendDetector, FakeService, Stubber]:
    comprehend = boto3.client("comprehendmedical", region_name="us-east-1")
    stub = Stubber(comprehend)
    service = FakeService(s3, stub)
    comprehend.meta.events.register(
        "provide-client-params.comprehendmedical.StartPHIDetectionJob", service.on_start
    )
    det = AsyncComprehendDetector(
        "s3://notes-in/jobs/",
        "s3://notes-out/jobs",
        ROLE,
        comprehend=comprehend,
        s3=s3,
        sleep=lambda s: None,
        **options,
    )
    return det, service, stub


def _expected(text: str) -> set[tuple[int, int, str]]:
    return {
        (e["BeginOffset"], e["EndOffset"], e["Type"]) for e in detectphi_response(text)["Entities"]
    }


def _left(s3: Any) -> list[str]:
    return [
        o["Key"]
        for b in ("notes-in", "notes-out")
        for o in s3.list_objects_v2(Bucket=b).get("Contents", [])
    ]


NOTES = [
    "SALAZAR, CARLOS seen 11/12/2011, phone (770) 922-9800.",
    "",
    "No identifiers in this one.",
    "Dr. Saanvi Sarkar reviewed RQ36114734 on 11/23/2011.",
]


def test_one_job_answers_every_note_with_its_own_offsets(s3: Any) -> None:
    det, service, stub = _detector(s3)
    notes = [SAMPLE.read_text(encoding="utf-8"), *NOTES]
    service.job("SUBMITTED", "IN_PROGRESS", "COMPLETED")
    with stub:
        found = det.detect_many(notes)
        stub.assert_no_pending_responses()
    for note, spans in zip(notes, found, strict=True):
        assert {(s.start, s.end, s.type) for s in spans} == _expected(note)
        assert all(s.source == "comprehend" for s in spans)
    assert _left(s3) == []  # inputs and outputs are PHI: all removed


def test_a_failed_job_releases_nothing_and_cleans_up(s3: Any) -> None:
    det, service, stub = _detector(s3)
    service.job("IN_PROGRESS", "FAILED")
    with (
        stub,
        pytest.raises(DetectionError, match=f"job {JOB} FAILED; nothing was released") as err,
    ):
        det.detect_many(NOTES)
    assert "Carlos" not in str(err.value)
    assert _left(s3) == []


def test_partial_success_keeps_the_answered_notes_and_fails_the_rest(s3: Any) -> None:
    det, service, stub = _detector(s3, max_bytes=60)  # one document per note
    service.skip = {"000001.txt"}  # the job fails on the third note's document
    service.job("COMPLETED")
    with stub:
        with pytest.raises(DetectionError, match="3 of 4 documents"):
            det.detect_many([*NOTES, "Carlos Salazar."])
        # the run layer then asks note by note: answered notes cost no new job
        assert {(s.start, s.end) for s in det.detect(NOTES[0])} == {
            (a, b) for a, b, _ in _expected(NOTES[0])
        }
        stub.assert_no_pending_responses()
    assert _left(s3) == []


def test_an_error_no_retry_fixes_is_not_repeated_for_every_note(s3: Any) -> None:
    det, _, stub = _detector(s3)
    stub.add_client_error("start_phi_detection_job", "AccessDeniedException", http_status_code=400)
    with stub:
        with pytest.raises(DetectionError, match="AccessDeniedException"):
            det.detect_many(NOTES)
        with pytest.raises(DetectionError, match="AccessDeniedException"):
            det.detect(NOTES[0])  # no second call: the stub has no answer left
    assert _left(s3) == []


def test_locations_are_checked() -> None:
    with pytest.raises(ConfigError, match="s3://bucket/prefix/"):
        AsyncComprehendDetector("notes-in/x", "s3://b/o/", ROLE, comprehend=object(), s3=object())
    with pytest.raises(ConfigError, match="same or nested"):
        AsyncComprehendDetector(
            "s3://b/jobs/", "s3://b/jobs/out/", ROLE, comprehend=object(), s3=object()
        )


def test_the_cli_masks_a_corpus_through_a_job(
    run: Any, s3: Any, tmp_path: Path, aws_env: None
) -> None:
    corpus = tmp_path / "notes.jsonl"
    corpus.write_text("".join(json.dumps({"id": i, "text": n}) + "\n" for i, n in enumerate(NOTES)))
    args = {
        "s3_input": "s3://notes-in/jobs/",
        "s3_output": "s3://notes-out/jobs/",
        "role_arn": ROLE,
    }
    det: Any = get_detector("comprehend-async", **args)  # the one the CLI will build
    det._sleep = lambda s: None
    service = FakeService(s3, Stubber(det._comprehend))
    det._comprehend.meta.events.register(
        "provide-client-params.comprehendmedical.StartPHIDetectionJob", service.on_start
    )
    service.job("IN_PROGRESS", "COMPLETED")
    with service.stub:
        r = run(
            "mask", "--backend", "comprehend", "--comprehend-mode", "async",
            "--s3-input", args["s3_input"], "--s3-output", args["s3_output"],
            "--data-access-role-arn", ROLE, "--jsonl", str(corpus),
        )  # fmt: skip
        service.stub.assert_no_pending_responses()
    assert r.code == 0, r.err
    masked = [json.loads(line)["text"] for line in r.text.splitlines()]
    assert masked[0] == "#" * 15 + " seen ##########, phone ##############."
    assert masked[2] == NOTES[2] and "Sarkar" not in masked[3]
    assert _left(s3) == []


def test_async_options_are_checked_by_the_cli(run: Any, tmp_path: Path) -> None:
    note = tmp_path / "n.txt"
    note.write_text("x")
    r = run("mask", "--backend", "local", "--comprehend-mode", "async", str(note))
    assert r.code == 2 and "needs --backend comprehend" in r.err
    r = run(
        "mask",
        "--backend",
        "comprehend",
        "--comprehend-mode",
        "async",
        f"--s3-input=s3://a/{uuid.uuid4().hex}/",
        str(note),
    )
    assert r.code == 2 and "needs --s3-output, --data-access-role-arn" in r.err

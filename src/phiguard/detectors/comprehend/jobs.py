"""Comprehend Medical's asynchronous batch API for large corpora: StartPHIDetectionJob over S3.

For a corpus too big to send at DetectPHI's per-second quotas, one job analyses many documents
at once. `detect_many(texts)`:

1. packs the notes into documents of at most 20,000 bytes (`packing.pack`, the separator and
   clipping rules of the synchronous path) and uploads each as one object under the input
   prefix, in a folder of its own per call (`<s3-input>/<run id>/000000.txt`, ...);
2. starts one job on that folder and polls DescribePHIDetectionJob until it ends (capped
   exponential intervals; a time limit);
3. reads each document's `<name>.out` (DetectPHI's entity JSON) under the job's output
   prefix, checks every entity against the document text (`detector._to_span`), and maps its
   offsets back to each note (`packing.unpack`);
4. deletes what it wrote and what the job wrote, inputs and outputs being PHI, whatever
   happened (unless `keep_objects`).

A job that fails or stops fails the call (`DetectionError` naming the job id and status, never
the service's message). With PARTIAL_SUCCESS the notes whose documents came back are kept, and
the call fails: the run layer then asks for the other notes one by one, and only those start
jobs of their own. An error no retry can fix (access denied, no such bucket, a bad role) is
remembered, so the notes after it fail at once instead of starting job after job.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from phiguard import aws
from phiguard.detectors.base import Capabilities
from phiguard.detectors.comprehend.detector import _to_span, _Widths
from phiguard.detectors.comprehend.packing import Batch, pack, unpack
from phiguard.errors import ConfigError, DetectionError
from phiguard.spans import Span

__all__ = ["AsyncComprehendDetector", "S3Location"]

log = logging.getLogger(__name__)

DONE = frozenset({"COMPLETED", "PARTIAL_SUCCESS", "FAILED", "STOPPED"})
_RETRYABLE = frozenset(
    {
        "TooManyRequestsException",
        "ThrottlingException",
        "InternalServerException",
        "ServiceUnavailableException",
        "SlowDown",
    }
)
_FATAL = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "NoSuchBucket",
        "ValidationException",
        "InvalidRequestException",
        "UnrecognizedClientException",
        "ExpiredTokenException",
    }
)


@dataclass(frozen=True, slots=True)
class S3Location:
    """`s3://bucket/prefix/` split; the prefix always ends with '/' (or is empty)."""

    bucket: str
    prefix: str

    @classmethod
    def parse(cls, uri: str, what: str) -> S3Location:
        if not uri.startswith("s3://") or not uri[5:].split("/", 1)[0]:
            raise ConfigError(f"{what} must be an s3://bucket/prefix/ URI, got {uri!r}")
        bucket, _, prefix = uri[5:].partition("/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return cls(bucket, prefix)

    def child(self, name: str) -> S3Location:
        return S3Location(self.bucket, f"{self.prefix}{name}/")


class AsyncComprehendDetector:
    """PHI spans from Comprehend Medical batch jobs (module docstring). `comprehend`, `s3`,
    `sleep` and `clock` are there for tests."""

    name = "comprehend-async"

    def __init__(
        self,
        s3_input: str,
        s3_output: str,
        role_arn: str,
        region: str | None = None,
        profile: str | None = None,
        kms_key: str | None = None,
        max_bytes: int = 20_000,
        poll_seconds: float = 30.0,
        max_wait_seconds: float = 6 * 3600.0,
        keep_objects: bool = False,
        *,
        comprehend: Any = None,
        s3: Any = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not role_arn:
            raise ConfigError(
                "batch jobs need the data access role Comprehend Medical assumes (role_arn)"
            )
        self.input = S3Location.parse(s3_input, "the input location")
        self.output = S3Location.parse(s3_output, "the output location")
        a, b = self.input, self.output
        if a.bucket == b.bucket and (
            a.prefix.startswith(b.prefix) or b.prefix.startswith(a.prefix)
        ):
            raise ConfigError("the input and output locations must not be the same or nested")
        self.role_arn, self.kms_key, self.max_bytes = role_arn, kms_key, max_bytes
        self.poll_seconds, self.max_wait_seconds = poll_seconds, max_wait_seconds
        self.keep_objects = keep_objects
        self.capabilities = Capabilities(batching=True, max_request_bytes=max_bytes, io_bound=True)
        self._comprehend = (
            comprehend if comprehend is not None else _client("comprehendmedical", region, profile)
        )
        self._s3 = s3 if s3 is not None else _client("s3", region, profile)
        self._sleep, self._clock = sleep, clock
        self._answered: dict[str, list[Span]] = {}  # notes a failed call did get answers for
        self._fatal: DetectionError | None = None

    # -- the Detector protocol ------------------------------------------------------------

    def detect(self, text: str) -> list[Span]:
        if text in self._answered:
            return self._answered.pop(text)
        return self.detect_many([text])[0]

    def detect_many(self, texts: Sequence[str]) -> list[list[Span]]:
        if self._fatal is not None:
            raise self._fatal
        batches = pack(texts, self.max_bytes)
        out: list[list[Span]] = [[] for _ in texts]
        if not batches:
            return out
        run = uuid.uuid4().hex
        inputs, outputs = self.input.child(run), self.output.child(run)
        written: list[tuple[str, str]] = []
        try:
            for i, b in enumerate(batches):
                key = f"{inputs.prefix}{i:06d}.txt"
                self._put(inputs.bucket, key, b.text)
                written.append((inputs.bucket, key))
            job = self._run_job(run, inputs, outputs)
            found = self._results(outputs, batches, written)
            missing = [i for i in range(len(batches)) if i not in found]
            for i, b in enumerate(batches):
                if i in found:
                    for note, span in unpack(b, found[i]):
                        out[note].append(span)
            if missing:
                done = {n for i in found for n in _notes(batches[i])} - {
                    n for i in missing for n in _notes(batches[i])
                }
                self._answered.update({texts[n]: sorted(out[n]) for n in done})
                raise DetectionError(
                    f"Comprehend Medical job {job} analysed {len(found)} of {len(batches)} "
                    "documents (PARTIAL_SUCCESS); the notes of the others were not released"
                )
        finally:
            if not self.keep_objects:
                self._delete(written, outputs)
        for spans in out:
            spans.sort()
        return out

    # -- the job ------------------------------------------------------------------------

    def _run_job(self, run: str, inputs: S3Location, outputs: S3Location) -> str:
        params: dict[str, Any] = {
            "InputDataConfig": {"S3Bucket": inputs.bucket, "S3Key": inputs.prefix},
            "OutputDataConfig": {"S3Bucket": outputs.bucket, "S3Key": outputs.prefix},
            "DataAccessRoleArn": self.role_arn,
            "JobName": f"phiguard-{run}",
            "ClientRequestToken": run,
            "LanguageCode": "en",
        }
        if self.kms_key:
            params["KMSKey"] = self.kms_key
        job = str(
            self._call(
                "start the PHI detection job", self._comprehend.start_phi_detection_job, **params
            )["JobId"]
        )
        log.info("comprehend-async: job %s started for %s", job, inputs.prefix)
        started = self._clock()
        delay = min(5.0, self.poll_seconds)
        while True:
            props = self._call(
                "describe the job", self._comprehend.describe_phi_detection_job, JobId=job
            )["ComprehendMedicalAsyncJobProperties"]
            status = str(props.get("JobStatus"))
            if status in DONE:
                break
            if self._clock() - started > self.max_wait_seconds:
                raise DetectionError(
                    f"Comprehend Medical job {job} still {status} after "
                    f"{self.max_wait_seconds:.0f} s; nothing was released (it may still finish: "
                    "its output is under the output location)"
                )
            self._sleep(delay)
            delay = min(self.poll_seconds, delay * 2)
        if status in ("FAILED", "STOPPED"):
            raise DetectionError(
                f"Comprehend Medical job {job} {status}; nothing was released (see the job in the "
                "console: the data access role must read the input and write the output location)"
            )
        log.info("comprehend-async: job %s %s", job, status)
        return job

    def _results(
        self, outputs: S3Location, batches: list[Batch], written: list[tuple[str, str]]
    ) -> dict[int, list[Span]]:
        """Spans per document index, for the documents the job wrote an answer for (every
        object it wrote is added to `written`, to be deleted)."""
        answers: dict[str, str] = {}
        pages = self._call(
            "list the job's output", self._list, Prefix=outputs.prefix, Bucket=outputs.bucket
        )
        for page in pages:
            for obj in page.get("Contents", []):
                written.append((outputs.bucket, obj["Key"]))
                name = obj["Key"].rsplit("/", 1)[-1]
                if name.endswith(".txt.out"):
                    answers[name.removesuffix(".out")] = obj["Key"]
        found: dict[int, list[Span]] = {}
        for i, batch in enumerate(batches):
            key = answers.get(f"{i:06d}.txt")
            if key is None:
                continue
            try:
                response = json.loads(self._get(outputs.bucket, key))
            except (ValueError, UnicodeDecodeError):
                raise DetectionError(
                    f"Comprehend Medical batch: document {i}'s answer is not JSON"
                ) from None
            widths = _Widths(batch.text)
            found[i] = [
                s for e in response.get("Entities", []) if (s := _to_span(widths, e)) is not None
            ]
        return found

    # -- S3 and errors ---------------------------------------------------------------------

    def _put(self, bucket: str, key: str, text: str) -> None:
        extra = (
            {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key} if self.kms_key else {}
        )
        self._call(
            "write a document to the input location",
            self._s3.put_object,
            Bucket=bucket,
            Key=key,
            Body=text.encode("utf-8"),
            **extra,
        )

    def _list(self, **params: Any) -> list[dict[str, Any]]:
        return list(self._s3.get_paginator("list_objects_v2").paginate(**params))

    def _get(self, bucket: str, key: str) -> str:
        body = self._call("read the job's output", self._s3.get_object, Bucket=bucket, Key=key)[
            "Body"
        ]
        return str(body.read().decode("utf-8"))

    def _delete(self, objects: list[tuple[str, str]], outputs: S3Location) -> None:
        """Remove `objects` and whatever the job wrote (a failed job may have written some).
        Best effort: a failure is logged (a count, never a key), never raised over the result."""
        keys = set(objects)
        try:
            for page in self._list(Bucket=outputs.bucket, Prefix=outputs.prefix):
                keys.update((outputs.bucket, o["Key"]) for o in page.get("Contents", []))
        except Exception as exc:  # cleanup must not hide the real outcome
            log.warning(
                "comprehend-async: could not list the job's output (%s)", type(exc).__name__
            )
        by_bucket: dict[str, list[str]] = {}
        for bucket, key in sorted(keys):
            by_bucket.setdefault(bucket, []).append(key)
        for bucket, names in by_bucket.items():
            for start in range(0, len(names), 1000):
                chunk = [{"Key": k} for k in names[start : start + 1000]]
                try:
                    self._s3.delete_objects(Bucket=bucket, Delete={"Objects": chunk, "Quiet": True})
                except Exception as exc:  # cleanup must not hide the real outcome
                    log.warning(
                        "comprehend-async: could not delete %d object(s) (%s): delete them by hand",
                        len(chunk),
                        type(exc).__name__,
                    )

    def _call(self, what: str, fn: Callable[..., Any], **params: Any) -> Any:
        """One AWS call, throttling retried with backoff; failures as one PHI-free line."""
        for attempt in range(1, 9):
            try:
                return fn(**params)
            except Exception as exc:
                if not aws.is_aws_error(exc):
                    raise
                code = aws.error_code(exc)
                if code in _RETRYABLE and attempt < 8:
                    self._sleep(min(30.0, 0.5 * 2**attempt))
                    continue
                error = DetectionError(
                    f"Comprehend Medical batch: cannot {what} ({code or type(exc).__name__})"
                )
                if code in _FATAL:
                    self._fatal = error
                raise error from None
        raise AssertionError("unreachable")  # pragma: no cover


def _notes(batch: Batch) -> set[int]:
    return {p.note for p in batch.pieces}


def _client(service: str, region: str | None, profile: str | None) -> Any:
    """A boto3 client from the standard chain (AWS_ENDPOINT_URL_<SERVICE> honoured); this
    module retries throttling itself, so botocore's retries are off."""
    label = "Comprehend Medical" if service == "comprehendmedical" else "S3"
    target = aws.Target(region, profile)
    return aws.client(service, target, label=label, error=DetectionError, max_attempts=1)

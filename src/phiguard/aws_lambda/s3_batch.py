"""The S3 batch path: a JSON Lines object lands in the input bucket, its de-identified copy is
written to the output bucket, line for line.

Each record's note field (`PHIGUARD_FIELD`, default `text`) is replaced by its de-identified
text and every other byte of the line is kept (`phiguard.run.writers.splice`). A record that
fails (detection error, missing field) is left out of the output and listed, by line number and
PHI-free reason, in `<output key>.failures.jsonl`.

Fail closed, as `phiguard deid` is: the object is read into memory (never to /tmp: it is PHI),
validated whole before any note is processed, de-identified with a commit-mode run journal, and
written only once every mapping is stored. If the run fails or the deadline comes first
(checked before each record), no output is written and the journal deletes the rows of the
notes of this object; the error is raised so S3's retry and the dead-letter queue see it.
Object keys may hold patient names or MRNs, so logs and errors name objects by a hash.

Environment: `PHIGUARD_OUTPUT_BUCKET` (required), `PHIGUARD_OUTPUT_PREFIX` (default
`deidentified/`), `PHIGUARD_INPUT_PREFIX` (stripped from input keys, default `incoming/`),
`PHIGUARD_FIELD`, `PHIGUARD_ID_FIELD`, `PHIGUARD_MAX_OBJECT_BYTES` (default 256 MiB), and
`PHIGUARD_HOME` (the journal; default /tmp/phiguard).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote_plus

from phiguard import aws
from phiguard.aws_lambda.environment import Role, pipeline
from phiguard.aws_lambda.runtime import current_deadline, lambda_handler
from phiguard.errors import ConfigError, InputError, OutputError, PhiguardError
from phiguard.run.records import Item
from phiguard.run.sources import Fields, Inputs, Mode, Record, Source, records
from phiguard.run.writers import splice
from phiguard.vaults.journal import Journal, sweep

log = logging.getLogger("phiguard.aws_lambda")

DEFAULT_MAX_OBJECT_BYTES = 256 * 1024 * 1024
FAILURES_SUFFIX = ".failures.jsonl"


@dataclass(frozen=True, slots=True)
class Settings:
    output_bucket: str
    output_prefix: str = "deidentified/"
    input_prefix: str = "incoming/"
    field: str = "text"
    id_field: str = "id"
    max_bytes: int = DEFAULT_MAX_OBJECT_BYTES
    home: Path = Path("/tmp/phiguard")

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        bucket = env.get("PHIGUARD_OUTPUT_BUCKET", "").strip()
        if not bucket:
            raise ConfigError("PHIGUARD_OUTPUT_BUCKET is not set: where should outputs go?")
        try:
            max_bytes = int(env.get("PHIGUARD_MAX_OBJECT_BYTES") or DEFAULT_MAX_OBJECT_BYTES)
        except ValueError:
            raise ConfigError("PHIGUARD_MAX_OBJECT_BYTES must be an integer") from None
        return cls(
            bucket,
            env.get("PHIGUARD_OUTPUT_PREFIX", "deidentified/"),
            env.get("PHIGUARD_INPUT_PREFIX", "incoming/"),
            env.get("PHIGUARD_FIELD") or "text",
            env.get("PHIGUARD_ID_FIELD") or "id",
            max_bytes,
            Path(env.get("PHIGUARD_HOME") or "/tmp/phiguard"),
        )

    def output_key(self, key: str) -> str:
        rest = key[len(self.input_prefix) :] if key.startswith(self.input_prefix) else key
        return self.output_prefix + rest


@dataclass(slots=True)
class ObjectReport:
    """What became of one input object: counts and PHI-free failure lines."""

    object: str  # a hash of the key, never the key
    records: int = 0
    released: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)


def object_name(bucket: str, key: str) -> str:
    """How logs and reports name an object: keys may hold patient names or MRNs."""
    return "s3-object-" + hashlib.sha3_256(f"{bucket}/{key}".encode()).hexdigest()[:16]


class _ObjectInputs(Inputs):
    """The object's bytes, read like a file by phiguard.run.sources."""

    def __init__(self, source: Source, data: bytes) -> None:
        super().__init__([source])
        self._data = data

    def open(self, src: Source) -> IO[bytes]:
        return io.BytesIO(self._data)


def _s3_client() -> Any:
    """S3 at the function's region (AWS_ENDPOINT_URL_S3 honoured)."""
    target = aws.Target(os.environ.get("AWS_REGION") or None)
    return aws.client("s3", target, label="S3", error=InputError)


def _s3_call(what: str, action: str, error: type[PhiguardError], fn: Any, **params: Any) -> Any:
    """One S3 call; a failure is one PHI-free line (no bucket or key: keys may hold names)."""
    try:
        return fn(**params)
    except Exception as exc:
        if not aws.is_aws_error(exc):
            raise
        code = aws.error_code(exc) or type(exc).__name__
        raise error(
            f"cannot {what} ({action}: {code}); check the bucket, the object and the "
            "function's role"
        ) from None


def _read(s3: Any, bucket: str, key: str, limit: int) -> bytes:
    response = _s3_call(
        "read the input object", "s3:GetObject", InputError, s3.get_object, Bucket=bucket, Key=key
    )
    size = int(response.get("ContentLength", 0))
    if size > limit:
        raise InputError(
            f"the input object is {size} bytes, over PHIGUARD_MAX_OBJECT_BYTES={limit}: "
            "split it into smaller JSON Lines objects"
        )
    data: bytes = _s3_call(
        "read the input object", "s3:GetObject", InputError, response["Body"].read
    )
    return data


def _put(s3: Any, bucket: str, key: str, body: bytes) -> None:
    _s3_call(
        "write the output object",
        "s3:PutObject",
        OutputError,
        s3.put_object,
        Bucket=bucket,
        Key=key,
        Body=body,
        ContentType="application/x-ndjson",
    )


def _line(rec: Record) -> int:
    return int(rec.where.rpartition(":")[2] or 0)


def deidentify_object(s3: Any, bucket: str, key: str, settings: Settings) -> ObjectReport:
    """De-identify one JSONL object into the output bucket (module docstring)."""
    name = object_name(bucket, key)
    report = ObjectReport(name)
    source = Source(name, name, name)
    inputs = _ObjectInputs(source, _read(s3, bucket, key, settings.max_bytes))
    fields = Fields(settings.field, settings.id_field)
    report.records = sum(1 for _ in records(inputs, Mode.JSONL, fields))
    d = pipeline(Role.WRITE)
    assert d.vault is not None
    journal = None
    if d.pseudonymizer is None:  # consistent tokens are shared by notes: never deleted by a run
        sweep(d.vault, home=settings.home)
        journal = Journal.start(d.vault, streaming=False, home=settings.home)

    def items() -> Iterator[Item]:
        for rec in records(inputs, Mode.JSONL, fields):
            current_deadline().check("the next record")
            yield Item(rec.id, "" if rec.missing else rec.text, rec)

    out: list[str] = []
    try:
        for r in d.deidentify_many(items(), journal=journal):
            rec: Record = r.context
            if rec.missing:
                reason = f"InputError: field {settings.field!r} is missing from this record"
                report.failures.append({"line": _line(rec), "error": reason})
            elif r.error is not None or r.value is None:
                report.failures.append({"line": _line(rec), "error": str(r.error)})
            else:
                out.append(splice(rec, r.value.text, jsonl=True))
                report.released += 1
                if journal is not None:
                    journal.delivered(r.value.message_hash)
        current_deadline().check("writing the output")
        if journal is not None:
            journal.commit()  # durable before the output exists; if it fails, nothing does
        target = settings.output_key(key)
        _put(s3, settings.output_bucket, target, "".join(out).encode("utf-8", "surrogatepass"))
        if report.failures:
            lines = "".join(json.dumps(f) + "\n" for f in report.failures)
            _put(s3, settings.output_bucket, target + FAILURES_SUFFIX, lines.encode("utf-8"))
    finally:
        if journal is not None:
            journal.close()  # rows of notes not released are deleted
    log.info(
        "s3_batch: %s: %d record(s), %d released, %d failed",
        name,
        report.records,
        report.released,
        len(report.failures),
    )
    return report


@lambda_handler
def s3_batch(event: Any, context: Any) -> dict[str, Any]:
    """S3 ObjectCreated notifications: each object de-identified in turn."""
    settings = Settings.from_env()
    entries = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(entries, list):
        raise InputError("not an S3 event: no Records list")
    s3 = _s3_client()
    reports = []
    for entry in entries:
        try:
            bucket = entry["s3"]["bucket"]["name"]
            key = unquote_plus(entry["s3"]["object"]["key"])
        except (KeyError, TypeError):
            raise InputError("an S3 event record has no bucket name or object key") from None
        reports.append(deidentify_object(s3, bucket, key, settings))
    return {
        "objects": [
            {
                "object": r.object,
                "records": r.records,
                "released": r.released,
                "failed": len(r.failures),
            }
            for r in reports
        ]
    }

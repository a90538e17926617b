"""What the AWS tests share: the sample note, a Lambda context, DetectPHI's answer for the
sample in its real response shape, and a Lambda's world here (fixtures, registered in
tests/conftest.py): DynamoDB on dynalite, KMS, S3 and STS on moto_server, configured only
through the environment variables a deployed function gets (AWS_ENDPOINT_URL_<SERVICE> stands
in for the real endpoints).

PYTEST_DONT_REWRITE
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from support.dynamodb_server import fake_aws_env
from support.moto_server import moto_server

REPO = Path(__file__).resolve().parents[2]
#: The reference sample note (../shared/samples/ed_summary.txt is the same text).
SAMPLE = REPO / "examples" / "ed_summary.txt"


#: PHI of the sample note, as DetectPHI would type it (it has no ORGANIZATION or LOCATION type).
KNOWN_PHI = (
    ("Stay Free Medical Center", "ADDRESS"),
    ("12341 W. Bohannon Rd, Grantville, GA", "ADDRESS"),
    ("(770) 922-9800", "PHONE_OR_FAX"),
    ("SALAZAR, CARLOS", "NAME"),
    ("RQ36114734", "ID"),
    ("11/12/2011", "DATE"),
    ("2/11/1961", "DATE"),
    ("186 VALETINE, NE 69201", "ADDRESS"),
    ("402 213-2221", "PHONE_OR_FAX"),
    ("Carlos", "NAME"),
    ("Jorge", "NAME"),
    ("11/23/2011", "DATE"),
    ("Saanvi Sarkar", "NAME"),
)


def detectphi_response(text: str) -> dict[str, Any]:
    """DetectPHI's answer for `text`: every occurrence of the known PHI, code point offsets."""
    entities: list[dict[str, Any]] = []
    for needle, etype in KNOWN_PHI:
        at = text.find(needle)
        while at >= 0:
            entities.append(
                {
                    "Id": len(entities),
                    "BeginOffset": at,
                    "EndOffset": at + len(needle),
                    "Score": 0.9975,
                    "Text": needle,
                    "Category": "PROTECTED_HEALTH_INFORMATION",
                    "Type": etype,
                    "Traits": [],
                }
            )
            at = text.find(needle, at + 1)
    entities.sort(key=lambda e: e["BeginOffset"])
    return {"Entities": entities, "ModelVersion": "2.1.0"}


@dataclass
class LambdaEnv:
    table: str
    kms_key_id: str
    dynamodb: Any
    s3: Any
    kms: Any
    moto: str

    def vault_items(self, message_hash: str | None = None) -> list[dict[str, Any]]:
        """Vault rows (of one message), as DynamoDB holds them."""
        items: list[dict[str, Any]] = self.dynamodb.scan(TableName=self.table)["Items"]
        return [i for i in items if message_hash in (None, i["MessageHash"]["S"])]

    def audit_items(self, session: str) -> list[dict[str, Any]]:
        """Audit records of one audit session (`lambda:<request id>`)."""
        items = self.dynamodb.scan(TableName=f"{self.table}-audit")["Items"]
        return [i for i in items if i["Session"]["S"] == session]


class Context:
    """What the Lambda runtime passes as `context` (the fields phiguard reads)."""

    def __init__(self, remaining_ms: float | list[float] = 60_000.0) -> None:
        self.aws_request_id = uuid.uuid4().hex
        self.function_name = "phiguard-test"
        self._remaining = list(remaining_ms) if isinstance(remaining_ms, list) else None
        self._fixed = remaining_ms if not isinstance(remaining_ms, list) else 0.0

    def get_remaining_time_in_millis(self) -> float:
        if self._remaining is not None:
            return self._remaining.pop(0) if len(self._remaining) > 1 else self._remaining[0]
        return float(self._fixed)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    with fake_aws_env(), moto_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def lambda_tables(dynamodb_endpoint: str, moto_endpoint: str) -> tuple[str, str]:
    """The vault, keys and audit tables and a KMS key, made once (tests tell their rows apart
    by message hash and audit session)."""
    from phiguard.vaults.dynamodb.tables import create_companion_tables, create_table

    table = f"phiguard-lambda-{uuid.uuid4().hex[:8]}"
    with fake_aws_env():
        create_table(table, endpoint_url=dynamodb_endpoint)
        create_companion_tables(table, endpoint_url=dynamodb_endpoint)
        kms = boto3.client("kms", region_name="us-east-1", endpoint_url=moto_endpoint)
        key = str(kms.create_key(Description="phiguard lambda test")["KeyMetadata"]["KeyId"])
    return table, key


@pytest.fixture()
def lambda_env(
    dynamodb_endpoint: str,
    moto_endpoint: str,
    lambda_tables: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[LambdaEnv]:
    """The environment a deployed function would have; pipelines rebuilt from it."""
    from phiguard.aws_lambda import environment

    table, key = lambda_tables
    with fake_aws_env():
        for service in ("KMS", "STS", "S3"):
            monkeypatch.setenv(f"AWS_ENDPOINT_URL_{service}", moto_endpoint)
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_endpoint)
        monkeypatch.setenv("PHIGUARD_TABLE", table)
        monkeypatch.setenv("PHIGUARD_KMS_KEY_ID", key)
        monkeypatch.setenv("PHIGUARD_HOME", str(tmp_path / "home"))
        monkeypatch.delenv("PHIGUARD_KEY", raising=False)
        monkeypatch.setenv("PHIGUARD_BACKEND", "local")
        environment.reset()
        try:
            yield LambdaEnv(
                table,
                key,
                boto3.client("dynamodb", region_name="us-east-1", endpoint_url=dynamodb_endpoint),
                boto3.client("s3", region_name="us-east-1", endpoint_url=moto_endpoint),
                boto3.client("kms", region_name="us-east-1", endpoint_url=moto_endpoint),
                moto_endpoint,
            )
        finally:
            environment.reset()

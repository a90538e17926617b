"""A Lambda's world, here: DynamoDB on dynalite, KMS, S3 and STS on moto_server, configured
only through the environment variables a deployed function gets (AWS_ENDPOINT_URL_<SERVICE>
stands in for the real endpoints)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from dynamodb_server import fake_aws_env
from lambda_world import LambdaEnv
from moto_server import moto_server


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    with fake_aws_env(), moto_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def lambda_tables(dynamodb_endpoint: str, moto_endpoint: str) -> tuple[str, str]:
    """The vault, keys and audit tables and a KMS key, made once (tests tell their rows apart
    by message hash and audit session)."""
    from phiguard.audit import create_companion_tables
    from phiguard.vaults.dynamodb.vault import create_table

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

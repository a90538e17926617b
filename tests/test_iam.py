"""The docs/iam policies, enforced by a real moto_server: writers cannot read, readers are audited.

moto_server checks every request after the first INITIAL_NO_AUTH_ACTION_COUNT against IAM: the
test creates tables, a KMS key and users with the policy files of docs/iam/ unauthenticated,
uses up the rest of that budget, then runs the CLI as each user.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import botocore.exceptions
import pytest

from dynamodb_server import fake_aws_env
from moto_server import moto_server

REPO = Path(__file__).resolve().parent.parent
IAM_DIR = REPO / "docs" / "iam"
ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
TABLE = "phiguard-vault"
NOTE = "Carlos Salazar, seen 11/12/2011 by Dr. Sarkar.\n"
SETUP_BUDGET = 150


def _policy(name: str, key_id: str) -> str:
    """The policy file with placeholders filled in, as moto can evaluate it.

    moto checks Effect and Action, but sees every DynamoDB and KMS request as Resource "*" and
    evaluates no service condition keys (kms:EncryptionContext:*, dynamodb:LeadingKeys), so a
    resource-scoped or conditional statement would never match there. The test therefore
    widens Resource to "*" and drops Condition: what it proves is the action split between
    roles. Resource scoping and conditions are checked with `aws iam simulate-custom-policy`
    (docs/security.md).
    """
    text = (IAM_DIR / f"{name}.json").read_text()
    for placeholder, value in (("REGION", REGION), ("ACCOUNT", ACCOUNT), ("KEY_ID", key_id)):
        text = text.replace(placeholder, value)
    doc = json.loads(text)
    for statement in doc["Statement"]:
        statement["Resource"] = "*"
        statement.pop("Condition", None)
    return json.dumps(doc)


class Env:
    def __init__(self, endpoint: str, key_arn: str, users: dict[str, tuple[str, str]]) -> None:
        self.endpoint, self.key_arn, self.users = endpoint, key_arn, users

    def run(self, user: str | None, *args: str, home: Path) -> subprocess.CompletedProcess[bytes]:
        env = dict(os.environ)
        env.update(
            PHIGUARD_HOME=str(home),
            AWS_ENDPOINT_URL_KMS=self.endpoint,
            AWS_ENDPOINT_URL_STS=self.endpoint,
        )
        env.pop("PHIGUARD_KEY", None)
        if user is None:
            env.pop("AWS_ACCESS_KEY_ID", None)
            env.pop("AWS_SECRET_ACCESS_KEY", None)
        else:
            env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = self.users[user]
        store = ["--store", "dynamodb", "--table", TABLE, "--endpoint-url", self.endpoint]
        cmd = [sys.executable, "-m", "phiguard_cli", *args[:-1], *store, args[-1]]
        if args[0] == "vault":
            cmd = [sys.executable, "-m", "phiguard_cli", *args, *store]
        return subprocess.run(cmd, capture_output=True, check=False, env=env)


@pytest.fixture(scope="module")
def iam() -> Iterator[Env]:
    with fake_aws_env(), moto_server(iam_after=SETUP_BUDGET) as ep:
        from phiguard.vaults.dynamodb.tables import create_companion_tables, create_table

        kms = boto3.client("kms", region_name=REGION, endpoint_url=ep)
        key = kms.create_key(Description="phiguard vault")["KeyMetadata"]
        create_table(TABLE, endpoint_url=ep, region=REGION)
        create_companion_tables(TABLE, endpoint_url=ep, region=REGION)
        client = boto3.client("iam", region_name=REGION, endpoint_url=ep)
        users: dict[str, tuple[str, str]] = {}
        for user, policies in (
            ("writer", ["writer"]),
            ("linker", ["writer", "writer-consistent"]),
            ("reidentifier", ["reidentifier"]),
            ("auditor", ["auditor"]),
        ):
            client.create_user(UserName=user)
            for p in policies:
                client.put_user_policy(
                    UserName=user, PolicyName=p, PolicyDocument=_policy(p, key["KeyId"])
                )
            ak = client.create_access_key(UserName=user)["AccessKey"]
            users[user] = (ak["AccessKeyId"], ak["SecretAccessKey"])
        users["expired"] = ("AKIAEXPIREDEXPIRED00", "no-longer-valid")
        _use_up_unauthenticated_budget(ep)
        yield Env(ep, key["Arn"], users)


def _use_up_unauthenticated_budget(endpoint: str) -> None:
    """Send requests with unknown credentials until moto starts refusing them."""
    bogus = boto3.client(
        "iam",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="AKIANOBODYNOBODY0000",
        aws_secret_access_key="x",
    )
    for _ in range(SETUP_BUDGET + 5):
        try:
            bogus.list_users()
        except botocore.exceptions.ClientError:
            return
    pytest.fail("moto_server never started enforcing IAM", pytrace=False)


def _one_line(r: subprocess.CompletedProcess[bytes]) -> str:
    lines = r.stderr.decode().strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert b"Traceback" not in r.stderr and r.stdout == b""
    return lines[0]


def _written_by_the_writer(iam: Env, tmp_path: Path) -> Path:
    """NOTE de-identified by the writer role under KMS: the de-identified file."""
    src = tmp_path / "n.txt"
    src.write_text(NOTE)
    out = tmp_path / "n.deid"
    r = iam.run(
        "writer", "deid", "--kms-key-id", iam.key_arn, "--out", str(out), str(src), home=tmp_path
    )
    assert r.returncode == 0, r.stderr
    return out


def test_writer_writes_but_cannot_read(iam: Env, tmp_path: Path) -> None:
    out = _written_by_the_writer(iam, tmp_path)
    r = iam.run("writer", "reid", str(out), home=tmp_path)
    assert r.returncode == 5, r.stderr
    line = _one_line(r)
    assert line.startswith("phiguard: error: access denied"), line
    r = iam.run("writer", "vault", "audit", home=tmp_path)
    assert r.returncode == 5 and "access denied" in _one_line(r)


def test_reidentifier_reads_and_is_named_in_the_audit(iam: Env, tmp_path: Path) -> None:
    out = _written_by_the_writer(iam, tmp_path)
    r = iam.run("reidentifier", "reid", str(out), home=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == NOTE.encode()
    r = iam.run("reidentifier", "vault", "audit", home=tmp_path)
    assert r.returncode == 5 and "access denied" in _one_line(r)
    r = iam.run("auditor", "vault", "audit", "--format", "json", home=tmp_path)
    assert r.returncode == 0, r.stderr
    actors = {rec["actor"] for rec in json.loads(r.stdout)}
    assert f"aws:arn:aws:iam::{ACCOUNT}:user/reidentifier" in actors
    r = iam.run("auditor", "reid", str(out), home=tmp_path)
    assert r.returncode in (5, 6) and "access denied" in _one_line(r)


def test_rejected_or_missing_credentials_are_one_line(iam: Env, tmp_path: Path) -> None:
    src = tmp_path / "n.txt"
    src.write_text(NOTE)
    r = iam.run("expired", "deid", str(src), home=tmp_path)
    assert r.returncode == 5, r.stderr
    line = _one_line(r)
    assert "credentials were rejected" in line
    assert line.endswith("; pass --profile to use another AWS profile"), "the CLI adds the flag"
    r = iam.run(None, "deid", str(src), home=tmp_path)
    assert r.returncode == 5, r.stderr
    line = _one_line(r)
    assert "no AWS credentials" in line and line.endswith(
        "; pass --profile to use another AWS profile"
    )
    deid = tmp_path / "n.deid"
    deid.write_text("0" * 64 + "\n")
    r = iam.run("expired", "reid", str(deid), home=tmp_path)
    assert r.returncode == 5, r.stderr
    assert "sts:GetCallerIdentity" in _one_line(r), "no identity, no reid"


def test_consistent_mode_needs_only_the_pseudonym_slot(iam: Env, tmp_path: Path) -> None:
    src = tmp_path / "n.txt"
    src.write_text(NOTE)
    args = ("deid", "--consistent", "--kms-key-id", iam.key_arn, str(src))
    r = iam.run("writer", *args, home=tmp_path)
    assert r.returncode == 5 and "access denied" in _one_line(r), "plain writers cannot link"
    first = iam.run("linker", *args, home=tmp_path)  # creates the pseudonym key
    again = iam.run("linker", *args, home=tmp_path)  # unwraps it: kms:Decrypt, GetItem
    assert first.returncode == again.returncode == 0, again.stderr

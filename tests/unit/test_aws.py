"""One translator for every AWS failure: each error class, on each service, becomes one PHI-free
line with the service's exit code and the hint that fixes it.

Client errors come from real botocore clients answered by a Stubber (real response shapes);
set-up and transport errors are produced for real by botocore (no credentials, no region, an
unknown profile, a closed port), so no server is needed here.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.stub import Stubber
from pynamodb.exceptions import PutError

from phiguard import aws
from phiguard.errors import (
    DetectionError,
    EncryptionKeyError,
    Hint,
    PhiguardError,
    VaultError,
)
from phiguard.keys.kms import KmsKeyring
from phiguard.keys.policy import open_keys
from phiguard.vaults.dynamodb.tables import TableTarget
from phiguard.vaults.dynamodb.vault import DynamoDBVault
from phiguard.vaults.memory import MemoryVault

SECRET = "Salazar 11/12/2011"  # what a service message may echo: never in our line
HERE = aws.Target("eu-west-1")

# (service, operation, parameters, error class, exit code, the Call the library makes)
SERVICES: list[tuple[str, str, dict[str, Any], type[PhiguardError], int, aws.Call]] = [
    (
        "comprehendmedical",
        "detect_phi",
        {"Text": SECRET},
        DetectionError,
        4,
        aws.Call(
            "Comprehend Medical",
            "detect PHI with Comprehend Medical",
            "comprehendmedical:DetectPHI",
            HERE,
            throttled="ask for a higher DetectPHI quota",
        ),
    ),
    (
        "dynamodb",
        "get_item",
        {"TableName": "v-keys", "Key": {"KeyId": {"S": "k"}}},
        VaultError,
        5,
        TableTarget("v-keys", HERE, None).call("read a wrapped key from", "dynamodb:GetItem"),
    ),
    (
        "kms",
        "generate_data_key",
        {"KeyId": "alias/none", "KeySpec": "AES_256"},
        EncryptionKeyError,
        6,
        aws.Call(
            "KMS",
            "generate a data key",
            "kms:GenerateDataKey",
            HERE,
            resource="KMS key 'alias/none'",
            missing=Hint.KMS_KEY,
        ),
    ),
]

DENIED = "access denied: this AWS identity may not "
REJECTED = "AWS credentials were rejected by "

# (AWS error code, HTTP status, kind, start of our line, hint)
CASES = [
    ("AccessDeniedException", 400, aws.Failure.DENIED, DENIED, None),
    ("AccessDenied", 403, aws.Failure.DENIED, DENIED, None),
    ("UnrecognizedClientException", 400, aws.Failure.CREDENTIALS_REJECTED, REJECTED, Hint.PROFILE),
    ("ExpiredTokenException", 400, aws.Failure.CREDENTIALS_REJECTED, REJECTED, Hint.PROFILE),
    ("InvalidSignatureException", 403, aws.Failure.CREDENTIALS_REJECTED, REJECTED, Hint.PROFILE),
    ("ThrottlingException", 400, aws.Failure.THROTTLED, "", None),
    ("ProvisionedThroughputExceededException", 400, aws.Failure.THROTTLED, "", None),
    ("ServiceUnavailableException", 503, aws.Failure.THROTTLED, "", None),
    ("ResourceNotFoundException", 400, aws.Failure.NOT_FOUND, "", None),
    ("ValidationException", 400, aws.Failure.OTHER, "could not ", None),
]


@pytest.fixture()
def clients(aws_env: None) -> Iterator[dict[str, tuple[Any, Stubber]]]:
    made = {}
    for service, *_ in SERVICES:
        client = boto3.client(service, region_name="eu-west-1")
        stub = Stubber(client)
        stub.activate()
        made[service] = (client, stub)
    yield made
    for _, stub in made.values():
        stub.deactivate()


def _client_error(
    client: Any, stub: Stubber, op: str, params: dict[str, Any], code: str, status: int
) -> Exception:
    stub.add_client_error(op, code, f"bad request about {SECRET}", status)
    with pytest.raises(botocore.exceptions.ClientError) as info:
        getattr(client, op)(**params)
    return info.value


def _one_clean_line(err: PhiguardError, *, quoted: bool = False) -> str:
    """The message: one line, no CLI flag, and no service text unless the Call quotes it."""
    line = str(err)
    assert "\n" not in line and (quoted or SECRET not in line)
    assert " --" not in line, "library messages name no CLI flag"
    return line


@pytest.mark.parametrize(("code", "status", "kind", "start", "hint"), CASES)
@pytest.mark.parametrize("service", [s[0] for s in SERVICES])
def test_client_errors(
    clients: dict[str, tuple[Any, Stubber]],
    service: str,
    code: str,
    status: int,
    kind: aws.Failure,
    start: str,
    hint: Hint | None,
) -> None:
    _, op, params, error, exit_code, call = next(s for s in SERVICES if s[0] == service)
    exc = _client_error(*clients[service], op, params, code, status)
    assert aws.classify(exc) is kind and aws.error_code(exc) == code
    err = aws.translate(exc, call, error)
    assert type(err) is error and err.exit_code == exit_code
    line = _one_clean_line(err, quoted=call.quote_message and kind is aws.Failure.OTHER)
    assert line.startswith(start), line
    assert code in line and call.actions in line and "in region eu-west-1" in line
    if kind is aws.Failure.DENIED:
        assert call.what in line and line.endswith("see docs/iam/")
    if kind is aws.Failure.THROTTLED:
        assert line.startswith(f"{call.service} is throttling or unavailable")
        assert line.endswith(call.throttled)
    if kind is aws.Failure.NOT_FOUND:
        if call.resource:
            assert line.startswith(f"{call.resource} does not exist"), line
            hint = call.missing
        else:  # Comprehend names no resource: a plain failure
            assert line.startswith("could not ")
    assert err.hint is hint


def test_service_messages_are_quoted_only_where_they_cannot_hold_phi(
    clients: dict[str, tuple[Any, Stubber]],
) -> None:
    exc = _client_error(
        *clients["dynamodb"], "get_item", SERVICES[1][2], "ValidationException", 400
    )
    quoted = aws.translate(exc, SERVICES[1][5], VaultError)
    assert str(quoted).endswith(f": bad request about {SECRET}")  # DynamoDB sees hashes only
    exc = _client_error(
        *clients["comprehendmedical"], "detect_phi", {"Text": SECRET}, "ValidationException", 400
    )
    assert SECRET not in str(aws.translate(exc, SERVICES[0][5], DetectionError))


def test_code_advice(clients: dict[str, tuple[Any, Stubber]]) -> None:
    code = "TextSizeLimitExceededException"
    call = aws.Call(
        "Comprehend Medical", "detect PHI", "comprehendmedical:DetectPHI", advice={code: "lower it"}
    )
    exc = _client_error(*clients["comprehendmedical"], "detect_phi", {"Text": "x"}, code, 400)
    assert str(aws.translate(exc, call, DetectionError)).endswith(": lower it")


def test_pynamodb_wrapped_errors_are_unwrapped(clients: dict[str, tuple[Any, Stubber]]) -> None:
    cause = _client_error(
        *clients["dynamodb"], "get_item", SERVICES[1][2], "AccessDeniedException", 400
    )
    wrapped = PutError("Failed to batch write items", cause=cause)
    assert aws.is_aws_error(wrapped) and aws.error_code(wrapped) == "AccessDeniedException"
    line = str(aws.translate(wrapped, SERVICES[1][5], VaultError))
    assert line.startswith("access denied: this AWS identity may not read a wrapped key from")


def test_xml_error_bodies_give_their_code() -> None:
    """moto_server's IAM layer (and some proxies) answer JSON calls with an XML error body."""
    response = {
        "Error": {
            "Code": "403",
            "Message": "<ErrorResponse><Code>AccessDenied</Code></ErrorResponse>",
        },
        "ResponseMetadata": {"HTTPStatusCode": 403},
    }
    exc = botocore.exceptions.ClientError(response, "Query")  # type: ignore[arg-type]
    assert aws.error_code(exc) == "AccessDenied" and aws.classify(exc) is aws.Failure.DENIED


def test_foreign_exceptions_are_not_translated() -> None:
    assert aws.classify(ValueError("x")) is None and not aws.is_aws_error(KeyError())


# -- errors botocore produces for real, without a server -------------------------------------


def _closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"  # closed once we return


def test_no_region(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(VaultError) as info:
        aws.resolve(aws.Target(), "DynamoDB", VaultError)
    assert str(info.value).startswith("no AWS region configured for DynamoDB")
    assert info.value.hint is Hint.REGION
    monkeypatch.setenv("AWS_REGION", "ca-central-1")  # botocore ignores it; we do not
    assert aws.resolve(aws.Target(), "DynamoDB", VaultError).region == "ca-central-1"
    monkeypatch.delenv("AWS_REGION")
    local = aws.resolve(aws.Target(endpoint_url="http://127.0.0.1:1"), "DynamoDB", VaultError)
    assert local.region == aws.LOCAL_SIGNING_REGION
    # botocore's own NoRegionError, from a client made without one
    with pytest.raises(botocore.exceptions.NoRegionError) as raw:
        boto3.client("kms")
    err = aws.translate(
        raw.value, aws.Call("KMS", "generate a data key", "kms:GenerateDataKey"), EncryptionKeyError
    )
    assert err.hint is Hint.REGION and err.exit_code == 6


def test_unknown_profile(aws_env: None) -> None:
    for error in (DetectionError, VaultError, EncryptionKeyError):
        with pytest.raises(error) as info:
            aws.client("kms", aws.Target("eu-west-1", "nope"), label="KMS", error=error)
        assert (
            str(info.value) == "AWS profile 'nope' not found in ~/.aws/config or ~/.aws/credentials"
        )
        assert info.value.hint is Hint.PROFILE


def test_no_credentials(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var)
    target = aws.Target("eu-west-1", endpoint_url=_closed_port())
    kms = aws.client("kms", target, label="KMS", error=EncryptionKeyError)
    ring = KmsKeyring(MemoryVault(), kms, target)
    with pytest.raises(EncryptionKeyError) as info:
        ring.new_data_key("alias/phi")
    line = _one_clean_line(info.value)
    assert line.startswith("no AWS credentials found for KMS (NoCredentialsError)")
    assert info.value.hint is Hint.PROFILE


def test_unreachable_kms_names_the_operation(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 10 item 18: the line said "cannot reach the AWS endpoint for generate a data key"."""
    endpoint = _closed_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", endpoint)
    with pytest.raises(EncryptionKeyError) as info:
        open_keys(MemoryVault(), writer=True, kms_key_id="alias/phi", region="eu-west-1")
    line = _one_clean_line(info.value)
    assert line == (
        f"cannot reach {endpoint} (EndpointConnectionError) to generate a data key; "
        "check the network and retry"
    )
    assert info.value.hint is None, "the endpoint came from AWS_ENDPOINT_URL_KMS: no flag fixes it"


def test_unreachable_dynamodb_through_pynamodb(aws_env: None) -> None:
    endpoint = _closed_port()
    vault = DynamoDBVault("t", endpoint_url=endpoint, max_retry_attempts=0)
    with pytest.raises(VaultError) as info:
        vault.get("0" * 64)
    line = _one_clean_line(info.value)
    assert line.startswith(
        f"cannot reach {endpoint} (EndpointConnectionError) to read DynamoDB table 't'"
    )
    assert info.value.hint is Hint.ENDPOINT and info.value.exit_code == 5


def test_unreachable_aws_region_hints_at_the_region(aws_env: None) -> None:
    exc = botocore.exceptions.EndpointConnectionError(
        endpoint_url="https://kms.xx-nowhere-1.amazonaws.com/"
    )
    err = aws.translate(
        exc,
        aws.Call("KMS", "unwrap a data key", "kms:Decrypt", aws.Target("xx-nowhere-1")),
        EncryptionKeyError,
    )
    assert str(err).startswith(
        "cannot reach https://kms.xx-nowhere-1.amazonaws.com (EndpointConnectionError)"
    )
    assert err.hint is Hint.REGION

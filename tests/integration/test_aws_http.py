"""The HTTP function: API Gateway events through Mangum into the `phiguard serve` app."""

from __future__ import annotations

import importlib
import importlib.util
import json
from typing import Any

import pytest

from phiguard import aws_lambda
from phiguard.errors import ConfigError
from support.lambda_world import Context, LambdaEnv

SERVE = importlib.util.find_spec("phiguard.serve") is not None
# the module (its attribute of the same name on the package is the handler)
http_module = importlib.import_module("phiguard.aws_lambda.http")


def gateway_event(method: str, path: str, body: Any = None) -> dict[str, Any]:
    """An API Gateway REST (proxy) event, as the IAM-authorized /{proxy+} route sends it."""
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {"content-type": "application/json"},
        "multiValueHeaders": {"content-type": ["application/json"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/v1{path}",
            "stage": "v1",
            "requestId": "test-request",
            "identity": {"sourceIp": "127.0.0.1", "userArn": "arn:aws:iam::123456789012:user/x"},
        },
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


@pytest.fixture(autouse=True)
def fresh_adapter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http_module, "_adapter", None)


@pytest.mark.skipif(not SERVE, reason="phiguard.serve is not in this tree yet")
def test_health_probe_through_api_gateway(lambda_env: LambdaEnv) -> None:
    response = aws_lambda.http(gateway_event("GET", "/healthz"), Context())
    assert response["statusCode"] == 200


@pytest.mark.skipif(not SERVE, reason="phiguard.serve is not in this tree yet")
def test_unauthenticated_api_calls_are_refused_by_the_app_too(lambda_env: LambdaEnv) -> None:
    response = aws_lambda.http(
        gateway_event("POST", "/v1/mask", {"text": "Carlos Salazar"}), Context()
    )
    assert response["statusCode"] == 401 and "Carlos" not in response["body"]


@pytest.mark.skipif(SERVE, reason="phiguard.serve is installed: the real app is tested above")
def test_without_the_server_the_function_says_what_is_missing(lambda_env: LambdaEnv) -> None:
    with pytest.raises(ConfigError, match=r"needs phiguard serve and Mangum \(phiguard.serve"):
        aws_lambda.http(gateway_event("GET", "/healthz"), Context())

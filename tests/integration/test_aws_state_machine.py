"""deploy/aws/statemachine.asl.json executed end to end by moto's Step Functions interpreter.

moto runs the definition (Map, Choice, Retry, Catch, ResultPath, Fail) itself; its Lambda
backend cannot start containers here (no Docker daemon), so each Lambda Invoke it makes is
answered by running the real handler in-process, as the Lambda Python runtime would: the
result as JSON, or an unhandled error as {errorType, errorMessage} with the function-error
header. The handlers use the same dynalite vault and moto_server KMS/STS as the other tests.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from phiguard import aws_lambda
from phiguard.aws_lambda import environment
from phiguard.aws_lambda.environment import Role
from support.lambda_world import SAMPLE, Context, LambdaEnv, detectphi_response

ASL = Path(__file__).resolve().parents[2] / "deploy" / "aws" / "statemachine.asl.json"
REGION = "us-east-1"
HANDLERS: dict[str, Callable[[Any, Any], Any]] = {
    "IdentifyPhiArn": aws_lambda.identify_phi,
    "MaskEntitiesArn": aws_lambda.mask_entities,
    "DeidentifyEntitiesArn": aws_lambda.deidentify_entities,
}


class Machine:
    """One state machine on moto, its functions answered by the handlers."""

    def __init__(self, sfn: Any, arn: str, calls: Counter[str]) -> None:
        self.sfn, self.arn, self.calls = sfn, arn, calls

    def run(self, payload: Any, timeout: float = 120.0) -> dict[str, Any]:
        run = self.sfn.start_execution(stateMachineArn=self.arn, input=json.dumps(payload))
        deadline = time.monotonic() + timeout
        while True:
            d: dict[str, Any] = self.sfn.describe_execution(executionArn=run["executionArn"])
            if d["status"] != "RUNNING":
                return d
            assert time.monotonic() < deadline, "execution did not finish"
            time.sleep(0.1)


@pytest.fixture()
def machine(lambda_env: LambdaEnv, monkeypatch: pytest.MonkeyPatch) -> Iterator[Machine]:
    moto = pytest.importorskip("moto")
    from moto.awslambda_simple.models import LambdaSimpleBackend

    calls: Counter[str] = Counter()
    by_name: dict[str, Callable[[Any, Any], Any]] = {}

    def invoke(
        self: Any,
        function_name: str,
        qualifier: Any,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> bytes:
        name = function_name.rsplit(":", 1)[-1]
        calls[name] += 1
        try:
            result = by_name[name](json.loads(body), Context())
        except Exception as exc:  # what the Lambda runtime reports for an unhandled error
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}).encode()
        return json.dumps(result).encode()

    monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)
    # moto's in-process mock answers only AWS hostnames: the handlers' endpoints (dynalite,
    # moto_server) are reached as before
    config = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
    with moto.mock_aws(config=config):  # type: ignore[arg-type]
        iam = boto3.client("iam", region_name=REGION)
        role = iam.create_role(
            RoleName="phiguard-sfn",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        lam = boto3.client("lambda", region_name=REGION)
        definition = ASL.read_text(encoding="utf-8")
        for placeholder, handler in HANDLERS.items():
            name = placeholder.removesuffix("Arn")
            by_name[name] = handler
            arn = lam.create_function(
                FunctionName=name,
                Runtime="python3.11",
                Role=role,
                Handler=f"phiguard.aws_lambda.{handler.__name__}",
                Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
            )["FunctionArn"]
            definition = definition.replace("${" + placeholder + "}", arn)
        sfn = boto3.client("stepfunctions", region_name=REGION)
        arn = sfn.create_state_machine(name="phiguard", definition=definition, roleArn=role)[
            "stateMachineArn"
        ]
        yield Machine(sfn, arn, calls)


def output(done: dict[str, Any]) -> Any:
    """An execution's output. AWS gives JSON text; moto gives a top-level string unquoted."""
    try:
        return json.loads(done["output"])
    except json.JSONDecodeError:
        return done["output"]


def _note(message: str, action: str) -> dict[str, Any]:
    return {"body": {"message": message, "anonymizeOrDeidentify": action}}


def test_anonymize_path(machine: Machine) -> None:
    message = SAMPLE.read_text(encoding="utf-8")
    done = machine.run(_note(message, "anonymize"))
    assert done["status"] == "SUCCEEDED", done
    masked = output(done)
    assert masked == aws_lambda.mask_entities(_note(message, "anonymize"), Context())
    assert "SALAZAR" not in masked and len(masked) == len(message)
    assert machine.calls == Counter({"IdentifyPhi": 1, "MaskEntities": 1})


def test_deidentify_path_then_reidentify(machine: Machine) -> None:
    message = SAMPLE.read_text(encoding="utf-8")
    done = machine.run(_note(message, "deidentify"))
    assert done["status"] == "SUCCEEDED", done
    out = output(done)
    assert set(out) == {"deid_message", "hashed_message"} and "SALAZAR" not in out["deid_message"]
    assert aws_lambda.reidentify_entities({"body": out}, Context()) == message
    assert machine.calls == Counter({"IdentifyPhi": 1, "DeidentifyEntities": 1})


def test_a_batch_runs_each_note_and_reports_the_ones_not_released(machine: Machine) -> None:
    notes = [
        _note("Seen by Dr. Saanvi Sarkar on 11/12/2011.", "anonymize"),
        _note("Carlos Salazar, phone (770) 922-9800.", "deidentify"),
        _note("Carlos Salazar again.", "encrypt"),
        {"body": {"message": 42, "anonymizeOrDeidentify": "anonymize"}},
    ]
    done = machine.run({"notes": notes})
    assert done["status"] == "SUCCEEDED", done
    masked, deid, unknown, bad = output(done)
    assert "Sarkar" not in masked and "11/12/2011" not in masked
    assert aws_lambda.reidentify_entities({"body": deid}, Context()) == notes[1]["body"]["message"]
    assert unknown["released"] is False and unknown["error"]["Error"] == "InputError"
    assert bad["released"] is False and bad["error"]["Error"] == "InputError"
    assert "Carlos" not in json.dumps([unknown, bad])


def test_one_note_that_fails_fails_the_execution_with_its_error(machine: Machine) -> None:
    done = machine.run({"body": {"message": ["not", "text"]}})
    assert done["status"] == "FAILED"
    assert done["error"] == "InputError"
    assert machine.calls == Counter({"IdentifyPhi": 1})  # an input error is not retried


def test_throttling_past_the_functions_retries_is_retried_by_the_state_machine(
    machine: Machine, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = SAMPLE.read_text(encoding="utf-8")
    monkeypatch.setenv("PHIGUARD_BACKEND", "comprehend")
    environment.reset()
    detector: Any = environment.pipeline(Role.DETECT).detector
    detector._sleep = lambda s: None
    with Stubber(detector._client) as stub:
        for _ in range(detector.max_attempts):  # the first invocation gives up...
            stub.add_client_error("detect_phi", "ThrottlingException", http_status_code=400)
        for _ in range(2):  # ...the retried one, and MaskEntities, are answered
            stub.add_response("detect_phi", detectphi_response(message), {"Text": message})
        done = machine.run(_note(message, "anonymize"))
        assert done["status"] == "SUCCEEDED", done
    assert machine.calls == Counter({"IdentifyPhi": 2, "MaskEntities": 1})
    assert "SALAZAR" not in output(done)

"""deploy/aws: cfn-lint clean, the SAM transform succeeds, the state machine is complete, and the
roles are docs/iam's (one source of truth: the writer cannot read the vault)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from support.asl_check import placeholders, problems

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy" / "aws"
TEMPLATE = DEPLOY / "template.yaml"
ASL = DEPLOY / "statemachine.asl.json"
IAM = REPO / "docs" / "iam"

#: Errors every Task retries with backoff: phiguard's transient ones and Lambda's own.
TRANSIENT = (
    "DetectionError",
    "DeadlineExceeded",
    "Lambda.TooManyRequestsException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
)


def _template() -> dict[str, Any]:
    from samtranslator.yaml_helper import yaml_parse

    parsed: dict[str, Any] = yaml_parse(TEMPLATE.read_text(encoding="utf-8"))
    return parsed


def _resources(kind: str | None = None) -> dict[str, Any]:
    res: dict[str, Any] = _template()["Resources"]
    return {k: v for k, v in res.items() if kind is None or v["Type"] == kind}


def _asl() -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(ASL.read_text(encoding="utf-8"))
    return parsed


# -- the template as a whole -----------------------------------------------------------------


def test_cfn_lint_is_clean() -> None:
    from cfnlint.api import lint_file

    assert [str(m) for m in lint_file(TEMPLATE)] == []


def test_cfn_lint_would_fail_a_broken_template(tmp_path: Path) -> None:
    from cfnlint.api import lint

    broken = TEMPLATE.read_text(encoding="utf-8").replace("MemorySize: 3008", "MemorySize: 99999")
    assert any("99999" in str(m) for m in lint(broken))


class _NoManagedPolicies:
    """The template names no managed policy, so the translator needs no IAM lookup."""

    def load(self) -> dict[str, str]:
        return {}


def _packaged() -> dict[str, Any]:
    """What `sam build` + `sam package` hand CloudFormation: code in S3, images in ECR, the
    state machine definition inlined."""
    t = copy.deepcopy(_template())
    for res in t["Resources"].values():
        props = res.get("Properties", {})
        if res["Type"] == "AWS::Serverless::Function":
            if props.get("PackageType") == "Image":
                props["ImageUri"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/phiguard:local"
            else:
                props["CodeUri"] = "s3://phiguard-artifacts/comprehend.zip"
        if res["Type"] == "AWS::Serverless::StateMachine":
            props["Definition"] = _asl()
            del props["DefinitionUri"]
    return t


@pytest.mark.parametrize("backend", ["comprehend", "local"])
def test_the_sam_transform_succeeds(backend: str, aws_env: None) -> None:
    from samtranslator.translator.transform import transform

    out = transform(_packaged(), {"Backend": backend}, _NoManagedPolicies())  # type: ignore[arg-type]
    res = out["Resources"]
    kinds = {r["Type"] for r in res.values()}
    assert {
        "AWS::Lambda::Function",
        "AWS::StepFunctions::StateMachine",
        "AWS::ApiGateway::RestApi",
        "AWS::Lambda::Permission",
        "AWS::DynamoDB::Table",
        "AWS::KMS::Key",
    } <= kinds
    assert not any(t.startswith("AWS::Serverless::") for t in kinds)
    zipped = [
        r
        for r in res.values()
        if r["Type"] == "AWS::Lambda::Function" and "Handler" in r["Properties"]
    ]
    assert {r["Properties"]["Handler"] for r in zipped} == {
        "phiguard.aws_lambda.identify_phi",
        "phiguard.aws_lambda.mask_entities",
        "phiguard.aws_lambda.deidentify_entities",
        "phiguard.aws_lambda.reidentify_entities",
        "phiguard.aws_lambda.s3_batch",
        "phiguard.aws_lambda.http",
    }
    apis = [r for r in res.values() if r["Type"] == "AWS::ApiGateway::RestApi"]
    methods = [m for api in apis for m in _walk(api) if "x-amazon-apigateway-integration" in m]
    assert len(methods) == 2  # the zip and the image HTTP function, one per backend
    assert all(m["security"] == [{"AWS_IAM": []}] for m in methods)  # SigV4 on every route
    assert all(
        api["Properties"]["Body"]["securityDefinitions"]["AWS_IAM"]["x-amazon-apigateway-authtype"]
        == "awsSigv4"
        for api in apis
    )
    machine = next(r for r in res.values() if r["Type"] == "AWS::StepFunctions::StateMachine")
    assert machine["Properties"]["DefinitionSubstitutions"].keys() == placeholders(ASL.read_text())


def _walk(node: Any) -> list[dict[str, Any]]:
    """Every mapping inside `node`."""
    if isinstance(node, dict):
        return [node, *(m for v in node.values() for m in _walk(v))]
    if isinstance(node, list):
        return [m for v in node for m in _walk(v)]
    return []


def test_functions_are_zip_for_comprehend_and_images_for_local() -> None:
    fns = _resources("AWS::Serverless::Function")
    for name, fn in fns.items():
        image = fn["Properties"].get("PackageType") == "Image"
        if name == "ReidentifyEntitiesFunction":  # needs no detector: always the small zip
            assert "Condition" not in fn and not image
        else:
            assert fn["Condition"] == ("UseLocal" if image else "UseComprehend"), name
        if image:
            assert fn["Metadata"]["Dockerfile"] == "deploy/aws/Dockerfile"
            assert (
                DEPLOY / fn["Metadata"]["DockerContext"] / fn["Metadata"]["Dockerfile"]
            ).exists()


# -- least privilege, from docs/iam ---------------------------------------------------------


def _from_docs(name: str) -> list[dict[str, Any]]:
    """A docs/iam policy's statements as the template writes them (placeholders → intrinsics)."""
    statements: list[dict[str, Any]] = json.loads((IAM / name).read_text())["Statement"]

    def sub(arn: str) -> dict[str, str]:
        for old, new in (
            ("arn:aws:", "arn:${AWS::Partition}:"),
            ("REGION", "${AWS::Region}"),
            ("ACCOUNT", "${AWS::AccountId}"),
            ("KEY_ID", "${VaultKey}"),
            ("phiguard-vault", "${VaultTableName}"),
        ):
            arn = arn.replace(old, new)
        return {"Fn::Sub": arn}

    out = []
    for s in statements:
        s = dict(s)
        s["Resource"] = (
            sub(s["Resource"])
            if isinstance(s["Resource"], str)
            else [sub(r) for r in s["Resource"]]
        )
        out.append(s)
    return out


def _policy(role: str, name: str) -> list[dict[str, Any]]:
    policies = _resources()[role]["Properties"]["Policies"]
    found: list[dict[str, Any]] = next(p for p in policies if p["PolicyName"] == name)[
        "PolicyDocument"
    ]["Statement"]
    return found


@pytest.mark.parametrize(
    ("role", "policy", "doc"),
    [
        ("WriterRole", "phiguard-writer", "writer.json"),
        ("BatchRole", "phiguard-writer", "writer.json"),
        ("HttpRole", "phiguard-writer", "writer.json"),
        ("ReaderRole", "phiguard-reidentifier", "reidentifier.json"),
    ],
)
def test_vault_statements_are_docs_iam(role: str, policy: str, doc: str) -> None:
    assert _policy(role, policy) == _from_docs(doc)


def _grants(role: dict[str, Any]) -> list[tuple[str, str]]:
    """(action, resource as written) for every Allow statement of a role."""
    out = []
    for p in role["Properties"]["Policies"]:
        for s in p["PolicyDocument"]["Statement"]:
            actions = [s["Action"]] if isinstance(s["Action"], str) else s["Action"]
            resources = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
            out.extend(
                (a, json.dumps(r)) for a in actions for r in resources if s["Effect"] == "Allow"
            )
    return out


def test_only_the_reidentifier_can_read_the_vault_or_unwrap_data_keys() -> None:
    roles = _resources("AWS::IAM::Role")
    readers = set()
    for name, role in roles.items():
        for action, resource in _grants(role):
            vault_table = 'table/${VaultTableName}"' in resource or resource == '"*"'
            reads_rows = action in {
                "dynamodb:Query",
                "dynamodb:GetItem",
                "dynamodb:Scan",
                "dynamodb:BatchGetItem",
                "dynamodb:*",
            }
            unwraps = action in {"kms:Decrypt", "kms:*"} and "VaultKey" in resource
            if (reads_rows and vault_table) or unwraps:
                readers.add(name)
    assert readers == {"ReaderRole"}
    assert all("*" not in a.split(":")[1] for r in roles.values() for a, _ in _grants(r))


def test_dynamodb_may_use_the_vault_key_only_on_behalf_of_this_account() -> None:
    statements = _resources()["VaultKey"]["Properties"]["KeyPolicy"]["Statement"]
    open_to_all = [s for s in statements if s["Principal"] == {"AWS": "*"}]
    assert len(open_to_all) == 1
    assert open_to_all[0]["Condition"]["StringEquals"]["kms:ViaService"] == {
        "Fn::Sub": "dynamodb.${AWS::Region}.amazonaws.com"
    }


def test_vault_tables_have_pitr_and_sse_with_the_vault_key() -> None:
    tables = _resources("AWS::DynamoDB::Table")
    assert set(tables) == {"VaultTable", "KeysTable", "AuditTable"}
    for t in tables.values():
        p = t["Properties"]
        assert p["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert p["SSESpecification"] == {
            "SSEEnabled": True,
            "SSEType": "KMS",
            "KMSMasterKeyId": {"Ref": "VaultKey"},
        }
        assert t["DeletionPolicy"] == "Retain"
    keys = [k["AttributeName"] for k in tables["VaultTable"]["Properties"]["KeySchema"]]
    assert keys == ["MessageHash", "EntityHash"]  # the reference layout


def test_logs_are_kept_for_a_set_time_and_encrypted() -> None:
    groups = _resources("AWS::Logs::LogGroup")
    assert groups and all(
        g["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"} for g in groups.values()
    )
    assert all(
        g["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["DataKey", "Arn"]} for g in groups.values()
    )
    assert _template()["Globals"]["Function"]["LoggingConfig"]["LogGroup"] == {
        "Ref": "FunctionLogs"
    }
    logging = _resources()["DeidentificationStateMachine"]["Properties"]["Logging"]
    assert logging["IncludeExecutionData"] is False  # execution data is PHI


# -- the state machine ----------------------------------------------------------------------


def test_the_state_machine_is_complete() -> None:
    assert problems(_asl(), retry_on=TRANSIENT) == []
    inner = _asl()["States"]["ForEachNote"]
    assert inner["Type"] == "Map"
    flow = inner["ItemProcessor"]["States"]
    assert flow["IdentifyPHI"]["Next"] == "AnonymizeOrDeidentify"
    assert {c["Next"] for c in flow["AnonymizeOrDeidentify"]["Choices"]} == {
        "Anonymize",
        "Deidentify",
    }


def test_the_state_machine_passes_the_states_language_schema() -> None:
    from cfnlint.api import lint

    definition = json.dumps(_asl())
    for name in placeholders(definition):
        definition = definition.replace(
            "${" + name + "}", f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
        )
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "RoleArn": "arn:aws:iam::123456789012:role/sfn",
                    "Definition": json.loads(definition),
                },
            }
        },
    }
    assert [str(m) for m in lint(json.dumps(template))] == []
    broken = json.loads(json.dumps(template))
    broken["Resources"]["Machine"]["Properties"]["Definition"]["States"]["OneOrMany"]["Type"] = (
        "Switch"
    )
    assert lint(json.dumps(broken)) != []


def test_the_checker_finds_what_it_is_for() -> None:
    good = _asl()
    flow = good["States"]["ForEachNote"]["ItemProcessor"]["States"]
    bad = copy.deepcopy(good)
    bad_flow = bad["States"]["ForEachNote"]["ItemProcessor"]["States"]
    bad_flow["Orphan"] = {"Type": "Pass", "End": True}
    del bad_flow["Deidentify"]["Catch"]
    bad_flow["Anonymize"]["Retry"][0]["ErrorEquals"] = ["States.Timeout"]
    bad_flow["UnknownAction"]["Next"] = "Nowhere"
    del bad_flow["UnknownAction"]["End"]
    found = problems(bad, retry_on=TRANSIENT)
    assert any("Orphan: unreachable" in p for p in found)
    assert any("Deidentify: Task without a Catch" in p for p in found)
    assert any("Anonymize: no Retry with backoff on DeadlineExceeded" in p for p in found)
    assert any("'Nowhere', which is not a state" in p for p in found)
    assert flow  # the real one is untouched

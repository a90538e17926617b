"""The docs/iam policies, scoped: each role's real AWS calls checked with their ARNs and conditions.

test_iam.py enforces the policies on moto_server, but moto authorizes every DynamoDB and
KMS request as Resource "*" and evaluates no service condition key, so it proves only the split
of actions between roles. Here each role's command runs in-process against moto_server (no IAM
enforcement); every botocore call is recorded on its way to the server and turned into the
authorization requests AWS makes for it: IAM action, the real table or key ARN, and the condition
context (`kms:EncryptionContext:*`, `dynamodb:LeadingKeys`). Each request is evaluated against the
policy files as written. moto's `IAMPolicy` cannot do that evaluation (it ignores ForAllValues,
passes a StringEquals whose key is missing, and turns a failed condition into an explicit Deny),
so a small evaluator of exactly the policy language the files use lives here, with its own tests.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import boto3
import botocore.client
import pytest
from click.testing import CliRunner

from support.dynamodb_server import fake_aws_env
from support.moto_server import moto_server

REPO = Path(__file__).resolve().parents[2]
IAM_DIR = REPO / "docs" / "iam"
ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
TABLE = "phiguard-vault"
KEYS_TABLE = f"{TABLE}-keys"
AUDIT_TABLE = f"{TABLE}-audit"
NOTE = "Carlos Salazar, seen 11/12/2011 by Dr. Sarkar.\n"
PSEUDONYM_SLOT = "pseudonym-v1"
LEADING_KEYS = "dynamodb:LeadingKeys"
PURPOSE = "kms:EncryptionContext:phiguard:purpose"

#: The policy files each role is given (README: writer-consistent is added to writer).
ROLES: dict[str, tuple[str, ...]] = {
    "writer": ("writer",),
    "writer-consistent": ("writer", "writer-consistent"),
    "reidentifier": ("reidentifier",),
    "auditor": ("auditor",),
    "key-administrator": ("key-administrator",),
}

Policy = Mapping[str, Any]


# -- a policy evaluator for the subset of IAM the docs/iam files use ---------------------------


@dataclass(frozen=True)
class Request:
    """One authorization AWS makes for a call: an action on a resource, with condition context."""

    action: str
    resource: str
    context: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.action} on {self.resource} with {dict(self.context)}"


_STATEMENT_KEYS = {"Sid", "Effect", "Action", "Resource", "Condition"}
_QUALIFIERS = ("", "ForAllValues", "ForAnyValue")


def _listed(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _glob(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM wildcards: `*` any run of characters, `?` one character, everything else literal."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL | (re.IGNORECASE if ignore_case else 0)) is not None


_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda wanted, actual: wanted == actual,
    "StringLike": _glob,
}


def _statements(policy: Policy) -> list[Mapping[str, Any]]:
    statements = policy["Statement"]
    listed: list[Mapping[str, Any]] = [statements] if isinstance(statements, dict) else statements
    for st in listed:
        unsupported = set(st) - _STATEMENT_KEYS
        if unsupported or st["Effect"] not in ("Allow", "Deny"):
            raise ValueError(f"the test's evaluator does not read {sorted(unsupported)}: {st}")
    return listed


def conditions_hold(block: Mapping[str, Mapping[str, Any]], context: Mapping[str, Any]) -> bool:
    """AND over operators and keys, OR over a key's values; set qualifiers as AWS defines them.

    A plain operator on a missing key is false; `ForAllValues` on a missing or empty key is
    true (every one of no values matches); `ForAnyValue` on it is false. Condition key names are
    case-insensitive, values are compared as written.
    """
    lowered = {k.lower(): v for k, v in context.items()}
    for name, tests in block.items():
        qualifier, _, operator = name.rpartition(":")
        if qualifier not in _QUALIFIERS or operator not in _OPERATORS:
            raise ValueError(f"the test's evaluator does not read the condition operator {name}")
        compare = _OPERATORS[operator]
        for key, wanted in tests.items():
            actual: tuple[str, ...] = lowered.get(key.lower(), ())
            wanted_values = [str(w) for w in _listed(wanted)]
            hits = [any(compare(w, v) for w in wanted_values) for v in actual]
            if qualifier == "ForAllValues":
                ok = all(hits)
            elif qualifier == "ForAnyValue":
                ok = any(hits)
            elif len(actual) > 1:
                raise ValueError(f"{name} on the multivalued key {key}: use a set qualifier")
            else:
                ok = hits == [True]
            if not ok:
                return False
    return True


def _applies(st: Mapping[str, Any], request: Request) -> bool:
    return (
        any(_glob(a, request.action, ignore_case=True) for a in _listed(st["Action"]))
        and any(_glob(r, request.resource) for r in _listed(st["Resource"]))
        and conditions_hold(st.get("Condition", {}), request.context)
    )


def is_allowed(policies: Sequence[Policy], request: Request) -> bool:
    """An explicit Deny wins, else any matching Allow; nothing matching is an implicit deny."""
    allowed = False
    for policy in policies:
        for st in _statements(policy):
            if _applies(st, request):
                if st["Effect"] == "Deny":
                    return False
                allowed = True
    return allowed


# -- recording the calls and mapping them to authorization requests ----------------------------


@dataclass(frozen=True)
class Call:
    """One botocore API call as sent, and its response (None if it raised)."""

    service: str
    operation: str
    params: Mapping[str, Any]
    response: Mapping[str, Any] | None


@contextmanager
def recording() -> Iterator[list[Call]]:
    """Record every botocore call, then let it through to the server.

    boto3 clients and pynamodb's own botocore client both end in BaseClient._make_api_call
    (pynamodb calls it directly), which sees the service, operation and API parameters.
    """
    calls: list[Call] = []
    real = botocore.client.BaseClient._make_api_call  # type: ignore[attr-defined]

    def record(client: Any, operation: str, params: dict[str, Any]) -> Any:
        service = str(client.meta.service_model.service_name)
        try:
            response = real(client, operation, params)
        except Exception:
            calls.append(Call(service, operation, params, None))
            raise
        calls.append(Call(service, operation, params, response))
        return response

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(botocore.client.BaseClient, "_make_api_call", record)
        yield calls


def table_arn(name: str, account: str = ACCOUNT, region: str = REGION) -> str:
    return f"arn:aws:dynamodb:{region}:{account}:table/{name}"


def _scalar(attribute: Mapping[str, Any]) -> str:
    (value,) = attribute.values()  # {"S": "abc"} -> "abc"
    return str(value)


_KEY_EQUALS = re.compile(r"(#?[\w.]+)\s*=\s*(:\w+)")


def _query_leading_key(params: Mapping[str, Any], hash_key: str) -> str:
    names = params.get("ExpressionAttributeNames", {})
    values = params.get("ExpressionAttributeValues", {})
    found = [
        values[value]
        for name, value in _KEY_EQUALS.findall(params["KeyConditionExpression"])
        if names.get(name, name) == hash_key
    ]
    assert len(found) == 1, f"no {hash_key} = :v in {params['KeyConditionExpression']}"
    return _scalar(found[0])


def _leading_keys(call: Call, table: str, hash_key: str) -> tuple[str, ...]:
    p = call.params
    if call.operation in ("GetItem", "DeleteItem", "UpdateItem"):
        return (_scalar(p["Key"][hash_key]),)
    if call.operation == "PutItem":
        return (_scalar(p["Item"][hash_key]),)
    if call.operation == "Query":
        return (_query_leading_key(p, hash_key),)
    if call.operation == "BatchWriteItem":
        ops = p["RequestItems"][table]
        items = [
            o["PutRequest"]["Item"] if "PutRequest" in o else o["DeleteRequest"]["Key"] for o in ops
        ]
        return tuple(dict.fromkeys(_scalar(i[hash_key]) for i in items))
    if call.operation == "BatchGetItem":
        return tuple(dict.fromkeys(_scalar(k[hash_key]) for k in p["RequestItems"][table]["Keys"]))
    return ()  # Scan, DescribeTable, ...: no item key, so no dynamodb:LeadingKeys


def _kms_context(encryption_context: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    context: dict[str, tuple[str, ...]] = {
        f"kms:EncryptionContext:{k}": (v,) for k, v in encryption_context.items()
    }
    if encryption_context:
        context["kms:EncryptionContextKeys"] = tuple(encryption_context)
    return context


def requests_for(call: Call, hash_keys: Mapping[str, str]) -> list[Request]:
    """The authorization requests AWS makes for `call`; an unknown kind of call fails the test."""
    p = call.params
    if call.service == "sts" and call.operation == "GetCallerIdentity":
        return []  # needs no permission
    if call.service == "dynamodb":
        if call.operation in ("BatchWriteItem", "BatchGetItem"):
            tables = list(p["RequestItems"])
        else:
            tables = [p["TableName"]]
        requests = []
        for table in tables:
            keys = _leading_keys(call, table, hash_keys[table])
            context = {LEADING_KEYS: keys} if keys else {}
            requests.append(Request(f"dynamodb:{call.operation}", table_arn(table), context))
        return requests
    if call.service == "kms":
        # a Decrypt/ReEncrypt names no key: KMS authorizes the key of the ciphertext, which
        # its answer reports as an ARN (as GenerateDataKey does for an alias or bare key id)
        assert call.response is not None, f"kms:{call.operation} failed: no key ARN to check"
        if call.operation == "ReEncrypt":
            return [
                Request(
                    "kms:ReEncryptFrom",
                    call.response["SourceKeyId"],
                    _kms_context(p.get("SourceEncryptionContext", {})),
                ),
                Request(
                    "kms:ReEncryptTo",
                    call.response["KeyId"],
                    _kms_context(p.get("DestinationEncryptionContext", {})),
                ),
            ]
        context = _kms_context(p.get("EncryptionContext", {}))
        return [Request(f"kms:{call.operation}", call.response["KeyId"], context)]
    raise AssertionError(f"no IAM mapping for {call.service}:{call.operation}")


# -- the recorded world ------------------------------------------------------------------------


@dataclass
class World:
    """The recorded calls of each role's command, and what is needed to read the policies."""

    key_arn: str  # the KMS key the writers use (KEY_ID, OLD_KEY_ID)
    new_key_arn: str  # the key rotate-key re-wraps to (NEW_KEY_ID)
    hash_keys: dict[str, str]
    calls: dict[str, list[Call]] = field(repr=False)

    def requests(self, role: str) -> list[Request]:
        return [r for c in self.calls[role] for r in requests_for(c, self.hash_keys)]

    def policies(self, role: str) -> list[Policy]:
        return [self.policy(name) for name in ROLES[role]]

    def policy(self, name: str) -> Policy:
        """The policy file with its placeholders filled in; nothing else changed."""
        values = {
            "REGION": REGION,
            "ACCOUNT": ACCOUNT,
            "KEY_ID": self.key_arn.rsplit("/", 1)[1],
            "OLD_KEY_ID": self.key_arn.rsplit("/", 1)[1],
            "NEW_KEY_ID": self.new_key_arn.rsplit("/", 1)[1],
        }
        text = (IAM_DIR / f"{name}.json").read_text()
        text = re.sub(
            r"\b(?:REGION|ACCOUNT|OLD_KEY_ID|NEW_KEY_ID|KEY_ID)\b", lambda m: values[m[0]], text
        )
        assert not re.search(r"\b[A-Z][A-Z_]*_ID\b|\bREGION\b|\bACCOUNT\b", text), text
        doc: Policy = json.loads(text)
        return doc

    def resource(self, name: str) -> str:
        """A resource by its short name in the tables below."""
        tables = {"VAULT": TABLE, "KEYS": KEYS_TABLE, "AUDIT": AUDIT_TABLE}
        if name in tables:
            return table_arn(tables[name])
        return {"KEY": self.key_arn, "NEW_KEY": self.new_key_arn}[name]


def _invoke(*args: str) -> tuple[str, list[Call]]:
    """`phiguard ARGS` in-process, recorded; the root logger is put back as it was."""
    from phiguard_cli.main import cli

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        with recording() as calls:
            result = CliRunner().invoke(cli, list(args))
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.stdout, calls


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Each role's command run once against moto_server, in the order a deployment sees them."""
    work = tmp_path_factory.mktemp("iam-scoping")
    with fake_aws_env(), moto_server() as ep, pytest.MonkeyPatch.context() as mp:
        mp.setenv("PHIGUARD_HOME", str(work / "home"))  # no local key: every key comes from KMS
        mp.delenv("PHIGUARD_KEY", raising=False)
        mp.setenv("AWS_ENDPOINT_URL_KMS", ep)
        mp.setenv("AWS_ENDPOINT_URL_STS", ep)
        kms = boto3.client("kms", region_name=REGION, endpoint_url=ep)
        key, new_key = (kms.create_key()["KeyMetadata"]["Arn"] for _ in range(2))
        _invoke("vault", "create-table", "--table", TABLE, "--endpoint-url", ep)  # administrator
        ddb = boto3.client("dynamodb", region_name=REGION, endpoint_url=ep)
        hash_keys = {
            t: next(
                k["AttributeName"]
                for k in ddb.describe_table(TableName=t)["Table"]["KeySchema"]
                if k["KeyType"] == "HASH"
            )
            for t in (TABLE, KEYS_TABLE, AUDIT_TABLE)
        }
        note = work / "note.txt"
        note.write_text(NOTE)
        store = ("--store", "dynamodb", "--table", TABLE, "--endpoint-url", ep)
        deid = ("deid", *store, "--kms-key-id", key, "--out")
        calls: dict[str, list[Call]] = {role: [] for role in ROLES}

        calls["writer"] += _invoke(*deid, str(work / "plain.deid"), str(note))[1]
        # the first --consistent run creates the pseudonym key, the second unwraps it
        for name in ("linked-1.deid", "linked-2.deid"):
            calls["writer-consistent"] += _invoke(
                *deid, str(work / name), "--consistent", str(note)
            )[1]
        for name in ("plain.deid", "linked-1.deid"):
            out, made = _invoke("reid", *store, str(work / name))
            assert out == NOTE, "the recorded calls really reached the server"
            calls["reidentifier"] += made
        out, calls["auditor"] = _invoke("vault", "audit", *store, "--format", "json")
        assert [r["action"] for r in json.loads(out)] == ["reid", "reid"]
        # the second rotate-key is a resumed one: keys already under the new KMS key are
        # re-wrapped again (KmsKeyring.rewrap), so it needs kms:ReEncryptFrom on that key too
        for _ in range(2):
            out, made = _invoke("vault", "rotate-key", *store, "--kms-key-id", new_key)
            calls["key-administrator"] += made
        rewraps = [c for c in calls["key-administrator"] if c.operation == "ReEncrypt"]
        assert len(rewraps) == 8, "three data keys and the pseudonym key, twice"
        yield World(key, new_key, hash_keys, calls)


# -- the evaluator reads policies as AWS does --------------------------------------------------

_ARN = table_arn(TABLE)
_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234"


def _st(action: str | list[str], resource: str | list[str], **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


_DATA_ONLY = {"StringEquals": {PURPOSE: "data"}}
_SLOT_ONLY = {"ForAllValues:StringEquals": {LEADING_KEYS: [PSEUDONYM_SLOT]}}

EVALUATOR_CASES = [
    ("exact resource", [_st("dynamodb:Query", _ARN)], Request("dynamodb:Query", _ARN), True),
    (
        "another table",
        [_st("dynamodb:Query", _ARN)],
        Request("dynamodb:Query", table_arn("other-vault")),
        False,
    ),
    (
        "action names ignore case",
        [_st("DynamoDB:query", _ARN)],
        Request("dynamodb:Query", _ARN),
        True,
    ),
    ("another action", [_st("dynamodb:Query", _ARN)], Request("dynamodb:Scan", _ARN), False),
    (
        "resource wildcard",
        [_st("dynamodb:Query", table_arn("phiguard-*"))],
        Request("dynamodb:Query", table_arn(KEYS_TABLE)),
        True,
    ),
    (
        "resources are case-sensitive",
        [_st("dynamodb:Query", table_arn("PHIGUARD-vault"))],
        Request("dynamodb:Query", _ARN),
        False,
    ),
    (
        "a dot is a dot, not any character",
        [_st("dynamodb:Query", table_arn("a.b"))],
        Request("dynamodb:Query", table_arn("axb")),
        False,
    ),
    (
        "StringEquals holds",
        [_st("kms:Decrypt", _KEY, Condition=_DATA_ONLY)],
        Request("kms:Decrypt", _KEY, {PURPOSE: ("data",)}),
        True,
    ),
    (
        "StringEquals, other value",
        [_st("kms:Decrypt", _KEY, Condition=_DATA_ONLY)],
        Request("kms:Decrypt", _KEY, {PURPOSE: ("pseudonym",)}),
        False,
    ),
    (
        "StringEquals, key missing",
        [_st("kms:Decrypt", _KEY, Condition=_DATA_ONLY)],
        Request("kms:Decrypt", _KEY),
        False,
    ),
    (
        "StringEquals, one of a list",
        [_st("kms:Decrypt", _KEY, Condition={"StringEquals": {PURPOSE: ["data", "pseudonym"]}})],
        Request("kms:Decrypt", _KEY, {PURPOSE: ("pseudonym",)}),
        True,
    ),
    (
        "condition keys ignore case",
        [_st("kms:Decrypt", _KEY, Condition={"StringEquals": {PURPOSE.upper(): "data"}})],
        Request("kms:Decrypt", _KEY, {PURPOSE: ("data",)}),
        True,
    ),
    (
        "StringLike",
        [_st("kms:Decrypt", _KEY, Condition={"StringLike": {PURPOSE: "da*"}})],
        Request("kms:Decrypt", _KEY, {PURPOSE: ("data",)}),
        True,
    ),
    (
        "a failed condition is no Deny: another Allow still grants",
        [
            _st("kms:Decrypt", _KEY, Condition=_DATA_ONLY),
            _st("kms:Decrypt", _KEY, Condition={"StringEquals": {PURPOSE: "pseudonym"}}),
        ],
        Request("kms:Decrypt", _KEY, {PURPOSE: ("pseudonym",)}),
        True,
    ),
    (
        "an explicit Deny wins",
        [_st("kms:Decrypt", _KEY), {**_st("kms:*", "*"), "Effect": "Deny"}],
        Request("kms:Decrypt", _KEY),
        False,
    ),
    (
        "ForAllValues, all in the set",
        [_st("dynamodb:GetItem", _ARN, Condition=_SLOT_ONLY)],
        Request("dynamodb:GetItem", _ARN, {LEADING_KEYS: (PSEUDONYM_SLOT,)}),
        True,
    ),
    (
        "ForAllValues, one outside the set",
        [_st("dynamodb:GetItem", _ARN, Condition=_SLOT_ONLY)],
        Request("dynamodb:GetItem", _ARN, {LEADING_KEYS: (PSEUDONYM_SLOT, "abc")}),
        False,
    ),
    (
        "ForAllValues, key missing: vacuously true, as in AWS",
        [_st("dynamodb:GetItem", _ARN, Condition=_SLOT_ONLY)],
        Request("dynamodb:GetItem", _ARN),
        True,
    ),
    (
        "ForAnyValue, key missing",
        [
            _st(
                "dynamodb:GetItem",
                _ARN,
                Condition={"ForAnyValue:StringEquals": {LEADING_KEYS: "x"}},
            )
        ],
        Request("dynamodb:GetItem", _ARN),
        False,
    ),
]


@pytest.mark.parametrize(
    ("statements", "request_", "expected"),
    [case[1:] for case in EVALUATOR_CASES],
    ids=[case[0] for case in EVALUATOR_CASES],
)
def test_the_evaluator_reads_policies_as_aws_does(
    statements: list[dict[str, Any]], request_: Request, expected: bool
) -> None:
    """The evaluator's semantics, each case one rule of AWS's policy evaluation logic."""
    assert is_allowed([{"Version": "2012-10-17", "Statement": statements}], request_) is expected


@pytest.mark.parametrize(
    "statement",
    [
        _st("kms:Decrypt", _KEY, Condition={"StringNotEquals": {PURPOSE: "data"}}),
        _st("kms:Decrypt", _KEY, Condition={"StringEqualsIfExists": {PURPOSE: "data"}}),
        {"Effect": "Allow", "Action": "kms:Decrypt", "NotResource": _KEY},
    ],
    ids=["operator", "IfExists", "NotResource"],
)
def test_the_evaluator_refuses_what_it_does_not_read(statement: dict[str, Any]) -> None:
    """A policy edit outside the evaluator's subset fails loudly instead of being misread."""
    policy = {"Version": "2012-10-17", "Statement": [statement]}
    with pytest.raises(ValueError, match="does not read"):
        is_allowed([policy], Request("kms:Decrypt", _KEY, {PURPOSE: ("data",)}))


# -- the policies against the recorded calls ---------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_call_is_allowed_with_its_real_arn_and_context(world: World, role: str) -> None:
    """The policies suffice with their resource scoping and conditions on."""
    requests = world.requests(role)
    assert requests, f"{role}: no call recorded"
    denied = [str(r) for r in requests if not is_allowed(world.policies(role), r)]
    assert not denied, f"{role}'s command needs more than its policy grants:\n" + "\n".join(denied)


def _elsewhere(world: World, role: str, request: Request) -> list[Request]:
    """`request` aimed at another table or KMS key, the same one in another account or region,
    and, for the roles that use one KMS key, at the key-administrator's new key."""
    other = "other-vault" if request.action.startswith("dynamodb:") else "0000-other-key"
    prefix, _, _ = request.resource.rpartition("/")
    moved = [
        f"{prefix}/{other}",
        request.resource.replace(f":{ACCOUNT}:", ":210987654321:"),
        request.resource.replace(f":{REGION}:", ":eu-west-1:"),
    ]
    if request.action.startswith("kms:") and role != "key-administrator":
        moved.append(world.new_key_arn)
    return [replace(request, resource=r) for r in moved]


@pytest.mark.parametrize("role", ROLES)
def test_the_same_calls_aimed_elsewhere_are_refused(world: World, role: str) -> None:
    """Resource scoping restricts: no grant covers another table, key, account or region."""
    allowed = [
        str(moved)
        for request in world.requests(role)
        for moved in _elsewhere(world, role, request)
        if is_allowed(world.policies(role), moved)
    ]
    assert not allowed, f"{role}'s policy reaches beyond its resources:\n" + "\n".join(allowed)


def _with_purpose(request: Request, purpose: str | None) -> Request:
    context = {k: v for k, v in request.context.items() if k.startswith("dynamodb:")}
    if purpose is not None:
        context.update({PURPOSE: (purpose,), "kms:EncryptionContextKeys": ("phiguard:purpose",)})
    return replace(request, context=context)


@pytest.mark.parametrize("role", ["writer", "writer-consistent", "reidentifier"])
def test_kms_calls_are_bound_to_their_encryption_context(world: World, role: str) -> None:
    """A data-key role's KMS grants hold only for phiguard's purposes, and Decrypt for its own.

    writer-consistent may unwrap the pseudonym key but no data key; the reidentifier the data
    keys but not the pseudonym key; no KMS call passes with a foreign or missing context.
    """
    policies = world.policies(role)
    kms_requests = [r for r in world.requests(role) if r.action.startswith("kms:")]
    assert kms_requests
    for request in kms_requests:
        for purpose in ("other", None):
            assert not is_allowed(policies, _with_purpose(request, purpose)), (request, purpose)
    decrypts = [r for r in kms_requests if r.action == "kms:Decrypt"]
    if role == "writer":
        assert not decrypts, "a writer never unwraps a data key"
        return
    own = "pseudonym" if role == "writer-consistent" else "data"
    assert decrypts and all(r.context[PURPOSE] == (own,) for r in decrypts)
    other = "data" if own == "pseudonym" else "pseudonym"
    for request in decrypts:
        assert not is_allowed(policies, _with_purpose(request, other)), request


def test_the_linking_writer_reads_only_the_pseudonym_slot(world: World) -> None:
    """dynamodb:LeadingKeys keeps writer-consistent's GetItem on the `pseudonym-v1` item."""
    gets = [r for r in world.requests("writer-consistent") if r.action == "dynamodb:GetItem"]
    assert gets and all(r.context[LEADING_KEYS] == (PSEUDONYM_SLOT,) for r in gets)
    data_slots = [
        r.context[LEADING_KEYS][0]
        for r in world.requests("writer")
        if r.action == "dynamodb:PutItem" and r.resource == table_arn(KEYS_TABLE)
    ]
    assert data_slots, "the writer stored the wrapped data key of its run"
    linker, writer = world.policies("writer-consistent"), world.policies("writer")
    for leading in [(data_slots[0],), (PSEUDONYM_SLOT, data_slots[0])]:
        assert not is_allowed(linker, replace(gets[0], context={LEADING_KEYS: leading}))
    assert not is_allowed(writer, gets[0]), "a plain writer reads no key slot at all"


def test_a_writer_may_remove_rows_it_names(world: World) -> None:
    """Orphan rows of a failed run are removed with DeleteRequests in BatchWriteItem: the same
    IAM action as the writer's puts, so writer.json covers it and no reader gains it."""
    key = {"MessageHash": {"S": "0" * 64}, "EntityHash": {"S": "1" * 64}}
    params = {"RequestItems": {TABLE: [{"DeleteRequest": {"Key": key}}]}}
    (request,) = requests_for(Call("dynamodb", "BatchWriteItem", params, {}), world.hash_keys)
    assert request == Request(
        "dynamodb:BatchWriteItem", table_arn(TABLE), {LEADING_KEYS: ("0" * 64,)}
    )
    assert is_allowed(world.policies("writer"), request)
    for role in ("reidentifier", "auditor", "key-administrator"):
        assert not is_allowed(world.policies(role), request), role


_ITEM_READS = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem"]
_ITEM_WRITES = [
    "dynamodb:PutItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:UpdateItem",
]
_TABLE_ADMIN = ["dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:UpdateTable"]
_KMS_USE = ["kms:Decrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:ReEncryptTo"]

#: (role, action, resource) that must be refused whatever the context.
NEGATIVE: list[tuple[str, str, str]] = [
    *(("writer", a, "VAULT") for a in _ITEM_READS),
    *(("writer", a, "KEYS") for a in ["dynamodb:GetItem", "dynamodb:Scan"]),
    *(("writer", a, "AUDIT") for a in [*_ITEM_READS, *_ITEM_WRITES]),
    ("writer", "kms:Decrypt", "KEY"),
    *(("writer-consistent", a, "VAULT") for a in _ITEM_READS),
    ("writer-consistent", "dynamodb:Scan", "KEYS"),
    *(("reidentifier", a, "VAULT") for a in _ITEM_WRITES),
    *(("reidentifier", a, "KEYS") for a in _ITEM_WRITES),
    *(("reidentifier", a, "AUDIT") for a in [*_ITEM_READS, *_ITEM_WRITES[1:]]),
    ("reidentifier", "kms:GenerateDataKey", "KEY"),
    *(("auditor", a, t) for a in [*_ITEM_READS, *_ITEM_WRITES] for t in ("VAULT", "KEYS")),
    *(("auditor", a, "AUDIT") for a in _ITEM_WRITES),
    *(("auditor", a, k) for a in _KMS_USE for k in ("KEY", "NEW_KEY")),
    *(("key-administrator", a, "VAULT") for a in [*_ITEM_READS, *_ITEM_WRITES]),
    *(("key-administrator", a, "AUDIT") for a in [*_ITEM_READS, *_ITEM_WRITES]),
    *(
        ("key-administrator", a, k)
        for a in ["kms:Decrypt", "kms:GenerateDataKey"]
        for k in ("KEY", "NEW_KEY")
    ),
    *((role, a, t) for role in ROLES for a in _TABLE_ADMIN for t in ("VAULT", "KEYS", "AUDIT")),
]

#: The contexts a refused request is tried with: none, and each value some policy admits.
_CONTEXTS: list[dict[str, tuple[str, ...]]] = [
    {},
    {LEADING_KEYS: (PSEUDONYM_SLOT,)},
    {PURPOSE: ("data",)},
    {PURPOSE: ("pseudonym",)},
]


@pytest.mark.parametrize(
    ("role", "action", "resource"), NEGATIVE, ids=[" ".join(n) for n in NEGATIVE]
)
def test_what_each_role_cannot_do(world: World, role: str, action: str, resource: str) -> None:
    """The split between roles, now with the real ARNs and the conditions evaluated."""
    for context in _CONTEXTS:
        request = Request(action, world.resource(resource), context)
        assert not is_allowed(world.policies(role), request), request


#: Grants no recorded call uses: metadata only (DescribeTable, kept because pynamodb may describe
#: a table it has not seen), or a key administrator's way back to the old key (ReEncryptTo on
#: it). Listed, so that a *new* unused grant (least privilege slipping) fails.
GRANTED_BUT_UNUSED: dict[str, set[tuple[str, str]]] = {
    "writer": {("dynamodb:DescribeTable", "VAULT")},
    "writer-consistent": {("dynamodb:DescribeTable", "VAULT")},
    "reidentifier": {("dynamodb:DescribeTable", "VAULT")},
    "auditor": {("dynamodb:DescribeTable", "AUDIT")},
    "key-administrator": {("kms:ReEncryptTo", "KEY")},
}


@pytest.mark.parametrize("role", ROLES)
def test_every_grant_is_used_by_the_command(world: World, role: str) -> None:
    """Least privilege the other way round: each (action, resource) granted is one the command
    was seen to use under the statement's conditions, apart from the few listed above."""
    requests = world.requests(role)
    names = {world.resource(n): n for n in ("VAULT", "KEYS", "AUDIT", "KEY", "NEW_KEY")}
    unused: set[tuple[str, str]] = set()
    for policy in world.policies(role):
        for st in _statements(policy):
            for action in _listed(st["Action"]):
                for resource in _listed(st["Resource"]):
                    one: dict[str, Any] = {
                        "Effect": "Allow",
                        "Action": action,
                        "Resource": resource,
                    }
                    if "Condition" in st:
                        one["Condition"] = st["Condition"]
                    if not any(_applies(one, r) for r in requests):
                        unused.add((action, names.get(resource, resource)))
    assert unused == GRANTED_BUT_UNUSED[role], f"{role}: granted, not used: {sorted(unused)}"

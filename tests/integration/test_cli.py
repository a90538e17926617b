"""The CLI as a user runs it, outside the test process: a real child process, a real
DynamoDB-compatible server. The in-process CLI tests are in tests/unit/test_cli.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from support.gold import gold_words


def test_no_traceback_from_a_real_process(tmp_path: Path) -> None:
    """The installed command, as a user runs it."""
    proc = subprocess.run(
        [sys.executable, "-m", "phiguard_cli", "mask", str(tmp_path / "absent.txt")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 3
    assert proc.stderr.strip() == f"phiguard: error: {tmp_path / 'absent.txt'}: file not found"


@pytest.mark.dynamodb
def test_dynamodb_store_round_trip_and_raw_layout(
    run: Any,
    phiguard_home: Path,
    dynamodb_endpoint: str,
    sample_text: str,
    clinical_notes: list[dict[str, Any]],
    bulk_notes: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    import boto3

    table = "cli-vault"
    server = ["--endpoint-url", dynamodb_endpoint, "--region", "us-east-1"]
    opts = ["--store", "dynamodb", "--table", table, *server]
    r = run("deid", *opts, "-", stdin=b"Carlos Salazar was seen on 11/12/2011.\n")
    assert r.code == 5 and "does not exist" in r.err
    r = run("vault", "create-table", "--table", table, *server)
    assert r.code == 0, r.err
    src = tmp_path / "note.txt"
    src.write_text(sample_text)
    out = tmp_path / "note.deid"
    r = run("deid", *opts, str(src), "--out", str(out))
    assert r.code == 0, r.err
    r = run("reid", *opts, str(out))
    assert r.code == 0 and r.out == sample_text.encode()

    notes = bulk_notes[:200]  # the invented notes and 170 synthetic ones: ~2,000 rows
    jl = tmp_path / "notes.jsonl"
    jl.write_text("".join(json.dumps({"id": n["id"], "text": n["text"]}) + "\n" for n in notes))
    deid = tmp_path / "notes.deid"
    assert run("deid", *opts, "--jsonl", str(jl), "--out", str(deid)).code == 0
    r = run("reid", *opts, "--jsonl", str(deid))
    assert [json.loads(x)["text"] for x in r.text.splitlines()] == [n["text"] for n in notes]

    client = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, region_name="us-east-1")
    desc = client.describe_table(TableName=table)["Table"]
    assert {k["AttributeName"]: k["KeyType"] for k in desc["KeySchema"]} == {
        "MessageHash": "HASH",
        "EntityHash": "RANGE",
    }
    items = client.scan(TableName=table)["Items"]
    assert items and all("B" in i["Entity"] for i in items)
    # string attributes as JSON, binary ones as bytes (base64 text would match short words
    # by chance)
    raw = json.dumps(items, default=lambda b: "<binary>")
    blob = b"".join(i["Entity"]["B"] for i in items)
    for word in gold_words(s for n in clinical_notes for s in n["spans"]):
        if len(word) > 3 and not word.isdigit():
            assert word not in raw and word.encode() not in blob

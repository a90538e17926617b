"""Consistent pseudonyms through the CLI (child processes) and into a real DynamoDB-compatible
server; the in-process tests are in tests/unit/test_pseudonym.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from phiguard import Deidentifier, Sealer, Span
from phiguard.keys.pseudonym import Pseudonymizer, derive_pseudonym_key
from support.detectors import FixedDetector

KEY = b"\x07" * 32
HEX64 = re.compile(r"[0-9a-f]{64}")


def test_cli_consistent_links_records(phiguard_home: Path, tmp_path: Path) -> None:
    records = [
        {"id": 1, "text": "Seen by Dr. Jackson on 3/4/2011."},
        {"id": 2, "text": "Dr. Jackson called back."},
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in records))
    args = [sys.executable, "-m", "phiguard_cli", "deid", "--jsonl", str(src)]
    env = dict(os.environ)
    a = subprocess.run([*args, "--consistent"], capture_output=True, check=False, env=env)
    b = subprocess.run([*args, "--consistent"], capture_output=True, check=False, env=env)
    plain = subprocess.run(args, capture_output=True, check=False, env=env)
    assert a.returncode == b.returncode == plain.returncode == 0, a.stderr
    assert a.stdout == b.stdout, "same input, same key: same output across runs"
    t1, t2 = (HEX64.findall(json.loads(x)["text"]) for x in a.stdout.decode().splitlines())
    assert set(t1) & set(t2), "the name shared by both notes has one token"
    p1, p2 = (HEX64.findall(json.loads(x)["text"]) for x in plain.stdout.decode().splitlines())
    assert not set(p1) & set(p2), "default mode stays unlinkable"
    deid = tmp_path / "deid.jsonl"
    deid.write_bytes(a.stdout)
    r = subprocess.run(
        [sys.executable, "-m", "phiguard_cli", "reid", "--jsonl", str(deid)],
        capture_output=True,
        check=False,
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert [json.loads(x) for x in r.stdout.decode().splitlines()] == records


@pytest.mark.dynamodb
def test_identical_notes_in_one_dynamodb_put(dynamodb_endpoint: str) -> None:
    """In consistent mode two identical notes give the same (message, token) keys with
    different ciphertexts (fresh nonces): a batch holding both must still be stored."""
    from phiguard.audit import Auditor, MemoryAuditLog
    from phiguard.reid import reidentify
    from phiguard.vaults.dynamodb.vault import DynamoDBVault, create_table

    create_table("consistent-vault", endpoint_url=dynamodb_endpoint)
    vault = DynamoDBVault("consistent-vault", endpoint_url=dynamodb_endpoint)
    d = Deidentifier(
        FixedDetector([Span(0, 7, "NAME")]),
        sealer=Sealer(KEY),
        pseudonymizer=Pseudonymizer(derive_pseudonym_key(KEY)),
    )
    text = "Salazar was seen."
    a = d.tokenize(text, d.detect(text))
    b = d.tokenize(text, d.detect(text))
    assert a.text == b.text
    vault.put(Deidentifier.records(a, Sealer(KEY)) + Deidentifier.records(b, Sealer(KEY)))
    assert reidentify(a.text, vault, Sealer(KEY), Auditor(MemoryAuditLog(), "t")) == text

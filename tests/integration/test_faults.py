"""Faults: a vault server dying mid-batch, a throttling storm, a writer killed with SIGKILL.

The invariant each test holds: a note that was released (printed or written) has its mapping
stored and re-identifies; a failure is reported as a clear error; re-running finishes the job.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from phiguard import Deidentifier, Sealer
from phiguard.detectors.comprehend.detector import ComprehendDetector
from phiguard.transform import message_hash
from phiguard.vaults.sqlite import SQLiteVault
from support.cli import cli
from support.dynamodb_server import REPO_ROOT, fake_aws_env, free_port, server_command, stop

TABLE = "faults-vault"


@contextmanager
def dynalite_on(path: Path, port: int) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A dynalite server persisting to `path` (LevelDB), so a restart keeps the table; a
    restart uses the same port, as a real endpoint keeps its address."""
    cmd = server_command(port)
    if cmd is None or "dynalite" not in cmd[0]:
        pytest.fail("these fault tests need dynalite (npm ci) for a persistent server")
    proc = subprocess.Popen(
        [*cmd, "--path", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=REPO_ROOT,
    )
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("dynamodb", endpoint_url=endpoint)
    deadline = time.monotonic() + 30
    while True:
        try:
            client.list_tables()
            break
        except Exception:
            if time.monotonic() > deadline or proc.poll() is not None:
                stop(proc)
                pytest.fail("dynalite did not start")
            time.sleep(0.1)
    try:
        yield endpoint, proc
    finally:
        stop(proc)


def _item_count(endpoint: str) -> int:
    client = boto3.client("dynamodb", endpoint_url=endpoint)
    return int(client.scan(TableName=TABLE, Select="COUNT")["Count"])


def _dynamodb_keys(endpoint: str) -> list[tuple[str, str]]:
    client = boto3.client("dynamodb", endpoint_url=endpoint)
    pages = client.get_paginator("scan").paginate(
        TableName=TABLE, ConsistentRead=True, ProjectionExpression="MessageHash, EntityHash"
    )
    return [
        (item["MessageHash"]["S"], item["EntityHash"]["S"])
        for page in pages
        for item in page["Items"]
    ]


def _sqlite_keys(db: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(db)
    try:
        return [(m, t) for m, t in conn.execute("SELECT message_hash, token FROM vault")]
    finally:
        conn.close()


def _texts(jsonl: bytes) -> list[str]:
    return [json.loads(line)["text"] for line in jsonl.decode().splitlines()]


def assert_rows_exactly_of(keys: list[tuple[str, str]], released: list[str]) -> None:
    """No orphan: every row belongs to a released note, and holds one of its tokens.
    No duplicate: one note, one mapping (a re-run did not add a second set beside the first)."""
    by_hash = {message_hash(t): t for t in released}
    orphans = [(m, t) for m, t in keys if m not in by_hash]
    assert not orphans, f"{len(orphans)} orphan row(s) of {len({m for m, _ in orphans})} note(s)"
    assert all(t in by_hash[m] for m, t in keys)
    assert len(set(keys)) == len(keys)


@pytest.mark.dynamodb
@pytest.mark.parametrize("to_file", [False, True], ids=["stdout", "out-file"])
def test_dynamodb_server_killed_mid_batch(
    tmp_path: Path, phiguard_home: Path, bulk_notes: list[dict[str, Any]], to_file: bool
) -> None:
    """The server dies mid-run: a clear error (exit 5), notes printed before it re-identify,
    an `--out` file is not written at all; a re-run after the restart removes the rows of the
    notes that were never released and finishes, leaving no orphan or duplicate row."""
    notes = bulk_notes[:200]  # invented and synthetic notes: ~2,000 PHI rows in 4 groups of 64
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(n) + "\n" for n in notes))
    by_id = {n["id"]: n["text"] for n in notes}
    data = tmp_path / "leveldb"
    port = free_port()
    target = tmp_path / "out.jsonl"
    to_out = ["--out", str(target)] if to_file else []
    with fake_aws_env():
        with dynalite_on(data, port) as (endpoint, server):
            opts = ["--store", "dynamodb", "--table", TABLE, "--endpoint-url", endpoint]
            r = cli("vault", "create-table", "--table", TABLE, "--endpoint-url", endpoint)
            assert r.returncode == 0, r.stderr

            def kill_when_rows_appear() -> None:
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    try:
                        if _item_count(endpoint) >= 800:  # the first group (~500 rows) is out
                            break
                    except Exception:
                        pass
                    time.sleep(0.05)
                server.send_signal(signal.SIGKILL)

            killer = threading.Thread(target=kill_when_rows_appear)
            killer.start()
            run = cli("deid", *opts, "--jsonl", str(src), *to_out)
            killer.join()
        stderr = run.stderr.decode()
        assert run.returncode == 5, stderr
        assert "Traceback" not in stderr
        assert "cannot reach" in stderr, stderr
        assert len(stderr.strip().splitlines()) == 1, "one line"
        assert list((phiguard_home / "journal").rglob("*.journal")), "kept for the next run"
        released = _texts(run.stdout)
        if to_file:
            assert not released and not target.exists(), "nothing is released from a failed run"
        else:
            assert 0 < len(released) < len(notes), "the server died mid-way"

        with dynalite_on(data, port) as (endpoint, _):
            opts = ["--store", "dynamodb", "--table", TABLE, "--endpoint-url", endpoint]
            assert len(_dynamodb_keys(endpoint)) > 0
            # every released note's rows survived the crash: it re-identifies
            if released:
                out = tmp_path / "released.jsonl"
                out.write_bytes(run.stdout)
                back = cli("reid", *opts, "--jsonl", str(out))
                assert back.returncode == 0, back.stderr
                for line in back.stdout.decode().splitlines():
                    rec = json.loads(line)
                    assert rec["text"] == by_id[rec["id"]]
            # re-running removes the orphans first, then finishes the job
            again = cli("deid", *opts, "--jsonl", str(src), *to_out)
            assert again.returncode == 0, again.stderr
            assert "unreleased note(s) left by 1 interrupted run" in again.stderr.decode()
            out = target if to_file else tmp_path / "all.jsonl"
            if not to_file:
                out.write_bytes(again.stdout)
            back = cli("reid", *opts, "--jsonl", str(out))
            assert back.returncode == 0, back.stderr
            assert _texts(back.stdout) == [n["text"] for n in notes]
            assert_rows_exactly_of(_dynamodb_keys(endpoint), released + _texts(out.read_bytes()))


def test_comprehend_throttling_storm_loses_no_note(tmp_path: Path) -> None:
    """A third of DetectPHI calls answer TooManyRequestsException: every note still goes out."""
    client = boto3.client(
        "comprehendmedical",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    notes = [f"Patient Maria Lopez{i} seen on 3/{i % 28 + 1}/2011." for i in range(30)]
    slept: list[float] = []
    with Stubber(client) as stub:
        for i, text in enumerate(notes):
            if i % 3 == 0:
                stub.add_client_error(
                    "detect_phi", "TooManyRequestsException", "Rate exceeded", 400
                )
            name = text[8 : text.index(" seen")]
            stub.add_response(
                "detect_phi",
                {
                    "Entities": [
                        {
                            "Id": 0,
                            "BeginOffset": 8,
                            "EndOffset": 8 + len(name),
                            "Score": 0.99,
                            "Text": name,
                            "Category": "PROTECTED_HEALTH_INFORMATION",
                            "Type": "NAME",
                        }
                    ],
                    "ModelVersion": "test",
                },
                {"Text": text},
            )
        detector = ComprehendDetector(client=client, sleep=slept.append)
        vault = SQLiteVault(tmp_path / "v.db")
        d = Deidentifier(detector, vault=vault, sealer=Sealer(b"\x05" * 32))
        outs = [d.deidentify(t) for t in notes]
        stub.assert_no_pending_responses()
    assert len(slept) == 10, "one backoff per throttled call"
    assert all("Lopez" not in o.text for o in outs)
    assert [d.reidentify(o.text) for o in outs] == notes


@pytest.mark.parametrize("to_file", [False, True], ids=["stdout", "out-file"])
def test_sqlite_writer_killed_with_sigkill(
    tmp_path: Path, bulk_notes: list[dict[str, Any]], to_file: bool
) -> None:
    """kill -9 a real `phiguard deid` mid-run: the vault stays consistent, every note released
    on stdout re-identifies, and a re-run completes. With `--out` nothing was released, so the
    re-run first removes every row of the killed run: the vault then holds exactly one mapping
    per note of the final output."""
    home = tmp_path / "home"
    env = dict(os.environ, PHIGUARD_HOME=str(home))
    env.pop("PHIGUARD_KEY", None)
    notes = bulk_notes
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(n) + "\n" for n in notes))
    by_id = {n["id"]: n["text"] for n in notes}
    target = tmp_path / "out.jsonl"
    to_out = ["--out", str(target)] if to_file else []
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "phiguard_cli", "deid", "--jsonl", str(src), *to_out],
            stdout=out,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        db = home / "vault.db"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if db.exists():
                try:
                    n = (
                        sqlite3.connect(db, timeout=1)
                        .execute("SELECT count(*) FROM vault")
                        .fetchone()[0]
                    )
                except sqlite3.Error:
                    n = 0
                if n >= 50:
                    break
            time.sleep(0.02)
        assert proc.poll() is None, "the run ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        out.seek(0)
        lines = out.read().decode("utf-8", "replace").splitlines()
    # a line cut by the kill is not released: keep only whole records
    released = []
    for line in lines:
        with suppress(json.JSONDecodeError):
            released.append(json.loads(line))
    assert len(released) < len(notes)
    conn = sqlite3.connect(home / "vault.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    left_behind = _sqlite_keys(db)
    if to_file:
        assert not released and not target.exists() and left_behind
    if released:
        rel = tmp_path / "released.jsonl"
        rel.write_text("".join(json.dumps(r) + "\n" for r in released))
        back = cli("reid", "--jsonl", str(rel), env=env)
        assert back.returncode == 0, back.stderr
        for line in back.stdout.decode().splitlines():
            rec = json.loads(line)
            assert rec["text"] == by_id[rec["id"]]
    again = cli("deid", "--jsonl", str(src), *to_out, env=env)
    assert again.returncode == 0, again.stderr
    rel = target if to_file else tmp_path / "all.jsonl"
    if not to_file:
        rel.write_bytes(again.stdout)
    back = cli("reid", "--jsonl", str(rel), env=env)
    assert back.returncode == 0, back.stderr
    assert _texts(back.stdout) == [n["text"] for n in notes]
    if to_file:
        assert "unreleased note(s) left by 1 interrupted run" in again.stderr.decode()
        assert_rows_exactly_of(_sqlite_keys(db), _texts(rel.read_bytes()))
    else:
        # stdout releases a group when it is marked, just before printing it: a kill in
        # between leaves at most that group's rows, and never deletes a printed note's rows
        printed = [r["text"] for r in released] + _texts(rel.read_bytes())
        stray = {m for m, _ in _sqlite_keys(db)} - {message_hash(t) for t in printed}
        assert len(stray) <= 64

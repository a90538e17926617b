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

from dynamodb_server import REPO_ROOT, fake_aws_env, free_port, server_command, stop
from phiguard import Deidentifier, Sealer
from phiguard.detectors.comprehend import ComprehendDetector
from phiguard.vaults.sqlite import SQLiteVault

TABLE = "faults-vault"


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "phiguard_cli", *args],
        capture_output=True,
        check=False,
        env=env or dict(os.environ),
    )


@contextmanager
def dynalite_on(path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A dynalite server persisting to `path` (LevelDB), so a restart keeps the table."""
    port = free_port()
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


@pytest.mark.dynamodb
def test_dynamodb_server_killed_mid_batch(
    tmp_path: Path, phiguard_home: Path, dev_notes: list[dict[str, Any]]
) -> None:
    notes = [{"id": n["id"], "text": n["text"]} for n in dev_notes[:400]]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(n) + "\n" for n in notes))
    by_id = {n["id"]: n["text"] for n in notes}
    data = tmp_path / "leveldb"
    with fake_aws_env():
        with dynalite_on(data) as (endpoint, server):
            opts = ["--store", "dynamodb", "--table", TABLE, "--endpoint-url", endpoint]
            r = cli("vault", "create-table", "--table", TABLE, "--endpoint-url", endpoint)
            assert r.returncode == 0, r.stderr

            def kill_when_rows_appear() -> None:
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    try:
                        if _item_count(endpoint) >= 20:
                            break
                    except Exception:
                        pass
                    time.sleep(0.05)
                server.send_signal(signal.SIGKILL)

            killer = threading.Thread(target=kill_when_rows_appear)
            killer.start()
            run = cli("deid", *opts, "--jsonl", str(src))
            killer.join()
        stderr = run.stderr.decode()
        assert run.returncode in (5, 9), stderr
        assert "Traceback" not in stderr
        assert "cannot reach" in stderr, stderr
        released = [json.loads(line) for line in run.stdout.decode().splitlines()]
        assert 0 < len(released) < len(notes), "the server died mid-way"

        with dynalite_on(data) as (endpoint, _):
            opts = ["--store", "dynamodb", "--table", TABLE, "--endpoint-url", endpoint]
            # every released note's rows survived the crash: it re-identifies
            if released:
                out = tmp_path / "released.jsonl"
                out.write_text("".join(json.dumps(r) + "\n" for r in released))
                back = cli("reid", *opts, "--jsonl", str(out))
                assert back.returncode == 0, back.stderr
                for line in back.stdout.decode().splitlines():
                    rec = json.loads(line)
                    assert rec["text"] == by_id[rec["id"]]
            # re-running finishes the job
            again = cli("deid", *opts, "--jsonl", str(src))
            assert again.returncode == 0, again.stderr
            out = tmp_path / "all.jsonl"
            out.write_bytes(again.stdout)
            back = cli("reid", *opts, "--jsonl", str(out))
            assert back.returncode == 0, back.stderr
            assert [json.loads(x)["text"] for x in back.stdout.decode().splitlines()] == [
                n["text"] for n in notes
            ]


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


def test_sqlite_writer_killed_with_sigkill(tmp_path: Path, dev_notes: list[dict[str, Any]]) -> None:
    """kill -9 a real `phiguard deid` mid-run: the vault stays consistent, every note released
    on stdout re-identifies, and a re-run completes."""
    home = tmp_path / "home"
    env = dict(os.environ, PHIGUARD_HOME=str(home))
    env.pop("PHIGUARD_KEY", None)
    notes = [{"id": n["id"], "text": n["text"]} for n in dev_notes]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(n) + "\n" for n in notes))
    by_id = {n["id"]: n["text"] for n in notes}
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "phiguard_cli", "deid", "--jsonl", str(src)],
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
    if released:
        rel = tmp_path / "released.jsonl"
        rel.write_text("".join(json.dumps(r) + "\n" for r in released))
        back = cli("reid", "--jsonl", str(rel), env=env)
        assert back.returncode == 0, back.stderr
        for line in back.stdout.decode().splitlines():
            rec = json.loads(line)
            assert rec["text"] == by_id[rec["id"]]
    again = cli("deid", "--jsonl", str(src), env=env)
    assert again.returncode == 0, again.stderr
    rel = tmp_path / "all.jsonl"
    rel.write_bytes(again.stdout)
    back = cli("reid", "--jsonl", str(rel), env=env)
    assert back.returncode == 0, back.stderr
    assert [json.loads(x)["text"] for x in back.stdout.decode().splitlines()] == [
        n["text"] for n in notes
    ]

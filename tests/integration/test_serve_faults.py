"""`phiguard serve` when things go wrong (issue 13): timeouts, guessing keys, a detector or
vault that is down, a server killed mid-batch, SIGTERM with requests in flight, TLS, and the
errors that stop it at startup. Every case: nothing released that is not stored, no PHI out."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import socket
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from support.serve_server import ServeProcess, add_key, free_port, running_server

NOTE = "Pt Carlos Salazar seen 11/12/2011 by Dr. Sarkar; daughter Maria Lopez, 617-555-0134."
PHI = ["Carlos", "Salazar", "Sarkar", "Maria Lopez", "617-555-0134", "11/12/2011"]
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "phiguard-test",
    "AWS_SECRET_ACCESS_KEY": "phiguard-test",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


def _no_phi(text: str) -> None:
    assert [p for p in PHI if p in text] == [], "PHI in output"


def _messages(db: Path) -> int:
    with sqlite3.connect(db) as c:
        return int(c.execute("SELECT COUNT(DISTINCT message_hash) FROM vault").fetchone()[0])


def _journals(home: Path) -> list[Path]:
    return list((home / "journal").rglob("*.journal")) if (home / "journal").exists() else []


def _notes(n: int, tag: str = "") -> list[dict[str, Any]]:
    return [{"id": i, "text": f"{NOTE} Visit {tag}{i}."} for i in range(n)]


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


# -- timeouts and guessing ----------------------------------------------------------------------


def test_timeout_and_failed_auth_limit(home: Path) -> None:
    key = add_key(home, "etl", "deid,mask")
    with ServeProcess(
        home, "--timeout", "0.5", "--auth-failures", "3", "--auth-window", "3"
    ) as srv:
        db = home / "vault.db"
        assert srv.post("/v1/deidentify", key, {"text": NOTE}).status_code == 200
        before = _messages(db)
        slow = {"records": [{"id": i, "text": NOTE * 20} for i in range(100)]}
        r = srv.post("/v1/deidentify", key, slow)
        assert r.status_code == 503, r.text[:300]
        assert r.json()["error"]["code"] == "timeout" and r.headers["retry-after"]
        _no_phi(r.text)
        deadline = time.monotonic() + 60  # the pipeline thread finishes, then rolls back
        while (_messages(db) != before or _journals(home)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _messages(db) == before, "a timed-out request left vault rows"
        assert _journals(home) == []
        assert srv.post("/v1/mask", key, {"text": NOTE}).status_code == 200  # still serving

        # three wrong keys, then this address is refused, right key or not
        for _ in range(3):
            assert srv.post("/v1/mask", "phg_guess" + "x" * 40, {"text": "a"}).status_code == 401
        blocked = srv.post("/v1/mask", key, {"text": "a"})
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
        time.sleep(int(blocked.headers["retry-after"]) + 0.2)
        assert srv.post("/v1/mask", key, {"text": "a"}).status_code == 200
        _no_phi(srv.log())


# -- a detector or a vault that is down ----------------------------------------------------------


def test_detector_down_is_503_and_nothing_is_released(home: Path) -> None:
    key = add_key(home, "etl", "detect,mask,deid")
    closed = free_port()  # nothing listens here: every DetectPHI call is refused
    env = {**FAKE_AWS, "AWS_ENDPOINT_URL_COMPREHENDMEDICAL": f"http://127.0.0.1:{closed}"}
    with ServeProcess(home, "--backend", "comprehend", env=env) as srv:
        for path in ("/v1/detect", "/v1/mask", "/v1/deidentify"):
            for body in ({"text": NOTE}, {"records": _notes(3)}):
                r = srv.post(path, key, body)
                assert r.status_code == 503, (path, r.text[:300])
                err = r.json()["error"]
                assert err["code"] == "detector_unavailable" and "Comprehend" in err["message"]
                assert set(r.json()) == {"error"}
                _no_phi(r.text)
        assert _messages(home / "vault.db") == 0
        _no_phi(srv.log())


def test_vault_down_is_503_and_nothing_is_released(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from phiguard.vaults.dynamodb.tables import create_companion_tables, create_table

    key = add_key(home, "etl", "mask,deid,reid")
    for name, value in FAKE_AWS.items():
        monkeypatch.setenv(name, value)
    with running_server() as (endpoint, dynalite):
        create_table("serve-vault", endpoint_url=endpoint)
        create_companion_tables("serve-vault", endpoint_url=endpoint)
        args = ("--store", "dynamodb", "--endpoint-url", endpoint, "--table", "serve-vault")
        with ServeProcess(home, *args, env=FAKE_AWS) as srv:
            deid = srv.post("/v1/deidentify", key, {"text": NOTE})
            assert deid.status_code == 200, deid.text
            back = srv.post("/v1/reidentify", key, {"text": deid.json()["text"]})
            assert back.json() == {"text": NOTE}

            dynalite.terminate()
            dynalite.wait(timeout=10)
            for body in ({"text": NOTE}, {"records": _notes(5)}):
                r = srv.post("/v1/deidentify", key, body)
                assert r.status_code == 503, r.text[:300]
                assert r.json()["error"]["code"] == "vault_unavailable"
                assert set(r.json()) == {"error"}, "no text, no token released"
                _no_phi(r.text)
            r = srv.post("/v1/reidentify", key, {"text": deid.json()["text"]})
            assert r.status_code == 503 and "text" not in r.json()
            assert srv.post("/v1/mask", key, {"text": NOTE}).status_code == 200  # needs no vault
            ready = srv.get("/readyz")
            assert ready.status_code == 503 and ready.json()["vault"] is False
            _no_phi(srv.log())


# -- crashes and shutdowns ---------------------------------------------------------------------


def test_a_server_killed_mid_batch_loses_no_mapping_of_a_released_note(home: Path) -> None:
    key = add_key(home, "etl", "deid,reid")
    released: list[tuple[str, str]] = []  # (original, de-identified) of every 200 answer
    sent = [0]
    lock = threading.Lock()
    stop = threading.Event()

    def client(srv: ServeProcess, worker: int) -> None:
        n = 0
        while not stop.is_set():
            batch = _notes(8, f"w{worker}-{n}-")
            n += 1
            with lock:
                sent[0] += len(batch)
            try:
                r = srv.post("/v1/deidentify", key, {"records": batch})
            except httpx.TransportError:
                return
            if r.status_code != 200:
                continue
            with lock:
                released.extend(
                    (b["text"], o["text"]) for b, o in zip(batch, r.json()["records"], strict=True)
                )

    with ServeProcess(home, workers=2) as srv:
        threads = [threading.Thread(target=client, args=(srv, w)) for w in range(3)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 120
        while len(released) < 48 and time.monotonic() < deadline:
            time.sleep(0.05)
        srv.kill()  # SIGKILL parent and workers, requests in flight
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert len(released) >= 48
    unanswered = sent[0] - len(released)

    with ServeProcess(home) as srv:
        for i in range(0, len(released), 200):
            chunk = released[i : i + 200]
            r = srv.post(
                "/v1/reidentify",
                key,
                {"records": [{"id": j, "text": d} for j, (_, d) in enumerate(chunk)]},
            )
            assert r.status_code == 200, r.text[:300]
            got = [rec.get("text") for rec in r.json()["records"]]
            assert got == [orig for orig, _ in chunk], "a released note lost its mapping"
        assert srv.post("/v1/deidentify", key, {"text": NOTE}).status_code == 200  # sweeps
    assert _journals(home) == []
    stored = _messages(home / "vault.db")
    assert len(released) + 1 <= stored <= len(released) + 1 + unanswered


def _tls_files(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_tls_and_sigterm_finishes_in_flight_requests(home: Path, tmp_path: Path) -> None:
    key = add_key(home, "etl", "deid,reid")
    cert, keyfile = _tls_files(tmp_path)
    ctx = ssl.create_default_context(cafile=str(cert))
    args = ("--certfile", str(cert), "--keyfile", str(keyfile))
    srv = ServeProcess(home, *args, scheme="https", verify=ctx, workers=2)
    with srv:
        assert srv.post("/v1/deidentify", key, {"text": NOTE}).status_code == 200
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{srv.port}/healthz", timeout=5)
        answer: dict[str, Any] = {}

        records = [{"id": i, "text": NOTE * 5} for i in range(300)]

        def slow() -> None:
            answer["r"] = srv.post("/v1/deidentify", key, {"records": records})

        def in_flight() -> float:
            metrics = srv.get("/metrics").text.splitlines()
            line = next(m for m in metrics if m.startswith("phiguard_http_requests_in_flight "))
            return float(line.split()[1])

        t = threading.Thread(target=slow)
        t.start()
        while in_flight() < 2 and t.is_alive():  # this probe is one; the batch the other
            time.sleep(0.02)
        assert t.is_alive(), "the batch finished before SIGTERM: make it longer"
        code = srv.stop()
        t.join(timeout=60)
        assert code == 0, srv.log()[-2000:]
        r = answer["r"]
        assert r.status_code == 200 and len(r.json()["records"]) == 300
        with pytest.raises(httpx.TransportError):
            srv.client.get("/healthz", timeout=5)
        assert "stopped by SIGTERM" in srv.log()
    assert _journals(home) == []


# -- startup errors: one line, the CLI's exit code, no traceback ---------------------------------


def _serve(home: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PHIGUARD_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "phiguard_cli", "serve", "--port", str(free_port()), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def test_startup_errors(home: Path, tmp_path: Path) -> None:
    add_key(home, "etl", "mask")
    cases = [
        (("--model", "no_such_model_xyz"), 4, "spaCy model 'no_such_model_xyz' is not installed"),
        (("--store", "memory"), 2, "pass --store sqlite or --store dynamodb"),
        (("--certfile", str(tmp_path / "c.pem")), 2, "TLS needs both"),
        (("--api-keys", str(tmp_path / "nope.json")), 3, "not found"),
    ]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"keys": "Carlos Salazar"}))
    cases.append((("--api-keys", str(bad)), 3, "not a phiguard API key file"))
    for args, code, words in cases:
        done = _serve(home, *args)
        assert done.returncode == code, (args, done.stderr[-1500:])
        lines = [ln for ln in done.stderr.splitlines() if ln.startswith("phiguard: error:")]
        assert len(lines) == 1 and words in lines[0], (args, done.stderr[-1500:])
        assert "Traceback" not in done.stderr and "Salazar" not in done.stderr


def test_port_in_use(home: Path) -> None:
    add_key(home, "etl", "mask")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "PHIGUARD_HOME": str(home)}
        done = subprocess.run(
            [sys.executable, "-m", "phiguard_cli", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            env=env,
            timeout=180,
            check=False,
        )
    assert done.returncode == 2, done.stderr[-1500:]
    assert "the server did not start" in done.stderr and "Traceback" not in done.stderr

"""`phiguard serve` as its callers meet it (issue 13): a real server process on 127.0.0.1, real
API keys and OIDC tokens, every scope against every endpoint, bad bodies and limits, round
trips, and no PHI in any error body or log line."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from phiguard.serve.apikeys import SCOPES as ALL_SCOPES
from phiguard.serve.routes import SCOPES as ROUTES
from support.oidc import IdentityProvider
from support.serve_server import ServeProcess, add_key

NOTES = [
    "Pt Carlos Salazar seen 11/12/2011 by Dr. Sarkar, MRN 4452781.",
    "Daughter Maria Lopez called from 617-555-0134 about her father.",
    "Vitals stable, 500 mg given at 14:00.",
]
PHI = ["Carlos", "Salazar", "Sarkar", "4452781", "Maria Lopez", "617-555-0134", "11/12/2011"]


@dataclass
class Api:
    srv: ServeProcess
    keys: dict[str, str]  # scope (or "all", "revoked") → key
    idp: IdentityProvider


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    home = tmp_path_factory.mktemp("serve-api") / "home"
    home.mkdir()
    keys = {s: add_key(home, f"only-{s}", s) for s in ALL_SCOPES}
    keys["all"] = add_key(home, "everything", ",".join(ALL_SCOPES))
    keys["revoked"] = add_key(home, "gone", ",".join(ALL_SCOPES))
    with (
        IdentityProvider() as idp,
        ServeProcess(
            home,
            "--max-body-mb",
            "1",
            "--auth-failures",
            "100000",
            "--max-records",
            "50",
            *idp.args(),
            global_args=("--debug",),
        ) as srv,
    ):
        from phiguard.serve import apikeys

        apikeys.revoke(home / "api-keys.json", "gone")
        yield Api(srv, keys, idp)


def _no_phi(text: str) -> None:
    leaked = [p for p in PHI if p in text]
    assert leaked == [], f"PHI in output: {len(leaked)} value(s)"


# -- round trips ------------------------------------------------------------------------------


def test_deidentify_then_reidentify_is_exact_one_note_and_batch(api: Api) -> None:
    key = api.keys["all"]
    r = api.srv.post("/v1/deidentify", key, {"text": NOTES[0]})
    assert r.status_code == 200, r.text
    doc = r.json()
    _no_phi(doc["text"])
    assert [s["type"] for s in doc["spans"]][:2] == ["NAME", "DATE"]
    assert api.srv.post("/v1/reidentify", key, {"text": doc["text"]}).json() == {"text": NOTES[0]}

    records = [{"id": f"n{i}", "text": t} for i, t in enumerate(NOTES)] + [{"id": 9, "text": ""}]
    r = api.srv.post("/v1/deidentify", key, {"records": records})
    assert r.status_code == 200, r.text
    out = r.json()["records"]
    assert [o["id"] for o in out] == ["n0", "n1", "n2", 9]
    _no_phi(json.dumps(out))
    back = api.srv.post(
        "/v1/reidentify", key, {"records": [{"id": o["id"], "text": o["text"]} for o in out]}
    ).json()["records"]
    assert [b["text"] for b in back] == [r["text"] for r in records]


def test_offsets_are_code_points_and_text_round_trips_beyond_the_bmp(api: Api) -> None:
    note = "🩺 Pt Carlos Salazar (患者) seen 11/12/2011 😀 by Dr. Sarkar.\r\n\ttab"
    key = api.keys["all"]
    spans = api.srv.post("/v1/detect", key, {"text": note}).json()["spans"]
    assert {note[s["start"] : s["end"]] for s in spans} >= {"Carlos Salazar", "11/12/2011"}
    masked = api.srv.post("/v1/mask", key, {"text": note}).json()["text"]
    assert len(masked) == len(note) and masked.startswith("🩺 Pt ##############")
    deid = api.srv.post("/v1/deidentify", key, {"text": note}).json()["text"]
    assert api.srv.post("/v1/reidentify", key, {"text": deid}).json()["text"] == note


def test_per_request_options(api: Api) -> None:
    key = api.keys["all"]
    note = NOTES[0]
    label = api.srv.post("/v1/mask", key, {"text": note, "style": "label"}).json()["text"]
    assert label.startswith("Pt [NAME] seen [DATE] by Dr. [NAME]")
    dates = api.srv.post("/v1/detect", key, {"text": note, "entities": ["DATE"]}).json()
    assert [s["type"] for s in dates["spans"]] == ["DATE"]
    allowed = api.srv.post("/v1/mask", key, {"text": note, "allow": ["sarkar"]}).json()["text"]
    assert "Dr. Sarkar" in allowed and "Salazar" not in allowed
    denied = api.srv.post("/v1/mask", key, {"text": NOTES[2], "deny": ["500 mg"]}).json()
    assert denied["text"].startswith("Vitals stable, ###### given") and denied["spans"][0][
        "source"
    ] == ("deny-list")
    high = api.srv.post("/v1/detect", key, {"text": note, "threshold": 1.0}).json()["spans"]
    assert high == []
    # span text is PHI: only with the reid scope
    with_text = api.srv.post("/v1/detect", key, {"text": note, "include_text": True}).json()
    assert with_text["spans"][0]["text"] == "Carlos Salazar"
    r = api.srv.post("/v1/detect", api.keys["detect"], {"text": note, "include_text": True})
    assert r.status_code == 403 and "reid" in r.json()["error"]["message"]
    assert "text" not in api.srv.post("/v1/detect", key, {"text": note}).json()["spans"][0]


def test_concurrent_requests_each_get_their_own_answer(api: Api) -> None:
    """Requests waiting together share one detection pass: each must get its own records,
    in its order, with its own options."""
    from concurrent.futures import ThreadPoolExecutor

    key = api.keys["all"]
    bodies: list[tuple[str, dict[str, object]]] = []
    for i in range(24):
        note = f"{NOTES[i % 3]} Visit {i}."
        if i % 4 == 0:
            recs = [{"id": f"{i}-{j}", "text": f"{NOTES[j]} Bed {i}{j}."} for j in range(3)]
            bodies.append(("/v1/mask", {"records": recs, "style": "label"}))
        elif i % 4 == 1:
            bodies.append(("/v1/detect", {"text": note, "include_text": True}))
        elif i % 4 == 2:
            bodies.append(("/v1/mask", {"text": note, "entities": ["DATE"]}))
        else:
            bodies.append(("/v1/mask", {"text": note}))
    expected = [api.srv.post(path, key, body).json() for path, body in bodies]
    with ThreadPoolExecutor(12) as pool:
        got = list(pool.map(lambda pb: api.srv.post(pb[0], key, pb[1]).json(), bodies))
    assert got == expected
    assert "one mask pass for" in api.srv.log(), "no two requests shared a pass"


def test_mask_exactly_the_given_spans(api: Api) -> None:
    key = api.keys["mask"]
    note = "😀 Ann Lee, Bob"
    body = {"text": note, "spans": [{"start": 2, "end": 9, "type": "NAME"}], "style": "label"}
    r = api.srv.post("/v1/mask", key, body)
    assert r.status_code == 200, r.text
    assert r.json()["text"] == "😀 [NAME], Bob"
    body["spans"] = [{"start": 2, "end": 99}]
    r = api.srv.post("/v1/mask", key, body)
    assert r.status_code == 422 and "not inside the text" in r.json()["error"]["message"]
    r = api.srv.post("/v1/mask", key, {"records": [{"text": note}], "spans": []})
    assert r.status_code == 422


def test_reid_failures_are_409_alone_and_per_record_in_a_batch(api: Api) -> None:
    key = api.keys["all"]
    good = api.srv.post("/v1/deidentify", key, {"text": NOTES[1]}).json()["text"]
    forged = "Pt " + "ab" * 32 + " seen today."
    r = api.srv.post("/v1/reidentify", key, {"text": forged})
    assert r.status_code == 409 and r.json()["error"]["code"] == "reid_incomplete"
    r = api.srv.post(
        "/v1/reidentify", key, {"records": [{"id": 1, "text": forged}, {"id": 2, "text": good}]}
    )
    assert r.status_code == 200
    first, second = r.json()["records"]
    assert first["error"]["status"] == 409 and "text" not in first
    assert second == {"id": 2, "text": NOTES[1]}


def test_surrogates_round_trip_and_keep_a_patients_intervals(api: Api) -> None:
    key = api.keys["all"]
    notes = ["Admitted 03/02/2012 by Dr. Sarkar.", "Discharged 03/09/2012, Dr. Sarkar."]
    r = api.srv.post(
        "/v1/surrogate",
        key,
        {"records": [{"id": i, "text": t} for i, t in enumerate(notes)], "patient_id": "p-17"},
    )
    assert r.status_code == 200, r.text
    out = [rec["text"] for rec in r.json()["records"]]
    assert all("Sarkar" not in t and "03/0" not in t for t in out), out
    import datetime as dt
    import re as _re

    days = [
        dt.datetime.strptime(_re.search(r"\d\d/\d\d/\d{4}", t).group(), "%m/%d/%Y") for t in out
    ]
    assert (days[1] - days[0]).days == 7, "the interval between a patient's dates is kept"
    back = api.srv.post("/v1/reidentify", key, {"records": [{"text": t} for t in out]})
    assert [rec["text"] for rec in back.json()["records"]] == notes


def test_known_phi_per_request_and_per_record(api: Api) -> None:
    key = api.keys["all"]
    note = "pt quixley resting; QUIXLEY, ZED to follow up. Brother Ivo Quixley called."
    r = api.srv.post("/v1/mask", key, {"text": note, "known": {"NAME": "Zed Quixley"}})
    assert r.status_code == 200 and "quixley" not in r.json()["text"].lower()
    r = api.srv.post(
        "/v1/detect", key, {"records": [{"text": note, "known": "Zed Quixley"}, {"text": note}]}
    )
    with_known, without = (len(rec["spans"]) for rec in r.json()["records"])
    assert with_known >= without
    r = api.srv.post("/v1/mask", key, {"text": note, "known": {"SHOE_SIZE": "9"}})
    assert r.status_code == 422 and "quixley" not in r.text.lower()


# -- authorization -----------------------------------------------------------------------------


def test_every_scope_against_every_endpoint(api: Api) -> None:
    srv, keys = api.srv, api.keys
    deid_text = srv.post("/v1/deidentify", keys["all"], {"text": NOTES[0]}).json()["text"]
    bodies = {
        "/v1/detect": {"text": NOTES[0]},
        "/v1/mask": {"text": NOTES[0]},
        "/v1/deidentify": {"text": NOTES[0]},
        "/v1/surrogate": {"text": NOTES[0]},
        "/v1/reidentify": {"text": deid_text},
    }
    assert {path for _, path in ROUTES} == {*bodies, "/v1/audit", "/v1/me"}, "matrix incomplete"

    def call(method: str, path: str, header: str | None) -> int:
        headers = {} if header is None else {"authorization": header}
        if method == "GET":
            return srv.get(path, headers=headers).status_code
        return srv.post(path, None, bodies[path], headers=headers).status_code

    allowed = {200}
    for (method, path), needed in ROUTES.items():
        for scope in ALL_SCOPES:
            got = call(method, path, f"Bearer {keys[scope]}")
            if needed is None or needed == scope:
                assert got in allowed, (path, scope, got)
            else:
                assert got == 403, (path, scope, got)
        assert call(method, path, f"Bearer {keys['all']}") in allowed, path
        for bad in (
            None,
            "",
            f"Basic {keys['all']}",
            "Bearer",
            "Bearer phg_" + "A" * 43,
            f"Bearer {keys['revoked']}",
            f"Bearer {keys['all']}x",
            "Bearer not.a.token",
        ):
            assert call(method, path, bad) == 401, (path, bad and bad[:12])


def test_401_and_403_bodies(api: Api) -> None:
    r = api.srv.post("/v1/mask", None, {"text": NOTES[0]})
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["error"]["code"] == "unauthenticated"
    r = api.srv.post("/v1/reidentify", api.keys["deid"], {"text": NOTES[0]})
    assert r.status_code == 403 and r.json()["error"]["message"].endswith("'reid' scope")
    me = api.srv.get("/v1/me", api.keys["deid"]).json()
    assert me == {"actor": "api-key:only-deid", "scopes": ["deid"]}


def test_oidc_tokens(api: Api) -> None:
    srv, idp = api.srv, api.idp
    token = idp.token("dr-lee", "openid phiguard:mask phiguard:reid phiguard:deid")
    assert srv.get("/v1/me", token).json() == {
        "actor": "oidc:dr-lee",
        "scopes": ["deid", "mask", "reid"],
    }
    assert srv.post("/v1/mask", token, {"text": NOTES[0]}).status_code == 200
    assert srv.post("/v1/detect", token, {"text": NOTES[0]}).status_code == 403
    deid = srv.post("/v1/deidentify", token, {"text": NOTES[1]}).json()["text"]
    assert srv.post("/v1/reidentify", token, {"text": deid}).status_code == 200
    audit = srv.get("/v1/audit", api.keys["audit"]).json()["records"]
    assert audit[-1]["actor"] == "oidc:dr-lee"
    _no_phi(json.dumps(audit))
    for bad in (
        idp.token(expires_in=-120),
        idp.token(audience="someone-else"),
        idp.token(issuer="https://evil.test"),
        idp.token(forged=True),
        idp.token(kid="unknown-kid"),
    ):
        r = srv.post("/v1/mask", bad, {"text": NOTES[0]})
        assert r.status_code == 401, r.text
    assert srv.post("/v1/mask", idp.token(scope=None), {"text": NOTES[0]}).status_code == 403


def test_reid_is_audited_under_the_key_name_before_text_returns(api: Api) -> None:
    key = api.keys["all"]
    deid = api.srv.post("/v1/deidentify", key, {"text": NOTES[1]}).json()
    before = len(api.srv.get("/v1/audit", key).json()["records"])
    api.srv.post("/v1/reidentify", api.keys["reid"], {"text": deid["text"]})
    records = api.srv.get("/v1/audit", key).json()["records"]
    assert len(records) == before + 1
    last = records[-1]
    assert last["actor"] == "api-key:only-reid" and last["message_hashes"] == [deid["message_hash"]]
    assert last["values"] == len(deid["spans"])


# -- bad bodies and limits ---------------------------------------------------------------------


def test_bad_bodies_get_clear_phi_free_errors(api: Api) -> None:
    key = api.keys["all"]
    srv = api.srv
    cases: list[tuple[bytes | object, int, str]] = [
        (b'{"text": "Carlos Salazar', 400, "invalid_json"),
        (b'{"text": "Carlos Salazar \xff"}', 400, ""),
        (b"[1, 2]", 422, "invalid_request"),
        ({}, 422, "invalid_request"),
        ({"text": "Carlos", "records": []}, 422, "invalid_request"),
        ({"text": "Carlos Salazar", "Carlos Salazar": 1}, 422, "invalid_request"),
        ({"records": [{"text": "Carlos Salazar", "mrn 4452781": 1}]}, 422, "invalid_request"),
        ({"text": 42}, 422, "invalid_request"),
        ({"text": "Carlos\u0000Salazar"}, 422, "invalid_request"),
        (b'{"text": "Carlos Salazar \\ud800"}', 422, "invalid_request"),
        ({"text": "Carlos", "threshold": 2}, 422, "invalid_request"),
        ({"text": "Carlos", "entities": ["SALAZAR"]}, 422, "invalid_request"),
        ({"text": "Carlos", "style": "Salazar"}, 422, "invalid_request"),
        ({"records": [{"text": "x"}] * 51}, 422, "too_many_records"),
        (b'{"text": "a", "x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", 0, ""),
    ]
    for body, status, code in cases:
        r = srv.post("/v1/mask", key, body)
        shown = body[:40] if isinstance(body, bytes) else body
        if status:
            assert r.status_code == status, (shown, r.text[:300])
        else:
            assert r.status_code in (400, 422), (shown, r.text[:300])
        err = r.json()["error"]
        assert not code or err["code"] == code, (shown, err)
        _no_phi(r.text)
        assert "Traceback" not in r.text and "File " not in r.text
    nul = srv.post("/v1/mask", key, {"text": "Carlos\u0000Salazar"}).json()["error"]
    assert "NUL character at offset 6" in nul["details"][0]["msg"]


def test_media_type_and_method(api: Api) -> None:
    key = api.keys["all"]
    for ctype in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/json; charset=latin-1",
        "",
    ):
        r = api.srv.post("/v1/mask", key, {"text": NOTES[0]}, headers={"content-type": ctype})
        assert r.status_code == 415, ctype
    ok = api.srv.post(
        "/v1/mask",
        key,
        {"text": NOTES[2]},
        headers={"content-type": "application/json; charset=UTF-8"},
    )
    assert ok.status_code == 200
    assert api.srv.get("/v1/mask", key).status_code == 405
    assert api.srv.get("/v1/nothing-here", key).status_code == 404


def _raw(port: int, head: bytes, body: bytes = b"") -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(head + body)
        s.shutdown(socket.SHUT_WR) if body else None
        chunks = []
        while data := s.recv(65536):
            chunks.append(data)
    return b"".join(chunks)


def test_body_limit_413_before_the_body_is_read(api: Api) -> None:
    key = api.keys["all"]
    # a declared 5 GB body: refused from the headers alone, nothing sent after them
    head = (
        b"POST /v1/mask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer " + key.encode() + b"\r\nContent-Length: 5000000000\r\n\r\n"
    )
    answer = _raw(api.srv.port, head)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:100]
    assert b"body_too_large" in answer
    # a streamed (chunked) body that grows past 1 MB
    chunk = b"x" * 65536

    def stream() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(40):
            yield chunk

    r = api.srv.client.post(
        "/v1/mask",
        content=stream(),
        headers={"content-type": "application/json", "authorization": f"Bearer {key}"},
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"
    # just under the limit is fine
    body = json.dumps({"text": "a " * 400_000}).encode()
    assert len(body) < 1024 * 1024
    assert api.srv.post("/v1/mask", key, body).status_code == 200


# -- probes, metrics, docs ------------------------------------------------------------------------


def test_probes_metrics_and_docs(api: Api) -> None:
    srv = api.srv
    assert srv.post("/v1/mask", api.keys["mask"], {"text": NOTES[0]}).status_code == 200
    assert srv.post("/v1/mask", None, {"text": NOTES[0]}).status_code == 401
    assert srv.get("/healthz").json() == {"status": "ok"}
    ready = srv.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {
        "ready": True,
        "model": True,
        "vault": True,
    }
    metrics = srv.get("/metrics")
    assert metrics.status_code == 200
    text = metrics.text
    assert 'phiguard_http_requests_total{method="POST",route="/v1/mask",status="200"}' in text
    assert 'phiguard_http_requests_total{method="POST",route="/v1/mask",status="401"}' in text
    assert "phiguard_http_request_duration_seconds_bucket" in text
    assert 'phiguard_phi_spans_total{operation="mask",type="NAME"}' in text
    assert 'phiguard_auth_failures_total{reason="unauthenticated"}' in text
    assert 'route="other"' in text or "/v1/nothing-here" not in text
    _no_phi(text)
    spec = srv.get("/openapi.json").json()
    assert {p for p in spec["paths"] if p.startswith("/v1/")} == {p for _, p in ROUTES}
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert spec["paths"]["/v1/reidentify"]["post"]["security"] == [{"bearer": []}]
    assert "/openapi.json" in srv.get("/docs").text
    r = srv.post("/v1/mask", api.keys["mask"], {"text": NOTES[0]})
    assert r.headers["cache-control"] == "no-store" and r.headers["x-request-id"]
    mine = srv.post("/v1/mask", None, {}, headers={"x-request-id": "job-42.7"})
    assert mine.headers["x-request-id"] == "job-42.7" == mine.json()["error"]["request_id"]
    phi_id = srv.post("/v1/mask", None, {}, headers={"x-request-id": "Carlos Salazar"})
    assert "Carlos" not in phi_id.headers["x-request-id"]
    assert "server" not in r.headers


def test_api_key_commands(api: Api, tmp_path: Path) -> None:
    env = dict(api.srv.env)
    keys_file = tmp_path / "keys.json"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "phiguard_cli", "api-key", *args, "--api-keys", str(keys_file)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )

    made = cli("add", "etl-job", "--scopes", "mask,deid")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert key.startswith("phg_") and len(key) > 40 and key not in made.stderr
    assert key not in keys_file.read_text() and oct(keys_file.stat().st_mode)[-3:] == "600"
    listed = cli("list")
    assert listed.stdout.split("\t")[:2] == ["etl-job", "mask,deid"]
    assert "sha256" not in listed.stdout
    again = cli("add", "etl-job", "--scopes", "mask")
    assert again.returncode == 2 and again.stderr.count("\n") == 1
    bad = cli("add", "x", "--scopes", "mask,everything")
    assert bad.returncode == 2 and "unknown scope(s) everything" in bad.stderr
    assert cli("revoke", "etl-job").returncode == 0
    assert cli("revoke", "etl-job").returncode == 2
    assert cli("list").stdout == ""


def test_revoking_a_key_takes_effect_on_the_running_server(api: Api) -> None:
    keys_file = api.srv.home / "api-keys.json"
    key = add_key(api.srv.home, "short-lived", "mask")
    assert api.srv.post("/v1/mask", key, {"text": NOTES[2]}).status_code == 200
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "phiguard_cli",
            "api-key",
            "revoke",
            "short-lived",
            "--api-keys",
            str(keys_file),
        ],
        capture_output=True,
        text=True,
        env=api.srv.env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert api.srv.post("/v1/mask", key, {"text": NOTES[2]}).status_code == 401


def test_logs_hold_no_phi(api: Api) -> None:
    """Last in this module: every request above went through this server, run with --debug."""
    key = api.keys["all"]
    for note in NOTES:
        api.srv.post("/v1/mask", key, {"text": note})
        api.srv.post("/v1/mask", key, {"text": note, "bogus": note})
        api.srv.post(f"/v1/{note[:12]}?q={note}", key, {"text": note})
    log = api.srv.log()
    assert "POST /v1/mask 200" in log and "actor=api-key:everything" in log, log[-2000:]
    _no_phi(log)
    for key in api.keys.values():
        assert key not in log
    assert "Traceback" not in log

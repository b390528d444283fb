"""The admin REST API over real HTTP (requests): first-boot setup, login, auth failures,
CSRF, login rate limit, API tokens, params with a clasp-to client, metrics, config export
and import, invalid changes refused with the field, restart, and a power cut (kill -9) right
after a change."""

import asyncio
import json
import os
import signal
import time

import pytest
import requests

from admin_client import PASSWORD, Admin, admin_gateway, free_port, ready_admin
from test_python_client import barrier, close_all, connect


def test_first_boot_offers_only_setup(own_gateway):
    gateway = admin_gateway(own_gateway)
    assert "first visit: set the admin password there" in gateway.log()
    admin = Admin(gateway)
    page = admin.get("/")
    assert page.status_code == 200 and "set the admin password" in page.text
    assert admin.get("/healthz").text == "ok\n"
    state = admin.get("/api/auth").json()
    assert state["setup_required"] is True and state["authenticated"] is False
    refused = admin.get("/api/status")
    assert refused.status_code == 401 and "set the admin password first" in refused.json()["error"]
    assert admin.send("POST", "/api/auth/login", json={"password": PASSWORD}).status_code == 409

    short = admin.setup("short")
    assert short.status_code == 422
    assert short.json()["problems"] == [{"field": "password", "reason": "must be at least 8 characters"}]
    done = admin.setup()
    assert done.status_code == 200
    cookie = done.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert admin.get("/api/status").status_code == 200
    # Setup works once only, even for someone else.
    assert Admin(gateway).setup("another password").status_code == 409

    stored = json.loads((gateway.workdir / "data" / "admin-auth.json").read_text())
    assert stored["password"]["kdf"] == "scrypt" and PASSWORD not in json.dumps(stored)
    assert os.stat(gateway.workdir / "data" / "admin-auth.json").st_mode & 0o077 == 0


def test_login_failures_and_logout(own_gateway):
    gateway, _ = ready_admin(own_gateway)
    stranger = Admin(gateway)
    assert stranger.get("/api/bridges").status_code == 401
    assert stranger.get("/api/bridges", headers={"Authorization": "Bearer clasp_nonsense"}).status_code == 401
    assert stranger.get("/api/bridges", cookies={"clasp_admin": "f" * 64}).status_code == 401
    wrong = stranger.login("not the password")
    assert wrong.status_code == 401 and wrong.json()["problems"][0]["field"] == "password"
    assert stranger.login().status_code == 200
    assert stranger.get("/api/bridges").status_code == 200
    assert stranger.send("POST", "/api/auth/logout").status_code == 200
    assert stranger.get("/api/bridges").status_code == 401


def test_state_changes_need_the_csrf_token(own_gateway):
    gateway, admin = ready_admin(own_gateway)
    body = {"name": "ci"}
    missing = admin.send("POST", "/api/tokens", csrf=False, json=body)
    assert missing.status_code == 403 and "X-CSRF-Token" in missing.json()["error"]
    wrong = admin.send("POST", "/api/tokens", csrf=False, json=body, headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403
    foreign = admin.send("POST", "/api/tokens", json=body, headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403 and "cross-site" in foreign.json()["error"]
    # A cross-site HTML form cannot send JSON: login refuses form bodies.
    form = requests.post(admin.url("/api/auth/login"), data={"password": PASSWORD}, timeout=10)
    assert form.status_code == 415
    assert admin.get("/api/tokens").json() == []
    assert admin.send("POST", "/api/tokens", json=body).status_code == 201


def test_login_attempts_are_rate_limited(own_gateway):
    gateway, _ = ready_admin(own_gateway)
    attacker = Admin(gateway)
    codes = [attacker.login(f"guess number {n}").status_code for n in range(5)]
    assert codes == [401] * 5
    limited = attacker.login()
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 61
    # The right password is refused too while the limit holds.
    assert attacker.get("/api/status").status_code == 401


def test_api_tokens_work_without_a_session_and_can_be_revoked(own_gateway):
    gateway, admin = ready_admin(own_gateway)
    created = admin.send("POST", "/api/tokens", json={"name": "script"}).json()
    secret = created["token"]
    assert secret.startswith("clasp_")
    script = requests.Session()
    script.headers["Authorization"] = f"Bearer {secret}"
    base = admin.base
    # No CSRF token needed: a bearer token is not sent by browsers on their own.
    put = script.put(base + "/api/params/token/value", json={"value": 7}, timeout=10)
    assert put.status_code == 200, put.text
    params = script.get(base + "/api/params", params={"pattern": "/token/**"}, timeout=10).json()
    assert params[0]["address"] == "/token/value" and params[0]["value"] == 7
    assert admin.get("/api/tokens").json()[0]["name"] == "script"
    assert "token" not in admin.get("/api/tokens").json()[0]
    assert admin.send("DELETE", f"/api/tokens/{created['id']}").status_code == 200
    assert script.get(base + "/api/status", timeout=10).status_code == 401


def test_params_set_by_a_clasp_client_are_listed_and_streamed_live(own_gateway):
    gateway, admin = ready_admin(own_gateway)

    async def client_sets(values):
        client = await connect(gateway.url, name="stage-desk")
        try:
            for address, value in values:
                await client.set(address, value)
            await barrier(client)
        finally:
            await close_all(client)

    asyncio.run(client_sets([("/lights/1", 0.25), ("/lights/2", "red")]))
    listed = admin.get("/api/params", params={"pattern": "/lights/*"}).json()
    assert [(p["address"], p["value"], p["revision"]) for p in listed] == [("/lights/1", 0.25, 1), ("/lights/2", "red", 1)]
    assert all(p.get("writer") for p in listed)
    bad = admin.get("/api/params", params={"pattern": "lights"})
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "pattern"

    events = []
    with admin.http.get(admin.url("/api/monitor"), params={"pattern": "/lights/**"}, stream=True, timeout=10) as stream:
        assert stream.headers["Content-Type"] == "text/event-stream"
        lines = stream.iter_lines(decode_unicode=True)
        deadline = time.monotonic() + 10
        sent = False
        for line in lines:
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
            if not sent and len(events) >= 2:
                asyncio.run(client_sets([("/lights/1", 0.75)]))
                sent = True
            if any(e["address"] == "/lights/1" and e["value"] == 0.75 for e in events) or time.monotonic() > deadline:
                break
    assert {(e["address"], e["value"]) for e in events[:2]} == {("/lights/1", 0.25), ("/lights/2", "red")}
    assert events[-1] == {"type": "param", "address": "/lights/1", "value": 0.75, "revision": 2}

    assert admin.send("PUT", "/api/params/lights/3", json={"value": True}).status_code == 200
    assert admin.get("/api/params", params={"pattern": "/lights/3"}).json()[0]["value"] is True
    refused = admin.send("PUT", "/api/params/lights/3", json={})
    assert refused.status_code == 422 and refused.json()["problems"][0]["field"] == "value"


def test_metrics_status_transports_and_openapi(own_gateway):
    gateway, admin = ready_admin(own_gateway)
    assert admin.send("PUT", "/api/params/m/x", json={"value": 1.5}).status_code == 200
    metrics = admin.get("/metrics")
    assert metrics.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = metrics.text
    assert "# TYPE clasp_messages_received_total counter" in text
    set_count = [line for line in text.splitlines() if line.startswith('clasp_messages_received_total{type="SET"}')]
    assert set_count and int(set_count[0].split()[-1]) >= 1
    # The admin page's own session got WELCOME; every session that joined did.
    welcomes = [line for line in text.splitlines() if line.startswith('clasp_messages_sent_total{type="WELCOME"}')]
    assert welcomes and int(welcomes[0].split()[-1]) >= 1
    assert "clasp_sessions " in text and "process_resident_memory_bytes " in text
    assert "clasp_slow_consumer_closes_total 0" in text
    # The SET above reached the state store within its flush interval.
    deadline = time.monotonic() + 5
    while "clasp_store_write_seconds_count 0" in text and time.monotonic() < deadline:
        time.sleep(0.1)
        text = admin.get("/metrics").text
    assert "clasp_store_write_seconds_count 0" not in text and "clasp_store_write_seconds_sum " in text

    status = admin.get("/api/status").json()
    assert status["version"] and status["memory_rss_bytes"] > 1_000_000 and status["params"] == 1
    transports = admin.get("/api/transports").json()
    assert {(t["scheme"], t["port"]) for t in transports} >= {("ws", gateway.port), ("http", gateway.admin_port)}

    spec = admin.get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.") and "/api/bridges/{id}" in spec["paths"]
    logs = admin.get("/api/logs", params={"lines": 50}).json()
    assert any("admin page on http://" in line for line in logs)


def test_invalid_changes_are_refused_with_the_field_and_change_nothing(own_gateway):
    gateway, admin = ready_admin(own_gateway)
    before = admin.get("/api/config").text
    bad_file = "[limits]\nmax_sessions = -3\n\n[server]\nnmae = \"x\"\n"
    refused = admin.send("PUT", "/api/config", data=bad_file)
    assert refused.status_code == 422
    problems = refused.json()["problems"]
    assert [p["field"] for p in problems] == ["limits.max_sessions", "server.nmae"]
    assert problems[0]["reason"] == "must be a positive integer, got -3 (imported file line 2)"
    assert problems[1]["reason"] == "unknown key server.nmae (did you mean name?) (imported file line 5)"
    unknown_kind = admin.send("POST", "/api/bridges", json={"id": "x", "kind": "no-such-kind"})
    assert unknown_kind.status_code == 422
    assert unknown_kind.json()["problems"][0]["field"] == "kind"
    bad_id = admin.send("POST", "/api/bridges", json={"id": "bad id!", "kind": "no-such-kind"})
    assert bad_id.status_code == 422 and bad_id.json()["problems"][0]["field"] == "id"
    assert admin.send("PUT", "/api/bridges/ghost", json={"kind": "x"}).status_code == 404
    assert admin.get("/api/config").text == before
    assert not (gateway.workdir / "data" / "gateway.toml").exists()


def test_export_import_round_trip_and_a_fresh_gateway_accepts_the_export(own_gateway, tmp_path):
    gateway, admin = ready_admin(own_gateway)
    original = admin.get("/api/config")
    assert original.headers["Content-Disposition"].startswith("attachment")
    changed = original.text.replace('name = "clasp-gateway"', 'name = "foyer"').replace("max_sessions = 1000", "max_sessions = 200")
    assert changed != original.text
    applied = admin.send("PUT", "/api/config", data=changed)
    assert applied.status_code == 200, applied.text
    assert sorted(applied.json()["restart_required"]) == ["limits.max_sessions", "server.name"]
    exported = admin.get("/api/config").text
    assert exported == changed
    # Importing the export again changes nothing.
    again = admin.send("PUT", "/api/config", data=exported)
    assert again.status_code == 200 and again.json()["restart_required"] == []

    config = tmp_path / "exported.toml"
    config.write_text(exported)
    fresh_dir = tmp_path / "fresh"
    fresh_dir.mkdir()
    from conftest import start_gateway
    fresh = start_gateway(fresh_dir, "--config", str(config), "--admin-port", str(free_port()))
    try:
        other = Admin(fresh)
        assert other.get("/api/auth").json()["name"] == "foyer"
        assert other.setup().status_code == 200
        assert other.get("/api/config").text == exported
    finally:
        fresh.stop()


def test_a_change_survives_kill_9_right_after_it_is_answered(own_gateway):
    gateway, admin = ready_admin(own_gateway)
    changed = admin.get("/api/config").text.replace('name = "clasp-gateway"', 'name = "after-the-power-cut"')
    assert admin.send("PUT", "/api/config", data=changed).status_code == 200
    gateway.process.send_signal(signal.SIGKILL)
    gateway.wait(5)
    assert not any(p.name.startswith("gateway.toml.tmp") for p in (gateway.workdir / "data").iterdir())
    again = own_gateway("--admin-port", str(free_port()))
    after = Admin(again)
    assert after.get("/api/auth").json()["name"] == "after-the-power-cut"
    assert after.login().status_code == 200
    assert 'name = "after-the-power-cut"' in after.get("/api/config").text


def test_restart_reexecutes_the_gateway(own_gateway):
    gateway, admin = ready_admin(own_gateway)
    pid = gateway.process.pid
    assert admin.send("POST", "/api/restart").status_code == 202
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and gateway.log().count("admin page on http://") < 2:
        time.sleep(0.1)
    assert gateway.log().count("admin page on http://") == 2, gateway.log()[-3000:]
    assert gateway.process.pid == pid and gateway.alive()
    again = Admin(gateway)
    deadline = time.monotonic() + 10
    while True:
        try:
            if again.login().status_code == 200:
                break
        except requests.ConnectionError:
            pass
        assert time.monotonic() < deadline
        time.sleep(0.1)


def udp_port():
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_bridges_through_the_api(own_gateway):
    gateway, admin = ready_admin(own_gateway)
    kinds = {kind["name"]: kind for kind in admin.get("/api/bridge-kinds").json()}
    if "artnet" not in kinds:
        pytest.skip("this build has no artnet bridge kind")
    port = {f["name"]: f for f in kinds["artnet"]["fields"]}["port"]
    assert port["type"] == "integer" and port["min"] == 1 and port["max"] == 65535 and "help" in port
    stage = {"id": "stage", "kind": "artnet", "options": {
        "bind": "127.0.0.1", "port": udp_port(), "poll": False, "input_universes": [1], "output_universes": [2]}}
    added = admin.send("POST", "/api/bridges", json=stage)
    assert added.status_code == 201, added.text
    deadline = time.monotonic() + 10
    while admin.get("/api/bridges/stage").json()["state"] != "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    report = admin.get("/api/bridges/stage").json()
    assert report["state"] == "running" and isinstance(report["counters"], dict)
    assert "[bridges.stage]" in (gateway.workdir / "data" / "gateway.toml").read_text()
    assert 'clasp_bridge_running{bridge="stage",kind="artnet"} 1' in admin.get("/metrics").text

    before = admin.get("/api/config").text
    bad_port = admin.send("PUT", "/api/bridges/stage", json={**stage, "options": {**stage["options"], "port": 70000}})
    assert bad_port.status_code == 422
    assert bad_port.json()["problems"] == [{"field": "port", "reason": "must be from 1 to 65535, got 70000"}]
    bad_bind = admin.send("PUT", "/api/bridges/stage", json={**stage, "options": {**stage["options"], "bind": "stage-left"}})
    assert bad_bind.status_code == 422 and bad_bind.json()["problems"][0]["field"] == "bind"
    assert admin.get("/api/config").text == before

    disabled = admin.send("PUT", "/api/bridges/stage", json={**stage, "enabled": False})
    assert disabled.status_code == 200 and disabled.json()["state"] == "disabled"
    assert admin.send("DELETE", "/api/bridges/stage").status_code == 200
    assert admin.get("/api/bridges").json() == []
    assert "[bridges" not in (gateway.workdir / "data" / "gateway.toml").read_text()

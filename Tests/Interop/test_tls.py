"""TLS: WebSocket over TLS (wss://) and length-prefixed TCP over TLS (tcps://) against the built
gateway, with third-party TLS stacks only: Python's `ssl` (OpenSSL) under `websockets`, the
official Python client (`clasp-to`) and asyncio streams, and the `openssl s_client` and
`openssl x509` command-line tools.

Each gateway here makes its self-signed certificate in its data directory on first start and
logs its SHA-256 fingerprint; clients trust exactly that certificate (as a CA file), which
also checks the names it carries (127.0.0.1, localhost).
"""

import asyncio
import ssl
import subprocess
import time

import pytest

from clasp_wire import RawClient, set_payload, subscribe_payload
from conftest import async_test, wait_until
from test_python_client import barrier, close_all, collector, connect, values_for
from test_tcp import TCPClient

OPENSSL_TIMEOUT = 15


def trusting(gateway):
    """A client context that trusts only this gateway's certificate, names checked."""
    return ssl.create_default_context(cafile=str(cert_path(gateway)))


def cert_path(gateway):
    return gateway.workdir / "data" / "tls" / "cert.pem"


class TLSTCPClient(TCPClient):
    @classmethod
    async def connect(cls, port, context, server_hostname="127.0.0.1"):
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname=server_hostname), 5)
        return cls(reader, writer)


def openssl(*args, stdin=""):
    return subprocess.run(
        ["openssl", *args], input=stdin, capture_output=True, text=True, timeout=OPENSSL_TIMEOUT)


def fingerprint_of(pem_text):
    result = openssl("x509", "-noout", "-fingerprint", "-sha256", stdin=pem_text)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().split("=", 1)[1]


@pytest.fixture
def tls_gateway(own_gateway):
    gateway = own_gateway()
    assert gateway.wss_port and gateway.tcps_port, gateway.log()[-2000:]
    return gateway


@async_test()
async def test_wss_hello_subscribe_and_set_with_websockets(tls_gateway):
    context = trusting(tls_gateway)
    url = f"wss://127.0.0.1:{tls_gateway.wss_port}/"
    subscriber = await RawClient.connect(url, ssl=context)
    publisher = await RawClient.connect(url, ssl=context)
    try:
        welcome = await subscriber.hello("wss-subscriber")
        assert welcome["session"]
        await publisher.hello("wss-publisher")
        await subscriber.send_payload(subscribe_payload(1, "/tls/**"))
        await subscriber.barrier()
        await publisher.send_payload(set_payload("/tls/level", 0.25))
        got = await subscriber.expect_type("SET")
        assert got["address"] == "/tls/level" and got["value"] == pytest.approx(0.25)
    finally:
        await close_all(subscriber, publisher)


@async_test()
async def test_the_official_python_client_over_wss(tls_gateway, monkeypatch):
    # clasp-to gives websockets only the URL: its default context reads the trust store from
    # SSL_CERT_FILE.
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_path(tls_gateway)))
    url = f"wss://127.0.0.1:{tls_gateway.wss_port}"
    first = await connect(url, "clasp-to-a")
    second = await connect(url, "clasp-to-b")
    try:
        seen, _ = collector(second, "/official/**")
        await barrier(second)
        await first.set("/official/x", 7)
        await wait_until(lambda: values_for(seen, "/official/x") == [7], what="the SET over wss")
    finally:
        await close_all(first, second)


@async_test()
async def test_tcps_with_python_ssl_and_websocket_clients_see_each_others_sets(tls_gateway):
    tcps = await TLSTCPClient.connect(tls_gateway.tcps_port, trusting(tls_gateway))
    ws = await RawClient.connect(f"ws://127.0.0.1:{tls_gateway.port}/")
    try:
        welcome = await tcps.hello("tcps-client")
        assert welcome["session"]
        assert tcps.writer.get_extra_info("ssl_object").version() in ("TLSv1.2", "TLSv1.3")
        await ws.hello("ws-client")
        await tcps.send_payload(subscribe_payload(1, "/cross/**"))
        await ws.send_payload(subscribe_payload(1, "/cross/**"))
        await tcps.barrier()
        await ws.barrier()

        await ws.send_payload(set_payload("/cross/from-ws", 1))
        got, _ = await tcps.expect(lambda m: m["type"] == "SET" and m["address"] == "/cross/from-ws")
        assert got["value"] == 1
        await tcps.send_payload(set_payload("/cross/from-tcps", 2))
        got = await ws.expect(lambda m: m["type"] == "SET" and m["address"] == "/cross/from-tcps")
        assert got[0]["value"] == 2
    finally:
        await tcps.close()
        await ws.close()


def test_openssl_s_client_sees_the_logged_fingerprint(tls_gateway):
    logged = tls_gateway.fingerprint()
    assert logged, tls_gateway.log()[-2000:]
    # The documented way to read it from the file.
    assert fingerprint_of(cert_path(tls_gateway).read_text()) == logged
    for port in (tls_gateway.wss_port, tls_gateway.tcps_port):
        result = openssl(
            "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile", str(cert_path(tls_gateway)),
            "-verify_return_error", "-verify_ip", "127.0.0.1", "-brief")
        assert result.returncode == 0, result.stderr
        assert "Verification: OK" in result.stderr, result.stderr
        shown = openssl("s_client", "-connect", f"127.0.0.1:{port}", "-showcerts")
        assert fingerprint_of(shown.stdout) == logged


def test_openssl_s_client_refuses_a_certificate_it_has_no_ca_for(tls_gateway, tmp_path):
    other_key, other_cert = tmp_path / "other.key", tmp_path / "other.pem"
    made = openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                   "-keyout", str(other_key), "-out", str(other_cert), "-days", "1", "-subj", "/CN=127.0.0.1")
    assert made.returncode == 0, made.stderr
    result = openssl(
        "s_client", "-connect", f"127.0.0.1:{tls_gateway.tcps_port}", "-CAfile", str(other_cert),
        "-verify_return_error", "-brief")
    assert result.returncode != 0
    assert "self-signed certificate" in result.stderr or "verify error" in result.stderr, result.stderr
    # A name the certificate does not hold is refused too.
    wrong_name = openssl(
        "s_client", "-connect", f"127.0.0.1:{tls_gateway.wss_port}", "-CAfile", str(cert_path(tls_gateway)),
        "-verify_return_error", "-verify_hostname", "not-this-gateway.example", "-brief")
    assert wrong_name.returncode != 0
    assert "hostname mismatch" in wrong_name.stderr, wrong_name.stderr


@async_test()
async def test_python_ssl_refuses_the_certificate_without_trust(tls_gateway):
    with pytest.raises(ssl.SSLCertVerificationError):
        await TLSTCPClient.connect(tls_gateway.tcps_port, ssl.create_default_context())
    with pytest.raises(ssl.SSLCertVerificationError, match="match"):
        await TLSTCPClient.connect(tls_gateway.tcps_port, trusting(tls_gateway), server_hostname="elsewhere.example")
    await asyncio.sleep(0.1)
    assert "listening on tcps://" in tls_gateway.log()


def test_the_self_signed_certificate_is_kept_across_restarts(own_gateway):
    first = own_gateway()
    fingerprint = first.fingerprint()
    assert "made now" in first.log()
    key = first.workdir / "data" / "tls" / "key.pem"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert first.stop()[0] == 0
    second = own_gateway()
    assert second.fingerprint() == fingerprint
    assert "made now" not in second.log()


def test_a_configured_certificate_is_served(own_gateway, tmp_path):
    key, cert = tmp_path / "mine.key", tmp_path / "mine.pem"
    made = openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                   "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1")
    assert made.returncode == 0, made.stderr
    config = tmp_path / "tls.toml"
    config.write_text(f'[tls]\ncertificate = "{cert}"\nprivate_key = "{key}"\n')
    gateway = own_gateway("--config", str(config))
    assert gateway.fingerprint() == fingerprint_of(cert.read_text())
    assert not (tmp_path / "data" / "tls").exists()
    shown = openssl("s_client", "-connect", f"127.0.0.1:{gateway.tcps_port}", "-showcerts")
    assert fingerprint_of(shown.stdout) == gateway.fingerprint()


def test_tls_listeners_are_off_with_port_0_or_enabled_false(own_gateway, tmp_path):
    gateway = own_gateway("--wss-port", "0", "--tcps-port", "0")
    assert "wss://" not in gateway.log() and "tcps://" not in gateway.log()
    assert not (tmp_path / "data" / "tls").exists(), "no certificate made when no TLS listener runs"
    assert gateway.stop()[0] == 0
    config = tmp_path / "off.toml"
    config.write_text("[tls]\nenabled = false\n")
    # conftest still passes TLS ports: the switch must win over them.
    off = own_gateway("--config", str(config), expect_listening=False)
    deadline = time.monotonic() + 15
    while "listening on tcp://" not in off.log() and time.monotonic() < deadline and off.alive():
        time.sleep(0.02)
    time.sleep(0.2)
    assert "listening on tcp://" in off.log(), off.log()
    assert "wss://" not in off.log() and "tcps://" not in off.log()


def test_tls_below_1_2_is_refused(tls_gateway):
    # SECLEVEL=0 lets OpenSSL's client offer TLS 1.1 at all; the gateway answers with an alert.
    old = openssl("s_client", "-connect", f"127.0.0.1:{tls_gateway.tcps_port}", "-tls1_1",
                  "-cipher", "DEFAULT@SECLEVEL=0", "-brief")
    assert old.returncode != 0
    assert "alert protocol version" in old.stderr, old.stderr
    current = openssl("s_client", "-connect", f"127.0.0.1:{tls_gateway.tcps_port}", "-tls1_2", "-brief")
    assert current.returncode == 0, current.stderr
    assert "Protocol version: TLSv1.2" in current.stderr

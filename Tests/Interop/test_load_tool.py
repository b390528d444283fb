"""The benchmark load tool (Tools/clasp-load) against the gateway and against mosquitto.

A second of load each, small enough for a debug build on a busy machine: every message must
reach every subscriber, so the tool that produces docs/benchmarks.md's scenario figures is
itself checked against a real gateway process and a real MQTT broker, plain and over TLS (the
gateway's self-signed certificate, and one made with `openssl` for mosquitto, each trusted as
the CA file), and with subscribers that stop reading. Its bridge probe (scenario F) runs for a
second against sACN and Art-Net output bridges, an sACN input bridge (channel and whole-frame
SETs) and a dmx bridge (out and in) on a socat pty pair: every change seen, latencies reported.
The tool is `Tools/clasp-load/.build/debug/clasp-load` (scripts/test builds it), or
`$CLASP_LOAD_BIN`.
"""

import contextlib
import json
import os
import pwd
import shutil
import socket
import subprocess
import time

import pytest

from conftest import REPO, free_udp_port
from dmx_peers import bridge_config, wait_for_bridge

LOAD_BIN = os.environ.get("CLASP_LOAD_BIN") or str(REPO / "Tools" / "clasp-load" / ".build" / "debug" / "clasp-load")
SUBSCRIBERS = 10
RATE = 400
SECONDS = 1


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_load(tmp_path, *args):
    """The paced workload that `assert_every_message_delivered` checks."""
    return run_load_with(
        tmp_path, "--subscribers", str(SUBSCRIBERS), "--rate", str(RATE), "--duration", str(SECONDS), *args)


def run_load_with(tmp_path, *args):
    if not os.access(LOAD_BIN, os.X_OK):
        pytest.fail(f"load tool not found: {LOAD_BIN} (swift build --package-path Tools/clasp-load, or set CLASP_LOAD_BIN)")
    report = tmp_path / "report.jsonl"
    result = subprocess.run(
        [LOAD_BIN, "--json", str(report), "--require-all", "--drain-timeout", "10", *args],
        capture_output=True, text=True, timeout=90,
    )
    assert result.returncode == 0, f"clasp-load failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    lines = report.read_text().splitlines()
    assert len(lines) == 1, lines
    return json.loads(lines[0])


def assert_every_message_delivered(figures):
    # Paced at RATE for SECONDS: the first message at once, then one every 1/RATE s.
    assert RATE * SECONDS <= figures["sent"] <= RATE * SECONDS + RATE // 10, figures
    assert figures["expected"] == figures["sent"] * SUBSCRIBERS
    assert figures["delivered"] == figures["expected"], figures
    assert figures["messagesNotAtEverySubscriber"] == 0
    assert figures["sessionsClosedByBroker"] == 0
    latency = figures["latency"]
    assert latency["count"] == figures["delivered"]
    assert 0 < latency["p50"] <= latency["p99"] <= latency["max"], latency


@pytest.mark.parametrize("wire", ["websocket", "tcp"])
def test_load_tool_delivers_every_message_through_the_gateway(own_gateway, tmp_path, wire):
    gateway = own_gateway()
    port = gateway.port if wire == "websocket" else gateway.tcp_port
    figures = run_load(tmp_path, "--wire", wire, "--port", str(port), "--watch-pid", str(gateway.process.pid))
    assert_every_message_delivered(figures)
    assert figures["rssEndKiB"] > 1_000 and figures["brokerCPUSeconds"] >= 0


def test_load_tool_counts_acks_of_committed_sets(own_gateway, tmp_path):
    gateway = own_gateway()
    figures = run_load(tmp_path, "--port", str(gateway.port), "--kind", "set", "--qos", "commit")
    # One address and subscribers that keep up: no SET is coalesced away at this rate.
    assert_every_message_delivered(figures)
    assert figures["acks"] == figures["sent"]
    assert figures["ackLatency"]["count"] == figures["sent"]


def gateway_certificate(gateway):
    """The self-signed certificate the gateway made in its data directory on first start."""
    return gateway.workdir / "data" / "tls" / "cert.pem"


@pytest.mark.parametrize("wire", ["websocket", "tcp"])
def test_load_tool_over_tls_trusting_the_gateways_certificate(own_gateway, tmp_path, wire):
    gateway = own_gateway()
    port = gateway.wss_port if wire == "websocket" else gateway.tcps_port
    figures = run_load(tmp_path, "--wire", wire, "--tls", "--tls-ca", str(gateway_certificate(gateway)), "--port", str(port))
    assert figures["tls"] is True
    assert_every_message_delivered(figures)


def test_load_tool_refuses_the_gateways_certificate_without_its_ca(own_gateway):
    # No CA file: the system's trust store, which does not hold the self-signed certificate.
    gateway = own_gateway()
    result = subprocess.run(
        [LOAD_BIN, "--wire", "tcp", "--tls", "--port", str(gateway.tcps_port), "--duration", "0.2"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "CERTIFICATE_VERIFY_FAILED" in result.stderr, result.stderr


def test_load_tool_refuses_a_missing_ca_file_clearly(tmp_path):
    missing = tmp_path / "none.pem"
    result = subprocess.run(
        [LOAD_BIN, "--tls", "--tls-ca", str(missing), "--port", "1"], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert f"--tls-ca {missing}: cannot read PEM certificates" in result.stderr, result.stderr


def test_load_tool_reports_stalled_subscribers_apart_from_those_that_read(own_gateway, tmp_path):
    # A short stall: the backlog fits the kernel's socket buffers (the gateway's send buffer
    # grows to megabytes on loopback), so the gateway keeps the stalled sessions and they get
    # every message once they read again. Overflowing its queue (ERROR 503 and a close 5 s
    # later) takes ~100 k events per stalled session: scenario S in scripts/bench-scenarios.
    gateway = own_gateway()
    figures = run_load_with(
        tmp_path, "--port", str(gateway.port), "--watch-pid", str(gateway.process.pid), "--drain-timeout", "2",
        "--subscribers", "2", "--stalled-subscribers", "2", "--rate", str(RATE), "--duration", str(SECONDS))
    # Only the subscribers that read count as expected (--require-all checks them too).
    assert figures["delivered"] == figures["expected"] == figures["sent"] * 2, figures
    assert figures["sessionsClosedByBroker"] == 0
    assert figures["stalled"] == {
        "sessions": 2, "closed": 0, "reasons": {"still open": 2},
        "fewestDeliveries": figures["sent"], "mostDeliveries": figures["sent"], "brokerClosedAt": []}, figures["stalled"]
    assert figures["rssPeakKiB"] >= max(figures["rssStartKiB"], figures["rssEndKiB"]) > 1_000
    assert "closing slow consumer" not in gateway.log()


@pytest.fixture
def mosquitto(tmp_path):
    """Mosquitto with a plain and a TLS listener: (port, TLS port, CA file, pid)."""
    binary = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin")
    if binary is None:
        pytest.fail("mosquitto is not installed (scripts/test installs it)")
    port, tls_port = free_port(), free_port()
    certificate, key = tmp_path / "mosquitto-cert.pem", tmp_path / "mosquitto-key.pem"
    made = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(certificate)],
        capture_output=True, text=True, timeout=30)
    assert made.returncode == 0, made.stderr
    config = tmp_path / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nlistener {tls_port} 127.0.0.1\ncertfile {certificate}\nkeyfile {key}\n"
        # Started as root, mosquitto would become user `mosquitto`, who cannot read the key.
        f"user {pwd.getpwuid(os.getuid()).pw_name}\nallow_anonymous true\npersistence false\n")
    process = subprocess.Popen([binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    for listening in (port, tls_port):
        while True:
            try:
                socket.create_connection(("127.0.0.1", listening), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, "mosquitto exited at start"
                assert time.monotonic() < deadline, "mosquitto did not listen within 10 s"
                time.sleep(0.05)
    yield port, tls_port, certificate, process.pid
    process.terminate()
    process.wait(10)


def test_load_tool_delivers_every_message_through_mosquitto(mosquitto, tmp_path):
    port, _, _, pid = mosquitto
    figures = run_load(tmp_path, "--wire", "mqtt", "--port", str(port), "--watch-pid", str(pid))
    assert_every_message_delivered(figures)


def test_load_tool_over_tls_to_mosquitto(mosquitto, tmp_path):
    _, tls_port, certificate, _ = mosquitto
    figures = run_load(tmp_path, "--wire", "mqtt", "--tls", "--tls-ca", str(certificate), "--port", str(tls_port))
    assert figures["tls"] is True
    assert_every_message_delivered(figures)


@pytest.mark.parametrize("kind", ["sacn", "artnet"])
def test_bridge_probe_times_sets_to_the_packets_that_show_them(own_gateway, tmp_path, kind):
    listen_port = free_udp_port()
    config = bridge_config(
        tmp_path, "probe", kind, bind="127.0.0.1", port=free_udp_port(), output_universes=[1],
        destinations=[f"127.0.0.1:{listen_port}"], **({"multicast": False, "discovery": False} if kind == "sacn" else {"poll": False}))
    gateway = own_gateway("--config", str(config))
    wait_for_bridge(gateway, "probe", kind)
    figures = run_load_with(
        tmp_path, "--port", str(gateway.port), "--watch-pid", str(gateway.process.pid),
        "--bridge", f"{kind}-out", "--listen-port", str(listen_port), "--rate", "100", "--duration", "1")
    # 100 SETs in a second, each shown by a packet; the bridge sends at most 44 per second.
    assert 100 <= figures["sent"] <= 110 and figures["seen"] == figures["sent"], figures
    assert 20 <= figures["observed"] <= 60, figures
    latency = figures["latency"]
    assert latency["count"] == figures["sent"]
    # Bounded by the pacing: a change waits at most for the next frame (1/44 s) or two.
    assert 0 < latency["p50"] <= latency["max"] < 500_000, latency
    assert figures["gatewayCPUSeconds"] >= 0


@pytest.mark.parametrize("input_sets", ["channel", "frame"])
def test_bridge_probe_times_packets_to_the_sets_they_cause(own_gateway, tmp_path, input_sets):
    # frame: the bridge also SETs /dmx/1 as 512 bytes (whole_frame), and the probe times those.
    bridge_port = free_udp_port()
    config = bridge_config(
        tmp_path, "probe", "sacn", bind="127.0.0.1", port=bridge_port, input_universes=[1], multicast=False,
        whole_frame=input_sets == "frame")
    gateway = own_gateway("--config", str(config))
    wait_for_bridge(gateway, "probe", "sacn")
    figures = run_load_with(
        tmp_path, "--port", str(gateway.port), "--bridge", "sacn-in", "--bridge-port", str(bridge_port),
        "--input-sets", input_sets, "--rate", "100", "--duration", "1")
    assert figures["inputSets"] == input_sets
    assert_each_input_change_seen_as_one_set(figures, 100, 110)


def assert_each_input_change_seen_as_one_set(figures, least, most):
    assert least <= figures["sent"] <= most and figures["seen"] == figures["sent"], figures
    # One changed channel per packet or frame: one SET each.
    assert figures["observed"] == figures["sent"], figures
    assert 0 < figures["latency"]["p50"] <= figures["latency"]["max"] < 500_000, figures


@contextlib.contextmanager
def usb_pro_ptys(tmp_path):
    """A socat pty pair: the dmx bridge opens the gateway end, the probe is the widget on the other."""
    gateway_end, widget_end = tmp_path / "usbpro-gateway", tmp_path / "usbpro-widget"
    socat = subprocess.Popen(
        ["socat", f"pty,raw,echo=0,link={gateway_end}", f"pty,raw,echo=0,link={widget_end}"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 5
        while not (gateway_end.exists() and widget_end.exists()):
            assert time.monotonic() < deadline, "socat did not create its ptys"
            time.sleep(0.01)
        yield gateway_end, widget_end
    finally:
        socat.terminate()
        socat.wait(5)


@pytest.mark.skipif(shutil.which("socat") is None, reason="socat is not installed")
def test_bridge_probe_times_sets_to_usb_pro_frames(own_gateway, tmp_path):
    with usb_pro_ptys(tmp_path) as (gateway_end, widget_end):
        config = bridge_config(tmp_path, "probe", "dmx", interface="usbpro", device=str(gateway_end))
        gateway = own_gateway("--config", str(config))
        figures = run_load_with(
            tmp_path, "--port", str(gateway.port), "--bridge", "dmx-out", "--usbpro", str(widget_end),
            "--rate", "100", "--duration", "1")
        assert 100 <= figures["sent"] <= 110 and figures["seen"] == figures["sent"], figures
        # The bridge sends a frame every 1/44 s whatever changes.
        assert 30 <= figures["observed"] <= 60, figures
        assert 0 < figures["latency"]["p50"] <= figures["latency"]["max"] < 500_000, figures


@pytest.mark.skipif(shutil.which("socat") is None, reason="socat is not installed")
def test_bridge_probe_times_usb_pro_input_to_sets(own_gateway, tmp_path):
    with usb_pro_ptys(tmp_path) as (gateway_end, widget_end):
        config = bridge_config(tmp_path, "probe", "dmx", interface="usbpro", device=str(gateway_end), direction="in")
        gateway = own_gateway("--config", str(config))
        figures = run_load_with(
            tmp_path, "--port", str(gateway.port), "--bridge", "dmx-in", "--usbpro", str(widget_end),
            "--rate", "40", "--duration", "1")
        assert_each_input_change_seen_as_one_set(figures, 40, 44)


def test_load_tool_refuses_a_bad_option_clearly():
    result = subprocess.run(
        [LOAD_BIN, "--wire", "udp", "--port", "1"], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "--wire must be one of websocket, tcp, mqtt" in result.stderr

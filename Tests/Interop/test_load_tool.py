"""The benchmark load tool (Tools/clasp-load) against the gateway and against mosquitto.

A second of load each, small enough for a debug build on a busy machine: every message must
reach every subscriber, so the tool that produces docs/benchmarks.md's scenario figures is
itself checked against a real gateway process and a real MQTT broker. Its bridge probe (scenario
F) runs for a second against sACN and Art-Net output bridges, an sACN input bridge and a dmx
bridge on a socat pty pair: every change seen, latencies reported.
The tool is `Tools/clasp-load/.build/debug/clasp-load` (scripts/test builds it), or
`$CLASP_LOAD_BIN`.
"""

import json
import os
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
    if not os.access(LOAD_BIN, os.X_OK):
        pytest.fail(f"load tool not found: {LOAD_BIN} (swift build --package-path Tools/clasp-load, or set CLASP_LOAD_BIN)")
    report = tmp_path / "report.jsonl"
    result = subprocess.run(
        [LOAD_BIN, "--json", str(report), "--require-all", "--subscribers", str(SUBSCRIBERS),
         "--rate", str(RATE), "--duration", str(SECONDS), "--drain-timeout", "10", *args],
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


@pytest.fixture
def mosquitto(tmp_path):
    binary = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin")
    if binary is None:
        pytest.fail("mosquitto is not installed (scripts/test installs it)")
    port = free_port()
    config = tmp_path / "mosquitto.conf"
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    process = subprocess.Popen([binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert process.poll() is None, "mosquitto exited at start"
            assert time.monotonic() < deadline, "mosquitto did not listen within 10 s"
            time.sleep(0.05)
    yield port, process.pid
    process.terminate()
    process.wait(10)


def test_load_tool_delivers_every_message_through_mosquitto(mosquitto, tmp_path):
    port, pid = mosquitto
    figures = run_load(tmp_path, "--wire", "mqtt", "--port", str(port), "--watch-pid", str(pid))
    assert_every_message_delivered(figures)


@pytest.mark.parametrize("kind", ["sacn", "artnet"])
def test_bridge_probe_times_sets_to_the_packets_that_show_them(own_gateway, tmp_path, kind):
    listen_port = free_udp_port()
    config = bridge_config(
        tmp_path, "probe", kind, bind="127.0.0.1", port=free_udp_port(), output_universes=[1],
        destinations=[f"127.0.0.1:{listen_port}"], **({"multicast": False, "discovery": False} if kind == "sacn" else {"poll": False}))
    gateway = own_gateway("--config", str(config))
    wait_for_bridge(gateway, "probe", kind)
    report = tmp_path / "bridge.jsonl"
    result = subprocess.run(
        [LOAD_BIN, "--json", str(report), "--require-all", "--port", str(gateway.port), "--watch-pid", str(gateway.process.pid),
         "--bridge", f"{kind}-out", "--listen-port", str(listen_port), "--rate", "100", "--duration", "1"],
        capture_output=True, text=True, timeout=90,
    )
    assert result.returncode == 0, f"clasp-load failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    figures = json.loads(report.read_text())
    # 100 SETs in a second, each shown by a packet; the bridge sends at most 44 per second.
    assert 100 <= figures["sent"] <= 110 and figures["seen"] == figures["sent"], figures
    assert 20 <= figures["observed"] <= 60, figures
    latency = figures["latency"]
    assert latency["count"] == figures["sent"]
    # Bounded by the pacing: a change waits at most for the next frame (1/44 s) or two.
    assert 0 < latency["p50"] <= latency["max"] < 500_000, latency
    assert figures["gatewayCPUSeconds"] >= 0


def test_bridge_probe_times_packets_to_the_sets_they_cause(own_gateway, tmp_path):
    bridge_port = free_udp_port()
    config = bridge_config(tmp_path, "probe", "sacn", bind="127.0.0.1", port=bridge_port, input_universes=[1], multicast=False)
    gateway = own_gateway("--config", str(config))
    wait_for_bridge(gateway, "probe", "sacn")
    report = tmp_path / "bridge.jsonl"
    result = subprocess.run(
        [LOAD_BIN, "--json", str(report), "--require-all", "--port", str(gateway.port), "--bridge", "sacn-in",
         "--bridge-port", str(bridge_port), "--rate", "100", "--duration", "1"],
        capture_output=True, text=True, timeout=90,
    )
    assert result.returncode == 0, f"clasp-load failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    figures = json.loads(report.read_text())
    assert 100 <= figures["sent"] <= 110 and figures["seen"] == figures["sent"], figures
    # One changed channel per packet: one SET each.
    assert figures["observed"] == figures["sent"], figures
    assert 0 < figures["latency"]["p50"] <= figures["latency"]["max"] < 500_000, figures


@pytest.mark.skipif(shutil.which("socat") is None, reason="socat is not installed")
def test_bridge_probe_times_sets_to_usb_pro_frames(own_gateway, tmp_path):
    # The probe is the widget on the far end of a socat pty pair; the dmx bridge opens the near end.
    gateway_end, widget_end = tmp_path / "usbpro-gateway", tmp_path / "usbpro-widget"
    socat = subprocess.Popen(
        ["socat", f"pty,raw,echo=0,link={gateway_end}", f"pty,raw,echo=0,link={widget_end}"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 5
        while not (gateway_end.exists() and widget_end.exists()):
            assert time.monotonic() < deadline, "socat did not create its ptys"
            time.sleep(0.01)
        config = bridge_config(tmp_path, "probe", "dmx", interface="usbpro", device=str(gateway_end))
        gateway = own_gateway("--config", str(config))
        report = tmp_path / "bridge.jsonl"
        result = subprocess.run(
            [LOAD_BIN, "--json", str(report), "--require-all", "--port", str(gateway.port), "--bridge", "dmx-out",
             "--usbpro", str(widget_end), "--rate", "100", "--duration", "1"],
            capture_output=True, text=True, timeout=90,
        )
        assert result.returncode == 0, f"clasp-load failed ({result.returncode}):\n{result.stdout}\n{result.stderr}\n{gateway.log()}"
        figures = json.loads(report.read_text())
        assert 100 <= figures["sent"] <= 110 and figures["seen"] == figures["sent"], figures
        # The bridge sends a frame every 1/44 s whatever changes.
        assert 30 <= figures["observed"] <= 60, figures
        assert 0 < figures["latency"]["p50"] <= figures["latency"]["max"] < 500_000, figures
    finally:
        socat.terminate()
        socat.wait(5)


def test_load_tool_refuses_a_bad_option_clearly():
    result = subprocess.run(
        [LOAD_BIN, "--wire", "udp", "--port", "1"], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "--wire must be one of websocket, tcp, mqtt" in result.stderr

"""The UDP discovery responder (wire-format §4.18) answers the reference seeker's exact HELLO
datagram with a unicast WELCOME, over loopback; anything else gets no reply."""

import json
import re
import socket
import time
from pathlib import Path

from clasp_wire import decode_frame
from conftest import free_udp_port

VECTORS = Path(__file__).resolve().parent.parent / "Vectors" / "clasp-frames.json"
# The reference seeker's datagram: vector `discovery_broadcast_hello`.
SEEKER_HELLO = bytes.fromhex(next(v["hex"] for v in json.loads(VECTORS.read_text()) if v["name"] == "discovery_broadcast_hello"))


def wait_for_responder(gateway, timeout=10.0):
    """The responder starts after the listeners: wait for its log line."""
    deadline = time.monotonic() + timeout
    while "discovery responder on udp://" not in gateway.log():
        assert gateway.alive() and time.monotonic() < deadline, gateway.log()
        time.sleep(0.02)


def ask(port, datagram, timeout=2.0):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as seeker:
        seeker.settimeout(timeout)
        seeker.sendto(datagram, ("127.0.0.1", port))
        try:
            data, sender = seeker.recvfrom(65_535)
        except socket.timeout:
            return None, None
        return data, sender


def test_the_reference_seekers_hello_gets_a_unicast_welcome(own_gateway):
    port = free_udp_port()
    gateway = own_gateway("--discovery-port", str(port), "--name", "stage-left")
    wait_for_responder(gateway)
    assert f"discovery responder on udp://127.0.0.1:{port}" in gateway.log()
    before = time.time_ns() // 1_000
    data, sender = ask(port, SEEKER_HELLO)
    assert data is not None, "no WELCOME within 2 s"
    assert sender == ("127.0.0.1", port)
    welcome = decode_frame(data)
    assert welcome["type"] == "WELCOME"
    assert welcome["name"] == "stage-left"
    assert welcome["version"] == 1
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", welcome["session"])
    assert before - 1_000_000 <= welcome["time"] <= time.time_ns() // 1_000 + 1_000_000
    # A fresh id each time: the responder creates no session and reuses nothing.
    again, _ = ask(port, SEEKER_HELLO)
    assert decode_frame(again)["session"] != welcome["session"]


def test_anything_but_a_hello_gets_no_reply(own_gateway):
    port = free_udp_port()
    wait_for_responder(own_gateway("--discovery-port", str(port)))
    ping = bytes([0x53, 0x01, 0x00, 0x01, 0x41])
    for datagram in (b"", b"hello", ping, SEEKER_HELLO[:10], b"\x53" * 3000):
        data, _ = ask(port, datagram, timeout=0.3)
        assert data is None, f"replied to {datagram[:16]!r}"
    data, _ = ask(port, SEEKER_HELLO)
    assert data is not None, "the responder still answers after garbage"


def test_port_0_disables_the_responder(own_gateway):
    gateway = own_gateway("--discovery-port", "0")
    time.sleep(0.3)  # the responder would have logged by now
    assert "discovery responder" not in gateway.log()


SEEKER = r"""
import socket, sys
hello = bytes.fromhex(sys.argv[1])
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.settimeout(3)
    s.sendto(hello, (sys.argv[2], int(sys.argv[3])))
    data, sender = s.recvfrom(65535)
    print(data.hex(), sender[0])
"""


def test_a_broadcast_hello_is_answered_inside_a_network_namespace(tmp_path):
    """Broadcast only inside a namespace this test creates and removes (design §4)."""
    import subprocess
    import sys

    from conftest import LISTENING
    from netns import exec_argv, gateway_in, network_namespace

    args = ["--bind", "0.0.0.0", "--port", "0", "--tcp-port", "0", "--wss-port", "0", "--tcps-port", "0", "--admin-port", "0",
            "--udp-port", "0", "--discovery-port", "7331", "--data-dir", str(tmp_path / "data"), "--name", "in-namespace"]
    with network_namespace("clasp-discovery") as namespace, \
            gateway_in(namespace, tmp_path, args, ready="discovery responder on udp://") as log_path:
        assert LISTENING.search(log_path.read_text(errors="replace"))
        seeker = subprocess.run(
            exec_argv(namespace, sys.executable, "-c", SEEKER, SEEKER_HELLO.hex(), "127.255.255.255", "7331"),
            capture_output=True, text=True, timeout=10)
        assert seeker.returncode == 0, seeker.stderr
        reply_hex, sender = seeker.stdout.split()
        welcome = decode_frame(bytes.fromhex(reply_hex))
        assert welcome["type"] == "WELCOME" and welcome["name"] == "in-namespace"
        assert sender.startswith("127.")

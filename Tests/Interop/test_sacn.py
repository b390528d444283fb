"""The sACN (E1.31) bridge against the Python `sacn` package as sender and receiver, by unicast
on loopback (multicast only inside a network namespace the test creates and deletes)."""

import asyncio
import socket
import threading
import time

import pytest
import sacn
from sacn.sending import sender_socket_udp

from conftest import async_test, free_udp_port
from dmx_peers import bridge_config, dmx_client, eventually, set_level, wait_for_bridge


class Receiver:
    """A `sacn` receiver on a loopback port: the last levels per universe."""

    def __init__(self, port, universes):
        self.levels = {}
        self.lock = threading.Lock()
        self.receiver = sacn.sACNreceiver(bind_address="127.0.0.1", bind_port=port)
        for universe in universes:
            self.receiver.register_listener("universe", self.on_packet, universe=universe)
        self.receiver.start()

    def on_packet(self, packet):
        with self.lock:
            self.levels[packet.universe] = (tuple(packet.dmxData), packet.priority, packet.sourceName)

    def get(self, universe):
        with self.lock:
            return self.levels.get(universe)

    def stop(self):
        self.receiver.stop()


@pytest.fixture
def sacn_sender_port(monkeypatch):
    """`sacn` always sends to 5568: point it at the gateway's test port instead."""

    def use(port):
        monkeypatch.setattr(sender_socket_udp, "DEFAULT_PORT", port)

    return use


def start_bridge(own_gateway, tmp_path, **options):
    config = bridge_config(tmp_path, "stage", "sacn", bind="127.0.0.1", multicast=False, discovery=False, **options)
    gateway = own_gateway("--config", str(config))
    wait_for_bridge(gateway, "stage", "sacn")
    return gateway


@async_test(timeout=40)
async def test_a_clasp_set_reaches_a_sacn_receiver(own_gateway, tmp_path):
    receiver_port = free_udp_port()
    receiver = Receiver(receiver_port, [1, 2])
    try:
        gateway = start_bridge(
            own_gateway, tmp_path, port=free_udp_port(), output_universes=[1, 2], priority=150,
            source_name="clasp test", destinations=[f"127.0.0.1:{receiver_port}"])
        client = await dmx_client(gateway.url, "/dmx/**")
        await set_level(client, "/dmx/1/1", 255)
        await set_level(client, "/dmx/1/512", 7)
        await set_level(client, "/dmx/2", b"\x01\x02\x03")
        await eventually(lambda: receiver.get(1) and receiver.get(1)[0][0] == 255 and receiver.get(1)[0][511] == 7,
                         what="universe 1 channel 1 = 255 at the receiver")
        levels, priority, name = receiver.get(1)
        assert len(levels) == 512 and priority == 150 and name == "clasp test"
        await eventually(lambda: receiver.get(2) and receiver.get(2)[0][:4] == (1, 2, 3, 0), what="universe 2 frame")
        # A level the mapping refuses is not sent.
        await set_level(client, "/dmx/1/1", 300)
        await asyncio.sleep(0.3)
        assert receiver.get(1)[0][0] == 255
        await client.close()
    finally:
        receiver.stop()


@async_test(timeout=40)
async def test_a_sacn_sender_becomes_clasp_sets_and_its_end_applies_the_fail_safe(own_gateway, tmp_path, sacn_sender_port):
    port = free_udp_port()
    sacn_sender_port(port)
    gateway = start_bridge(own_gateway, tmp_path, port=port, input_universes=[3], fail_safe="blackout")
    client = await dmx_client(gateway.url, "/dmx/3/*")
    sender = sacn.sACNsender(bind_address="127.0.0.1", bind_port=free_udp_port(), source_name="python", universeDiscovery=False)
    sender.start()
    try:
        sender.activate_output(3)
        sender[3].multicast = False
        sender[3].destination = "127.0.0.1"
        sender[3].dmx_data = (10, 20, 30)
        await eventually(lambda: client.levels.get("/dmx/3/1") == 10 and client.levels.get("/dmx/3/3") == 30,
                         what="SETs of /dmx/3/1 and /dmx/3/3")
        sender[3].dmx_data = (11, 20, 30)
        await eventually(lambda: client.levels.get("/dmx/3/1") == 11, what="the change")
        # Deactivating sends stream-terminated packets: the universe blacks out at once (fail_safe).
        sender.deactivate_output(3)
        await eventually(lambda: client.levels.get("/dmx/3/1") == 0, timeout=2.0, what="blackout after stream terminated")
    finally:
        sender.stop()
    await client.close()


@async_test(timeout=40)
async def test_the_higher_priority_source_wins_and_silent_ones_time_out(own_gateway, tmp_path):
    """Two sources as raw `sacn` packets, so the test decides when each one falls silent."""
    from sacn.messages.data_packet import DataPacket

    port = free_udp_port()
    gateway = start_bridge(own_gateway, tmp_path, port=port, input_universes=[4], fail_safe="scene", fail_safe_scene=[99])
    client = await dmx_client(gateway.url, "/dmx/4/1")

    def packet(cid, level, priority, sequence):
        data = DataPacket(cid=tuple([cid] * 16), sourceName=f"source {cid}", universe=4, dmxData=(level,),
                          priority=priority, sequence=sequence)
        return bytes(data.getBytes())

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        raw.sendto(packet(1, 50, 100, 0), ("127.0.0.1", port))
        await eventually(lambda: client.levels.get("/dmx/4/1") == 50, what="the only source")
        raw.sendto(packet(2, 200, 180, 0), ("127.0.0.1", port))
        await eventually(lambda: client.levels.get("/dmx/4/1") == 200, what="the priority 180 source")
        raw.sendto(packet(1, 60, 100, 1), ("127.0.0.1", port))  # lower priority: no effect
        for sequence in range(1, 4):
            raw.sendto(packet(2, 200, 180, sequence), ("127.0.0.1", port))
        raw.sendto(packet(2, 1, 180, 2), ("127.0.0.1", port))  # out of order: dropped
        await asyncio.sleep(0.3)
        assert client.levels.get("/dmx/4/1") == 200
    # After 2.5 s of silence both sources are dropped; none is left, so the scene applies.
    started = time.monotonic()
    await eventually(lambda: client.levels.get("/dmx/4/1") == 99, timeout=6.0, what="the fail-safe scene")
    assert time.monotonic() - started >= 1.5
    await client.close()


@async_test(timeout=30)
async def test_malformed_datagrams_are_ignored_and_the_bridge_keeps_working(own_gateway, tmp_path):
    port = free_udp_port()
    gateway = start_bridge(own_gateway, tmp_path, port=port, input_universes=[5])
    from sacn.messages.data_packet import DataPacket

    good = bytes(DataPacket(cid=tuple(range(16)), sourceName="x", universe=5, dmxData=(42,), sequence=0).getBytes())
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        for junk in (b"", b"\x00" * 700, good[:100], good[:-1], good + b"\x00", good[:108] + b"\xff" + good[109:], b"ASC-E1.17" * 80):
            raw.sendto(junk, ("127.0.0.1", port))
        client = await dmx_client(gateway.url, "/dmx/5/1")
        raw.sendto(good, ("127.0.0.1", port))
        await eventually(lambda: client.levels.get("/dmx/5/1") == 42, what="the good packet after the junk")
    assert gateway.alive()
    await client.close()


# Runs inside the namespace: a `sacn` receiver joined to universe 8's group, a `sacn` sender
# multicasting universe 7 with E1.31 sync (`flush`), and a CLASP client between them.
MULTICAST_PEERS = r"""
import asyncio, json, sys, threading, time
sys.path.insert(0, sys.argv[2])
import sacn
from clasp_wire import raw_session, set_payload, subscribe_payload

seen = {}
receiver = sacn.sACNreceiver(bind_address="0.0.0.0", bind_port=5568)
receiver.register_listener("universe", lambda packet: seen.update({packet.universe: packet.dmxData[:2]}), universe=8)
receiver.start()
receiver.join_multicast(8)
sender = sacn.sACNsender(bind_address="127.0.0.1", bind_port=5570, universeDiscovery=False, sync_universe=63999)
sender.start()
sender.manual_flush = True
sender.activate_output(7)
sender[7].multicast = True

async def main():
    result = {}
    client = await raw_session(sys.argv[1], "multicast-test")
    await client.send_payload(subscribe_payload(1, "/dmx/7/*"))
    await client.send_payload(set_payload("/dmx/8/1", 200))
    levels = {}

    async def until(condition, seconds):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not condition() and loop.time() < deadline:
            try:
                message = await client.recv(timeout=0.1)
            except asyncio.TimeoutError:
                continue
            if message["type"] == "SET":
                levels[message["address"]] = message["value"]
        return condition()

    sender[7].dmx_data = (5, 6)
    sender.flush()  # data held for the sync packet (the first one may come before the join)
    result["synced"] = await until(lambda: levels.get("/dmx/7/1") == 5, 6)
    sender[7].dmx_data = (9, 6)
    started = time.monotonic()
    sender.flush()
    result["second"] = await until(lambda: levels.get("/dmx/7/1") == 9, 2)
    result["second_seconds"] = time.monotonic() - started
    result["receiver"] = await until(lambda: seen.get(8, (0,))[0] == 200, 5) and list(seen[8])
    await client.close()
    print(json.dumps(result))

try:
    asyncio.run(main())
finally:
    sender.stop()
    receiver.stop()
"""


def test_multicast_and_sync_inside_a_network_namespace(tmp_path):
    """Multicast only inside a namespace this test creates and deletes (design §4)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    from conftest import LISTENING
    from netns import exec_argv, gateway_in, network_namespace

    config = bridge_config(tmp_path, "stage", "sacn", interface="127.0.0.1", input_universes=[7], output_universes=[8])
    args = ["--bind", "127.0.0.1", "--port", "0", "--tcp-port", "0", "--udp-port", "0", "--wss-port", "0",
            "--tcps-port", "0", "--admin-port", "0", "--discovery-port", "0", "--data-dir", str(tmp_path / "data"), "--config", str(config)]
    with network_namespace("clasp-sacn", multicast=True) as namespace, \
            gateway_in(namespace, tmp_path, args, ready="bridge stage (sacn) running") as log_path:
        port = LISTENING.search(log_path.read_text()).group(2)
        peers = subprocess.run(
            exec_argv(namespace, sys.executable, "-c", MULTICAST_PEERS, f"ws://127.0.0.1:{port}",
                      str(Path(__file__).resolve().parent)),
            capture_output=True, text=True, timeout=40)
        assert peers.returncode == 0, peers.stderr
        result = json.loads(peers.stdout.strip().splitlines()[-1])
        assert result["synced"], result
        # Once the group of the sync address is joined, synchronized data applies at the sync packet.
        assert result["second"] and result["second_seconds"] < 1.5, result
        assert result["receiver"] == [200, 0], result

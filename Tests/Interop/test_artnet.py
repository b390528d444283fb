"""The Art-Net 4 bridge against `stupidArtnet` (sender and server) and raw Art-Net packets from
Python, by unicast on loopback."""

import asyncio
import socket
import struct
import threading
import time

import pytest
from stupidArtnet import StupidArtnet, StupidArtnetServer

from conftest import async_test, free_udp_port
from dmx_peers import bridge_config, dmx_client, eventually, set_level, wait_for_bridge

ART_NET = b"Art-Net\x00"


def start_bridge(own_gateway, tmp_path, **options):
    config = bridge_config(tmp_path, "rig", "artnet", bind="127.0.0.1", **options)
    gateway = own_gateway("--config", str(config))
    wait_for_bridge(gateway, "rig", "artnet")
    return gateway


def art_poll():
    return ART_NET + struct.pack("<H", 0x2000) + bytes([0, 14, 0x02, 0x00])


def parse_poll_reply(data):
    assert len(data) == 239, f"ArtPollReply of {len(data)} bytes"
    assert data[:8] == ART_NET and struct.unpack("<H", data[8:10])[0] == 0x2100
    ports = struct.unpack(">H", data[172:174])[0]
    return {
        "ip": ".".join(str(b) for b in data[10:14]),
        "port": struct.unpack("<H", data[14:16])[0],
        "net": data[18], "subnet": data[19],
        "short_name": data[26:44].split(b"\x00")[0].decode(),
        "long_name": data[44:108].split(b"\x00")[0].decode(),
        "ports": ports,
        "port_types": list(data[174:178]),
        "sw_in": list(data[186:190]), "sw_out": list(data[190:194]),
        "bind_index": data[211], "status2": data[212],
    }


@async_test(timeout=40)
async def test_a_clasp_set_reaches_a_stupidartnet_server(own_gateway, tmp_path):
    server_port = free_udp_port()
    server = StupidArtnetServer(port=server_port)
    got = {}
    listener = server.register_listener(universe=0x0101, is_simplified=True,
                                        callback_function=lambda data: got.update(levels=list(data)))
    try:
        gateway = start_bridge(own_gateway, tmp_path, port=free_udp_port(), output_universes=[0x0101],
                               destinations=[f"127.0.0.1:{server_port}"], poll=False)
        client = await dmx_client(gateway.url, "/dmx/**")
        await set_level(client, "/dmx/257/1", 255)
        await set_level(client, "/dmx/257/3", 0.5)
        await eventually(lambda: got.get("levels", [0])[0] == 255 and got["levels"][2] == 128,
                         what="universe 0:1:1 channels 1 and 3 at stupidArtnet")
        assert len(got["levels"]) == 512
        # Unchanged, the universe is still refreshed about once a second.
        got.clear()
        await eventually(lambda: "levels" in got, timeout=2.5, what="a keep-alive ArtDmx")
        await client.close()
    finally:
        server.delete_listener(listener)
        server.close()


@async_test(timeout=40)
async def test_a_stupidartnet_sender_becomes_clasp_sets(own_gateway, tmp_path):
    port = free_udp_port()
    gateway = start_bridge(own_gateway, tmp_path, port=port, input_universes=[3, 0x7FFF], fail_safe="hold")
    client = await dmx_client(gateway.url, "/dmx/**")
    sender = StupidArtnet("127.0.0.1", universe=3, packet_size=16, port=port, artsync=True)
    try:
        sender.set_single_value(1, 17)
        sender.set_single_value(16, 255)
        sender.show()  # ArtDmx then ArtSync
        await eventually(lambda: client.levels.get("/dmx/3/1") == 17 and client.levels.get("/dmx/3/16") == 255,
                         what="SETs of /dmx/3/1 and /dmx/3/16")
        sender.set_single_value(1, 18)
        sender.show()  # after an ArtSync, the bridge applies data when the next ArtSync comes
        await eventually(lambda: client.levels.get("/dmx/3/1") == 18, what="the synchronized change")
    finally:
        sender.close()
    # The top of the 15-bit range: Net 127, Sub-Net 15, Universe 15. No ArtSync follows: the
    # bridge holds the data until 4 s after the last ArtSync, then takes data as it comes.
    top = StupidArtnet("127.0.0.1", universe=0x7FFF, packet_size=2, port=port)
    try:
        top.set_single_value(2, 9)
        top.show()
        started = time.monotonic()
        await eventually(lambda: client.levels.get("/dmx/32767/2") == 9, timeout=8, what="Port-Address 32767")
        assert time.monotonic() - started >= 2.5
        top.set_single_value(2, 10)
        top.show()
        await eventually(lambda: client.levels.get("/dmx/32767/2") == 10, timeout=1, what="data without ArtSync")
    finally:
        top.close()
    await client.close()


@async_test(timeout=30)
async def test_an_artpoll_gets_a_well_formed_artpollreply(own_gateway, tmp_path):
    port = free_udp_port()
    start_bridge(own_gateway, tmp_path, port=port, output_universes=[0x0121, 0x0122], input_universes=[5],
                 short_name="rig gw", long_name="rig gateway on stage left", poll=False)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as controller:
        controller.bind(("127.0.0.1", 0))
        controller.settimeout(3)
        controller.sendto(art_poll(), ("127.0.0.1", port))
        replies = []
        deadline = time.monotonic() + 3
        while len(replies) < 2 and time.monotonic() < deadline:
            data, sender = controller.recvfrom(2048)
            assert sender == ("127.0.0.1", port)
            replies.append(parse_poll_reply(data))
    replies.sort(key=lambda r: (r["net"], r["subnet"]))
    # One reply per Net/Sub-Net: 0:0 holds the input universe 5, 1:2 the two outputs.
    assert [(r["net"], r["subnet"], r["ports"]) for r in replies] == [(0, 0, 1), (1, 2, 2)]
    first, second = replies
    assert first["ip"] == "127.0.0.1" and first["port"] == 6454
    assert first["short_name"] == "rig gw" and first["long_name"] == "rig gateway on stage left"
    assert first["port_types"][0] == 0x80 and first["sw_out"][0] == 5  # Art-Net in, DMX out: our input
    assert second["port_types"][:2] == [0x40, 0x40] and second["sw_in"][:2] == [1, 2]  # our outputs
    assert {first["bind_index"], second["bind_index"]} == {1, 2}
    assert first["status2"] & 0x08  # 15-bit Port-Addresses


@async_test(timeout=40)
async def test_output_is_unicast_to_a_node_whose_reply_subscribes_to_it(own_gateway, tmp_path):
    port = free_udp_port()
    gateway = start_bridge(own_gateway, tmp_path, port=port, output_universes=[7])
    client = await dmx_client(gateway.url, "/dmx/7/*")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as node:
        node.bind(("127.0.0.1", 0))
        node.settimeout(0.5)
        # An ArtPollReply from a node that outputs Port-Address 7 (Net 0, Sub-Net 0, SwOut 7).
        reply = bytearray(239)
        reply[0:8] = ART_NET
        reply[8:10] = struct.pack("<H", 0x2100)
        reply[10:14] = bytes([127, 0, 0, 1])
        reply[14:16] = struct.pack("<H", 6454)
        reply[26:30] = b"node"
        reply[172:174] = struct.pack(">H", 1)
        reply[174] = 0x80
        reply[190] = 7
        reply[211] = 1
        node.sendto(bytes(reply), ("127.0.0.1", port))
        await asyncio.sleep(0.2)
        await set_level(client, "/dmx/7/2", 77)
        deadline = time.monotonic() + 5
        levels = None
        while time.monotonic() < deadline:
            try:
                data, _ = node.recvfrom(2048)
            except socket.timeout:
                continue
            if data[:10] == ART_NET + b"\x00\x50" and data[14:16] == b"\x07\x00" and data[19] == 77:
                levels = data
                break
        assert levels is not None, "no ArtDmx for Port-Address 7 at the subscribed node"
        assert 1 <= levels[12] <= 255  # sequence in use
    await client.close()


@async_test(timeout=30)
async def test_malformed_packets_are_ignored_and_the_bridge_keeps_working(own_gateway, tmp_path):
    port = free_udp_port()
    gateway = start_bridge(own_gateway, tmp_path, port=port, input_universes=[1])
    client = await dmx_client(gateway.url, "/dmx/1/1")
    good = ART_NET + struct.pack("<H", 0x5000) + bytes([0, 14, 1, 0, 1, 0, 0, 2, 42, 0])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        for junk in (b"", ART_NET, good[:17], good[:16] + b"\x02\x02" + good[18:], good[:10] + b"\x00\x0d" + good[12:],
                     ART_NET + b"\x00\x21" + b"\x00" * 40, b"\xff" * 600):
            raw.sendto(junk, ("127.0.0.1", port))
        raw.sendto(good, ("127.0.0.1", port))
        await eventually(lambda: client.levels.get("/dmx/1/1") == 42, what="the good ArtDmx after the junk")
    assert gateway.alive()
    await client.close()

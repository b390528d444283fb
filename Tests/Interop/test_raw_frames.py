"""Raw CLASP frames over a real WebSocket: what the Python client cannot send or cannot see.

Invalid inputs come from `Tests/Vectors/invalid-frames.json` (the shared test vectors).
"""

import asyncio
import json
import re
import time
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from clasp_wire import (
    F32, I8, RawClient, bundle_payload, frame, get_payload, hello_payload, ping_payload, publish_payload,
    raw_session, set_payload, subscribe_payload, summary, unsubscribe_payload,
)
from conftest import async_test

VECTORS = Path(__file__).resolve().parent.parent / "Vectors"
INVALID = json.loads((VECTORS / "invalid-frames.json").read_text())
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

# Every invalid input that is one WebSocket message (the TCP length-prefix case is not).
MESSAGE_VECTORS = [v for v in INVALID if v["transport_unit"] == "message" and v["category"] != "stream-transport"]
# After HELLO: decoder rejections answer ERROR 100/101; router rejections their own code.
# `first_message_not_hello` is a valid SET, only invalid as a first message.
ROUTER_CODES = {
    "set_address_non_ascii_first_char": {200},
    "subscribe_pattern_without_leading_slash": {202},
    "subscribe_pattern_empty_segment": {202},
    "federation_sync_from_non_peer": {403},
}
AFTER_HELLO = [v for v in MESSAGE_VECTORS if v["category"] != "handshake"]


def expected_codes(vector):
    if vector["category"] == "router":
        return ROUTER_CODES[vector["name"]]
    return {100, 101}


@async_test()
async def test_welcome_names_the_server_and_its_features(gateway):
    client = await RawClient.connect(gateway.url)
    try:
        before = time.time() * 1e6
        welcome = await client.hello("welcome-check")
        assert welcome["version"] == 1
        assert welcome["features"] == 0xF8  # param, event, stream, gesture, timeline
        assert welcome["name"] == "clasp-gateway"
        assert UUID.match(welcome["session"]), welcome["session"]
        assert welcome["token"] == ""
        assert abs(welcome["time"] - before) < 5e6
    finally:
        await client.close()


@async_test()
async def test_ping_is_answered_with_pong(gateway):
    client = await raw_session(gateway.url)
    try:
        for _ in range(3):
            await client.send_payload(ping_payload())
            pong = await client.expect_type("PONG", timeout=2)
            assert pong["raw"] == bytes.fromhex("5301000142")
    finally:
        await client.close()


@async_test()
async def test_binary_bundle_is_applied(gateway):
    sender = await raw_session(gateway.url, "bundler")
    subscriber = await raw_session(gateway.url, "sub")
    try:
        await subscriber.send_payload(subscribe_payload(1, "/rawbundle/**"))
        await subscriber.barrier()
        await sender.send_payload(bundle_payload([
            set_payload("/rawbundle/a", 1.5),
            set_payload("/rawbundle/b", "x"),
            publish_payload("/rawbundle/ev", "event", {"k": True}),
        ]))
        got = {}
        while len(got) < 3:
            msg = await subscriber.recv(timeout=3)
            if msg["type"] in ("SET", "PUBLISH"):
                got[msg["address"]] = msg
        assert got["/rawbundle/a"]["type"] == "SET" and got["/rawbundle/a"]["value"] == 1.5
        assert got["/rawbundle/b"]["value"] == "x"
        assert got["/rawbundle/ev"]["type"] == "PUBLISH" and got["/rawbundle/ev"]["value"] == {"k": True}
        await sender.send_payload(get_payload("/rawbundle/a"))
        snapshot = await sender.expect_type("SNAPSHOT")
        assert [(p["address"], p["value"]) for p in snapshot["params"]] == [("/rawbundle/a", 1.5)]
    finally:
        await sender.close()
        await subscriber.close()


@async_test()
async def test_set_with_qos_fire_gets_no_ack_and_confirm_gets_one(gateway):
    client = await raw_session(gateway.url, "qos")
    try:
        await client.send_payload(set_payload("/qos/fire", 1))
        before = await client.barrier()
        assert [m for m in before if m["type"] == "ACK"] == [], summary(before)
        await client.send_payload(set_payload("/qos/confirm", 2), qos=1)
        ack, _ = await client.expect(lambda m: m["type"] == "ACK", timeout=3)
        assert ack["address"] == "/qos/confirm"
        assert ack["revision"] == 1
    finally:
        await client.close()


@async_test()
async def test_narrow_numbers_are_widened_when_forwarded(gateway):
    writer = await raw_session(gateway.url, "narrow")
    try:
        await writer.send_payload(subscribe_payload(1, "/narrow/**"))
        await writer.barrier()
        await writer.send_payload(set_payload("/narrow/i8", I8(-5)))
        await writer.send_payload(set_payload("/narrow/f32", F32(0.5)))
        echoes = {}
        while len(echoes) < 2:
            msg = await writer.recv(timeout=3)
            if msg["type"] == "SET":
                echoes[msg["address"]] = msg
        assert (echoes["/narrow/i8"]["value_code"], echoes["/narrow/i8"]["value"]) == (0x05, -5)
        assert (echoes["/narrow/f32"]["value_code"], echoes["/narrow/f32"]["value"]) == (0x07, 0.5)
    finally:
        await writer.close()


@async_test()
async def test_get_of_a_missing_address_answers_error_201(gateway):
    client = await raw_session(gateway.url, "getter")
    try:
        started = time.monotonic()
        await client.send_payload(get_payload("/missing/raw"))
        error, skipped = await client.expect(lambda m: m["type"] == "ERROR", timeout=1.0)
        assert time.monotonic() - started < 1.0
        assert error["code"] == 201, error
        assert error["address"] == "/missing/raw"
        assert not [m for m in skipped if m["type"] == "SNAPSHOT" and m["params"]]
    finally:
        await client.close()


@async_test()
async def test_unsubscribe_stops_delivery_on_the_wire(gateway):
    writer = await raw_session(gateway.url, "writer")
    reader = await raw_session(gateway.url, "reader")
    try:
        await reader.send_payload(subscribe_payload(5, "/rawunsub/*"))
        await reader.barrier()
        await writer.send_payload(set_payload("/rawunsub/a", 1))
        first = await reader.expect_type("SET")
        assert first["value"] == 1
        await reader.send_payload(unsubscribe_payload(5))
        await reader.barrier()
        await writer.send_payload(set_payload("/rawunsub/a", 2))
        await writer.barrier()
        late = await reader.barrier()
        assert [m for m in late if m["type"] == "SET"] == [], summary(late)
    finally:
        await writer.close()
        await reader.close()


@pytest.mark.parametrize("vector", AFTER_HELLO, ids=[v["name"] for v in AFTER_HELLO])
@async_test()
async def test_invalid_input_after_hello_is_answered_and_the_connection_survives(gateway, vector):
    client = await raw_session(gateway.url, "hostile")
    try:
        await client.send(bytes.fromhex(vector["hex"]))
        before = await client.barrier(timeout=5)
        errors = [m for m in before if m["type"] == "ERROR"]
        allowed = expected_codes(vector)
        assert len(errors) == 1 and errors[0]["code"] in allowed, (
            f"{vector['name']}: expected one ERROR {sorted(allowed)}, got {summary(before)}"
        )
        # Nothing invalid was applied or forwarded back.
        assert not [m for m in before if m["type"] in ("SET", "PUBLISH")], summary(before)
    finally:
        await client.close()


@pytest.mark.parametrize("vector", MESSAGE_VECTORS, ids=[v["name"] for v in MESSAGE_VECTORS])
@async_test()
async def test_invalid_input_before_hello_closes_the_connection(gateway, vector):
    client = await RawClient.connect(gateway.url)
    try:
        await client.send(bytes.fromhex(vector["hex"]))
        received = []
        try:
            while True:
                received.append(await client.recv(timeout=4))
        except ConnectionClosed:
            pass
        except asyncio.TimeoutError:
            pytest.fail(f"{vector['name']}: connection still open 4 s after an invalid first message")
        assert not [m for m in received if m["type"] == "WELCOME"], summary(received)
    finally:
        await client.close()


@async_test()
async def test_first_message_not_hello_closes_the_connection(gateway):
    """A valid SET before HELLO: one ERROR 101 naming HELLO (docs/router.md), then the close."""
    vector = next(v for v in INVALID if v["name"] == "first_message_not_hello")
    client = await RawClient.connect(gateway.url)
    received = []
    try:
        await client.send(bytes.fromhex(vector["hex"]))
        with pytest.raises(ConnectionClosed):
            while True:
                received.append(await client.recv(timeout=4))
    finally:
        await client.close()
    assert [(m["type"], m.get("code")) for m in received] == [("ERROR", 101)], summary(received)
    assert "HELLO" in received[0]["message"], received[0]
    # And nothing was stored.
    reader = await raw_session(gateway.url, "reader")
    try:
        await reader.send_payload(get_payload("/a"))
        reply, _ = await reader.expect(lambda m: m["type"] in ("ERROR", "SNAPSHOT"), timeout=3)
        assert reply["type"] == "ERROR" and reply["code"] == 201, reply
    finally:
        await reader.close()


@async_test()
async def test_text_frame_gets_error_101_and_the_connection_survives(gateway):
    client = await raw_session(gateway.url, "texter")
    try:
        await client.send("hello, I am text")
        before = await client.barrier()
        assert [m["code"] for m in before if m["type"] == "ERROR"] == [101], summary(before)
    finally:
        await client.close()


def set_frame_with_payload_size(address, payload_size):
    """A SET of a string value whose frame payload is exactly `payload_size` bytes."""
    overhead = len(set_payload(address, ""))
    value = "v" * (payload_size - overhead)
    payload = set_payload(address, value)
    assert len(payload) == payload_size
    return value, payload


@async_test()
async def test_set_with_a_65535_byte_payload_crosses_the_transport_and_is_refused_402(own_gateway):
    """The largest frame the header allows reaches the router intact; its value could not be
    sent back (the echo adds a revision, a snapshot entry more), so it is refused with ERROR
    402 and nothing is stored (docs/router.md, "Largest value")."""
    gateway = own_gateway()  # keeps big values out of the shared gateway's state
    client = await raw_session(gateway.url, "big")
    try:
        await client.send_payload(subscribe_payload(1, "/big/**"))
        await client.barrier()
        value, payload = set_frame_with_payload_size("/big/max", 65535)
        await client.send(frame(payload))
        reply, _ = await client.expect(lambda m: m["type"] in ("SET", "ERROR"), timeout=5)
        assert reply["type"] == "ERROR", summary([reply])
        assert reply["code"] == 402 and reply["address"] == "/big/max", reply
        await client.send_payload(get_payload("/big/max"))
        reply, _ = await client.expect(lambda m: m["type"] in ("ERROR", "SNAPSHOT"), timeout=3)
        assert reply["type"] == "ERROR" and reply["code"] == 201, reply
        await client.barrier()
    finally:
        await client.close()


@async_test()
async def test_publish_with_a_65535_byte_payload_reaches_a_subscriber_unchanged(gateway):
    """A PUBLISH is forwarded in the same layout, so the largest frame round-trips whole."""
    publisher = await raw_session(gateway.url, "big-pub")
    subscriber = await raw_session(gateway.url, "big-sub")
    try:
        await subscriber.send_payload(subscribe_payload(1, "/bigevent/*"))
        await subscriber.barrier()
        overhead = len(publish_payload("/bigevent/x", "event", ""))
        value = "e" * (65535 - overhead)
        payload = publish_payload("/bigevent/x", "event", value)
        assert len(payload) == 65535
        await publisher.send(frame(payload))
        got = await subscriber.expect_type("PUBLISH", timeout=5)
        assert got["address"] == "/bigevent/x" and got["signal"] == "event" and got["value"] == value
        assert len(got["raw"]) == 4 + 65535
        stray = await publisher.barrier()
        assert not [m for m in stray if m["type"] == "ERROR"], summary(stray)
    finally:
        await publisher.close()
        await subscriber.close()


@async_test()
async def test_largest_storable_value_round_trips(own_gateway):
    """A value whose GET reply (a SNAPSHOT entry with revision, writer and timestamp) still fits
    in one frame is echoed and returned by GET unchanged."""
    gateway = own_gateway()
    address = "/big/store"
    # SNAPSHOT payload: type 1 + count 2 + address str + type code 1 + string (2 + n)
    # + revision 8 + flags 1 + writer str (2 + 36) + timestamp 8.
    largest = 65535 - (1 + 2 + 2 + len(address) + 1 + 2 + 8 + 1 + 2 + 36 + 8)
    writer = await raw_session(gateway.url, "big-writer")
    reader = await raw_session(gateway.url, "big-reader")
    try:
        await writer.send_payload(subscribe_payload(1, address))
        await writer.barrier()
        value = "s" * largest
        await writer.send_payload(set_payload(address, value))
        echo, skipped = await writer.expect(lambda m: m["type"] in ("SET", "ERROR"), timeout=5)
        assert echo["type"] == "SET" and echo["value"] == value, summary([echo] + skipped)
        await reader.send_payload(get_payload(address))
        snapshot, _ = await reader.expect(
            lambda m: m["type"] == "SNAPSHOT" and any(p["address"] == address for p in m["params"]), timeout=5)
        assert [p["value"] for p in snapshot["params"] if p["address"] == address] == [value]
        assert len(snapshot["raw"]) <= 65535 + 4
    finally:
        await writer.close()
        await reader.close()


@async_test(timeout=60)
async def test_200_clients_connecting_and_disconnecting_at_once(own_gateway):
    gateway = own_gateway()

    async def one(i):
        client = await RawClient.connect(gateway.url, timeout=15)
        welcome = await client.hello(f"crowd-{i}")
        await client.close()
        return welcome["session"]

    sessions = await asyncio.gather(*(one(i) for i in range(200)))
    assert len(set(sessions)) == 200
    # The gateway still serves a new client.
    client = await raw_session(gateway.url, "after-crowd")
    try:
        await client.send_payload(set_payload("/crowd/after", 1), qos=1)
        ack, _ = await client.expect(lambda m: m["type"] == "ACK", timeout=3)
        assert ack["address"] == "/crowd/after"
        await client.barrier()
    finally:
        await client.close()


@async_test(timeout=30)
async def test_garbage_flood_closes_only_that_connection(gateway):
    bystander = await raw_session(gateway.url, "bystander")
    flooder = await raw_session(gateway.url, "flooder")
    try:
        garbage = bytes.fromhex("5401000141")  # bad magic
        started = time.monotonic()
        try:
            for _ in range(150):
                await flooder.send(garbage)
        except ConnectionClosed:
            pass
        assert time.monotonic() - started < 1.0, "sending the flood took more than a second"
        assert await flooder.wait_closed(timeout=5), "the flooding connection was not closed"
        await bystander.barrier()
        await bystander.send_payload(set_payload("/flood/bystander", 1), qos=1)
        ack, _ = await bystander.expect(lambda m: m["type"] == "ACK", timeout=3)
        assert ack["address"] == "/flood/bystander"
    finally:
        await flooder.close()
        await bystander.close()


@async_test()
async def test_gesture_phases_and_id_are_forwarded(gateway):
    publisher = await raw_session(gateway.url, "pen")
    subscriber = await raw_session(gateway.url, "sub")
    try:
        await subscriber.send_payload(subscribe_payload(1, "/rawtouch/*"))
        await subscriber.barrier()
        await publisher.send_payload(publish_payload("/rawtouch/a", "gesture", {"x": 0.0}, "start", gesture_id=42))
        await publisher.send_payload(publish_payload("/rawtouch/a", "gesture", {"x": 0.5}, "move", gesture_id=42))
        await publisher.send_payload(publish_payload("/rawtouch/a", "gesture", {"x": 1.0}, "end", gesture_id=42))
        got = []
        while not got or got[-1]["phase"] != "end":
            msg = await subscriber.recv(timeout=3)
            if msg["type"] == "PUBLISH":
                got.append(msg)
        assert [m["phase"] for m in got] == ["start", "move", "end"]
        assert all(m["signal"] == "gesture" and m["gesture_id"] == 42 for m in got)
        assert got[1]["value"] == {"x": 0.5}
        stray = await publisher.barrier()
        assert [m for m in stray if m["type"] == "PUBLISH" and m["phase"] != "move"] == []
    finally:
        await publisher.close()
        await subscriber.close()


@async_test()
async def test_second_hello_is_refused(gateway):
    client = await raw_session(gateway.url, "twice")
    try:
        await client.send_payload(hello_payload("again"))
        before = await client.barrier()
        assert [m for m in before if m["type"] == "WELCOME"] == [], summary(before)
    except ConnectionClosed:
        pass  # closing the connection is also a refusal
    finally:
        await client.close()

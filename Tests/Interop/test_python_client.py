"""The official Python client (`clasp-to` 4.2.0) against the gateway, over real loopback sockets.

The client has no public ping, so `barrier()` sends its PING message through the client's own
`_send` and waits for the PONG: everything the router queued for that connection before the
PONG has then arrived. Every message the client decodes is recorded (`client.received`) by
wrapping its `_handle_message`, so the tests can assert on what really came over the wire.
"""

import asyncio
import math
import re
import time

import pytest
from clasp import Clasp
from clasp.client import ClaspError

from clasp_wire import RawClient, announce_payload, raw_session
from conftest import async_test, wait_until

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


async def connect(url, name="interop"):
    client = Clasp(url, name=name, reconnect=False)
    client.received = []
    original = client._handle_message

    def handle(message):
        client.received.append(message)
        original(message)

    client._handle_message = handle
    await asyncio.wait_for(client.connect(), 5)
    return client


async def barrier(client, timeout=5.0):
    """Lets queued client tasks (subscribe/unsubscribe) send, then PING and wait for the PONG."""
    for _ in range(3):
        await asyncio.sleep(0.01)
    pongs = sum(1 for m in client.received if m.get("type") == "PONG")
    await client._send({"type": "PING"})
    await wait_until(lambda: sum(1 for m in client.received if m.get("type") == "PONG") > pongs, timeout, what="PONG")


def collector(client, pattern):
    """Subscribes and returns the list that the callback appends (address, value) to."""
    seen = []
    unsubscribe = client.subscribe(pattern, lambda value, address: seen.append((address, value)))
    return seen, unsubscribe


def values_for(seen, address):
    return [value for addr, value in seen if addr == address]


def same_value(a, b):
    """Equality that treats NaN as equal to NaN and tells -0.0 from 0.0."""
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


async def close_all(*clients):
    for client in clients:
        await client.close()


@async_test()
async def test_connect_gives_a_uuid_session(gateway):
    client = await connect(gateway.url)
    try:
        assert client.connected
        assert UUID.match(client.session_id), client.session_id
        other = await connect(gateway.url)
        assert other.session_id != client.session_id
        await other.close()
    finally:
        await client.close()


VALUES = [
    ("null", None),
    ("true", True),
    ("false", False),
    ("zero", 0),
    ("negative", -42),
    ("i64_max", 2**63 - 1),
    ("i64_min", -(2**63)),
    ("float", 0.75),
    ("nan", float("nan")),
    ("inf", float("inf")),
    ("neg_inf", float("-inf")),
    ("neg_zero", -0.0),
    ("empty_string", ""),
    ("unicode", "héllo wörld ✓ 😀 日本語"),
    ("empty_bytes", b""),
    ("bytes", bytes(range(256))),
    ("list", [1, "two", [3.5, None, True], b"\x00\x01"]),
    ("dict", {"a": 1, "b": {"c": [False, "x"], "d": -0.5}, "e": None}),
]


@pytest.mark.parametrize("name,value", VALUES, ids=[v[0] for v in VALUES])
@async_test()
async def test_set_then_get_returns_every_value_type(gateway, name, value):
    address = f"/types/{name}"
    writer = await connect(gateway.url, "writer")
    subscriber = await connect(gateway.url, "subscriber")
    try:
        seen, _ = collector(subscriber, "/types/**")
        await barrier(subscriber)
        await writer.set(address, value)
        await barrier(writer)
        # The live echo to a subscriber.
        await wait_until(lambda: values_for(seen, address), what=f"echo of {address}")
        assert same_value(values_for(seen, address)[-1], value), values_for(seen, address)
        # A client that connects afterwards gets it from the router (initial SNAPSHOT or GET).
        reader = await connect(gateway.url, "reader")
        try:
            got = await reader.get(address, timeout=3)
            assert same_value(got, value), got
            snapshots = [p for m in reader.received if m.get("type") == "SNAPSHOT" for p in m["params"]]
            assert any(p["address"] == address and same_value(p["value"], value) for p in snapshots)
        finally:
            await reader.close()
    finally:
        await close_all(writer, subscriber)


@async_test()
async def test_single_segment_wildcard_is_seen_by_a_second_client(gateway):
    publisher = await connect(gateway.url, "pub")
    subscriber = await connect(gateway.url, "sub")
    try:
        seen, _ = collector(subscriber, "/wc1/*")
        await barrier(subscriber)
        for address in ["/wc1/a", "/wc1/a/b", "/wc1x", "/other/a", "/wc1/b"]:
            await publisher.set(address, address)
        await publisher.set("/wc1/zz_end", 1)
        await wait_until(lambda: values_for(seen, "/wc1/zz_end"), what="end marker")
        assert [a for a, _ in seen] == ["/wc1/a", "/wc1/b", "/wc1/zz_end"]
        assert values_for(seen, "/wc1/a") == ["/wc1/a"]
    finally:
        await close_all(publisher, subscriber)


@async_test()
async def test_multi_segment_wildcard_is_seen_by_a_second_client(gateway):
    publisher = await connect(gateway.url, "pub")
    subscriber = await connect(gateway.url, "sub")
    try:
        seen, _ = collector(subscriber, "/wc2/**")
        await barrier(subscriber)
        for address in ["/wc2/a", "/wc2x/a", "/wc2/a/b/c", "/other/wc2/a", "/wc2/d/e"]:
            await publisher.set(address, 1)
        await publisher.set("/wc2/zz_end", 1)
        await wait_until(lambda: values_for(seen, "/wc2/zz_end"), what="end marker")
        assert [a for a, _ in seen] == ["/wc2/a", "/wc2/a/b/c", "/wc2/d/e", "/wc2/zz_end"]
    finally:
        await close_all(publisher, subscriber)


@pytest.mark.parametrize("kind", ["event", "stream"])
@async_test()
async def test_emit_and_stream_reach_subscribers_but_not_the_publisher(gateway, kind):
    publisher = await connect(gateway.url, "pub")
    subscriber = await connect(gateway.url, "sub")
    prefix = f"/signal-{kind}"
    try:
        seen, _ = collector(subscriber, prefix + "/**")
        own, _ = collector(publisher, prefix + "/**")
        await barrier(subscriber)
        await barrier(publisher)
        payload = {"n": 1, "kind": kind}
        if kind == "event":
            await publisher.emit(prefix + "/x", payload)
        else:
            await publisher.stream(prefix + "/x", 0.25)
        await wait_until(lambda: seen, what=f"{kind} at the subscriber")
        expected = payload if kind == "event" else 0.25
        assert seen == [(prefix + "/x", expected)]
        publishes = [m for m in subscriber.received if m.get("type") == "PUBLISH"]
        assert [m["signal"] for m in publishes] == [kind]
        assert publishes[0]["timestamp"] is not None
        await barrier(publisher)
        assert own == [], f"{kind} was echoed to its publisher: {own}"
        assert not [m for m in publisher.received if m.get("type") == "PUBLISH"]
    finally:
        await close_all(publisher, subscriber)


@async_test()
async def test_gesture_start_move_end_reach_a_subscriber(gateway):
    publisher = await connect(gateway.url, "pen")
    subscriber = await connect(gateway.url, "sub")
    try:
        seen, _ = collector(subscriber, "/touch/**")
        await barrier(subscriber)
        await publisher.gesture("/touch/pad", 7, "start", {"phase": "start", "x": 0.0})
        for step in (1, 2, 3):
            await publisher.gesture("/touch/pad", 7, "move", {"phase": "move", "x": step / 10})
        await publisher.gesture("/touch/pad", 7, "end", {"phase": "end", "x": 0.3})
        await wait_until(lambda: any(v["phase"] == "end" for _, v in seen), what="gesture end")
        phases = [v["phase"] for _, v in seen]
        assert phases[0] == "start" and phases[-1] == "end", phases
        assert "move" in phases, phases
        moves = [v["x"] for _, v in seen if v["phase"] == "move"]
        assert moves[-1] == 0.3, "the latest move must win"
        assert moves == sorted(moves), "moves arrive in order"
        wire = [m for m in subscriber.received if m.get("type") == "PUBLISH"]
        assert all(m["signal"] == "gesture" and m["id"] == 7 and m["address"] == "/touch/pad" for m in wire)
        assert [m["phase"] for m in wire] == phases
    finally:
        await close_all(publisher, subscriber)


@async_test()
async def test_late_joiner_receives_current_values(gateway):
    writer = await connect(gateway.url, "writer")
    try:
        await writer.set("/late/a", 1)
        await writer.set("/late/b", "two")
        await writer.set("/late/a", 3)
        await barrier(writer)
        joiner = await connect(gateway.url, "joiner")
        try:
            seen, _ = collector(joiner, "/late/**")
            await wait_until(lambda: {a for a, _ in seen} >= {"/late/a", "/late/b"}, what="late-join snapshot")
            assert values_for(seen, "/late/a")[-1] == 3
            assert values_for(seen, "/late/b")[-1] == "two"
            assert joiner.cached("/late/a") == 3
        finally:
            await joiner.close()
    finally:
        await writer.close()


@async_test()
async def test_unsubscribe_stops_delivery(gateway):
    writer = await connect(gateway.url, "writer")
    subscriber = await connect(gateway.url, "sub")
    try:
        seen, unsubscribe = collector(subscriber, "/unsub/**")
        await barrier(subscriber)
        await writer.set("/unsub/a", 1)
        await wait_until(lambda: values_for(seen, "/unsub/a") == [1], what="first value")
        unsubscribe()
        await barrier(subscriber)
        await writer.set("/unsub/a", 2)
        await barrier(writer)
        await barrier(subscriber)
        wire_sets = [m for m in subscriber.received if m.get("type") == "SET" and m["address"] == "/unsub/a"]
        assert [m["value"] for m in wire_sets] == [1], "the router kept delivering after UNSUBSCRIBE"
    finally:
        await close_all(writer, subscriber)


@async_test(timeout=60)
async def test_client_keeps_receiving_after_500_sets(gateway):
    client = await connect(gateway.url, "busy")
    other = await connect(gateway.url, "other")
    try:
        seen, _ = collector(client, "/many/**")
        await barrier(client)
        for i in range(500):
            await client.set("/many/x", i)
        await wait_until(lambda: values_for(seen, "/many/x")[-1:] == [499], timeout=15, what="the 500th echo")
        await other.set("/many/y", "from another client")
        await wait_until(lambda: values_for(seen, "/many/y"), what="a later SET from another client")
        assert not client._receive_task.done(), "the client's receive loop ended (an ACK or undecodable message?)"
        assert client.connected
        assert values_for(seen, "/many/x") == list(range(500))
    finally:
        await close_all(client, other)


@async_test()
async def test_get_of_a_missing_address_is_answered_with_error_201_quickly(gateway):
    client = await connect(gateway.url, "getter")
    try:
        started = time.monotonic()
        getter = asyncio.ensure_future(client.get("/missing/nothing-here", timeout=1.5))
        await wait_until(
            lambda: any(m.get("type") == "ERROR" for m in client.received), timeout=1.0, what="ERROR for the GET"
        )
        elapsed = time.monotonic() - started
        error = next(m for m in client.received if m.get("type") == "ERROR")
        assert error["code"] == 201, error
        assert error["address"] == "/missing/nothing-here"
        assert elapsed < 1.0
        # clasp-to only prints ERROR, so its get() still ends with its own timeout.
        with pytest.raises(ClaspError):
            await getter
    finally:
        await client.close()


@async_test()
async def test_bundle_from_the_python_client_applies_its_sets(gateway):
    sender = await connect(gateway.url, "bundler")
    subscriber = await connect(gateway.url, "sub")
    try:
        seen, _ = collector(subscriber, "/bundle/**")
        await barrier(subscriber)
        await sender.bundle([
            {"set": ["/bundle/a", 1]},
            {"set": ["/bundle/b", "two"]},
            {"emit": ["/bundle/ev", {"k": 1}]},
        ])
        await wait_until(
            lambda: {a for a, _ in seen} >= {"/bundle/a", "/bundle/b", "/bundle/ev"}, what="bundle contents"
        )
        assert values_for(seen, "/bundle/a") == [1]
        assert values_for(seen, "/bundle/b") == ["two"]
        assert values_for(seen, "/bundle/ev") == [{"k": 1}]
        reader = await connect(gateway.url, "reader")
        try:
            assert await reader.get("/bundle/b", timeout=3) == "two"
        finally:
            await reader.close()
        assert not sender._receive_task.done(), "the bundle's sender stopped receiving (ACK?)"
    finally:
        await close_all(sender, subscriber)


@async_test()
async def test_query_signals_lists_announced_signals(gateway):
    announcer = await raw_session(gateway.url, "announcer")
    client = await connect(gateway.url, "querier")
    try:
        await announcer.send_payload(announce_payload("/q", [
            ("/q/fader/1", "param", "f64", "rw"),
            ("/q/button", "event", None, None),
            ("/elsewhere/x", "stream", None, None),
        ]))
        await announcer.barrier()
        signals = await client.query_signals("/q/**", timeout=3)
        by_address = {s["address"]: s for s in signals}
        assert set(by_address) == {"/q/fader/1", "/q/button"}, signals
        assert by_address["/q/fader/1"]["type"] == "param"
        assert by_address["/q/fader/1"]["datatype"] == "f64"
        assert by_address["/q/fader/1"]["access"] == "rw"
        assert by_address["/q/button"]["type"] == "event"
        assert await client.query_signals("/nothing/**", timeout=3) == []
    finally:
        await announcer.close()
        await client.close()


@async_test()
async def test_python_client_receives_errors_without_breaking(gateway):
    """An ERROR (here 202 for a bad pattern) is decoded by the client, which keeps receiving."""
    client = await connect(gateway.url, "errors")
    try:
        client.subscribe("no-leading-slash/**", lambda v, a: None)
        await barrier(client)
        errors = [m for m in client.received if m.get("type") == "ERROR"]
        assert [e["code"] for e in errors] == [202], errors
        assert errors[0]["address"] == "no-leading-slash/**"
        seen, _ = collector(client, "/after-error/**")
        await barrier(client)
        await client.set("/after-error/x", 1)
        await wait_until(lambda: seen, what="echo after an ERROR")
    finally:
        await client.close()

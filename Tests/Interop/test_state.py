"""Param semantics, bundles and QoS over real sockets: locks, strategies, constraints, TTL,
scheduled bundles, ACK by QoS, commit de-duplication (docs/router.md).

The official client (`clasp-to`) is used where it can express the case (plain and TTL SETs,
subscriptions, its MessagePack bundles); the raw-frame client for the rest (lock flags, QoS
bits, frame timestamps, binary bundles with a time, reading ERROR codes and ACKs).
"""

import asyncio
import time

from clasp_wire import (
    bundle_payload, get_payload, publish_payload, raw_session, set_payload, subscribe_payload,
)
from conftest import async_test, wait_until
from test_python_client import barrier, close_all, collector, connect, values_for

SLIDING = 0
ABSOLUTE = 0x80000000


def now_us():
    return time.time_ns() // 1_000


async def errors_after(client, timeout=5.0):
    return [m for m in await client.barrier(timeout) if m["type"] == "ERROR"]


@async_test()
async def test_a_lock_refuses_other_writers_with_401_until_its_holder_leaves(gateway):
    holder = await raw_session(gateway.url, "holder")
    other = await raw_session(gateway.url, "other")
    official = await connect(gateway.url)
    try:
        seen, _ = collector(official, "/interop/lock/**")
        await barrier(official)
        await holder.send_payload(set_payload("/interop/lock/master", 0.5, lock=True))
        await holder.barrier()
        await other.send_payload(set_payload("/interop/lock/master", 0.9))
        errors = await errors_after(other)
        assert [(e["code"], e["message"], e["address"]) for e in errors] == [
            (401, f"lock held by {holder.session}", "/interop/lock/master")]
        # Setting the unlock flag does not get a non-holder past the lock (the reference lets it).
        await other.send_payload(set_payload("/interop/lock/master", 0.9, unlock=True))
        errors = await errors_after(other)
        assert [e["code"] for e in errors] == [401]
        await barrier(official)
        assert values_for(seen, "/interop/lock/master") == [0.5]
        # The holder disconnects: the lock goes with it.
        await holder.close()
        for _ in range(50):
            await other.send_payload(set_payload("/interop/lock/master", 0.9))
            if not await errors_after(other):
                break
            await asyncio.sleep(0.02)
        await barrier(official)
        assert values_for(seen, "/interop/lock/master") == [0.5, 0.9]
    finally:
        await close_all(official)
        await other.close()


@async_test()
async def test_a_ttl_set_by_the_official_client_expires_and_subscribers_get_null(gateway):
    writer = await connect(gateway.url, name="ttl-writer")
    watcher = await connect(gateway.url, name="ttl-watcher")
    try:
        seen, _ = collector(watcher, "/interop/ttl/**")
        await barrier(watcher)
        await writer.set("/interop/ttl/presence", True, ttl=1)
        await wait_until(lambda: values_for(seen, "/interop/ttl/presence") == [True], 3, what="the value")
        started = time.monotonic()
        await wait_until(lambda: len(values_for(seen, "/interop/ttl/presence")) == 2, 4, what="the expiry notice")
        assert values_for(seen, "/interop/ttl/presence") == [True, None]
        assert 0.8 <= time.monotonic() - started <= 2.0
        raw = await raw_session(gateway.url)
        await raw.send_payload(get_payload("/interop/ttl/presence"))
        assert [e["code"] for e in await errors_after(raw)] == [201]
        await raw.close()
    finally:
        await close_all(writer, watcher)


@async_test()
async def test_ack_follows_the_qos_bits(gateway):
    client = await raw_session(gateway.url)
    try:
        for qos in (0, 1, 2):
            await client.send_payload(set_payload(f"/interop/qos/{qos}", qos), qos=qos)
        replies = await client.barrier()
        acks = [(m["address"], m["revision"]) for m in replies if m["type"] == "ACK"]
        assert acks == [("/interop/qos/1", 1), ("/interop/qos/2", 1)]
    finally:
        await client.close()


@async_test()
async def test_a_retransmitted_commit_is_applied_once_across_a_reconnect(gateway):
    watcher = await raw_session(gateway.url, "dedupe-watcher")
    await watcher.send_payload(subscribe_payload(1, "/interop/dedupe/**"))
    await watcher.barrier()
    stamp = now_us()
    first = await raw_session(gateway.url, "dedupe-console")
    await first.send_payload(set_payload("/interop/dedupe/go", 1), qos=2, timestamp=stamp)
    ack = await first.expect_type("ACK")
    assert (ack["address"], ack["revision"]) == ("/interop/dedupe/go", 1)
    await first.close()
    again = await raw_session(gateway.url, "dedupe-console")
    try:
        await again.send_payload(set_payload("/interop/dedupe/go", 1), qos=2, timestamp=stamp)
        await again.send_payload(set_payload("/interop/dedupe/go", 2), qos=2, timestamp=stamp + 1)
        replies = await again.barrier()
        assert [(m["type"], m.get("revision")) for m in replies] == [("ACK", 1), ("ACK", 2)]
        echoes = [m for m in await watcher.barrier() if m["type"] == "SET"]
        assert [(m["value"], m["revision"]) for m in echoes] == [(1, 1), (2, 2)]
    finally:
        await again.close()
        await watcher.close()


@async_test()
async def test_a_scheduled_bundle_arrives_at_its_time_with_its_items_together(gateway):
    sender = await raw_session(gateway.url, "scheduler")
    watcher = await raw_session(gateway.url, "bundle-watcher")
    try:
        await watcher.send_payload(subscribe_payload(1, "/interop/cue/**"))
        await watcher.barrier()
        due = now_us() + 300_000
        await sender.send_payload(bundle_payload([
            set_payload("/interop/cue/a", 1),
            publish_payload("/interop/cue/go", "event", 1),
            set_payload("/interop/cue/b", 2),
        ], timestamp=due), qos=1)
        first = await watcher.recv(2.0)
        arrived = now_us()
        rest = [await watcher.recv(1.0), await watcher.recv(1.0)]
        got = [(m["type"], m["address"]) for m in [first] + rest]
        assert got == [("SET", "/interop/cue/a"), ("PUBLISH", "/interop/cue/go"), ("SET", "/interop/cue/b")]
        # Never early; late only by scheduling and loopback delay (precision is benchmarked).
        assert due <= arrived <= due + 50_000, f"arrived {arrived - due} µs from its time"
        ack = await sender.expect_type("ACK")
        assert ack["revision"] == 1
    finally:
        await sender.close()
        await watcher.close()


@async_test()
async def test_a_bundle_with_a_failing_item_changes_nothing(gateway):
    client = await raw_session(gateway.url, "bundler")
    try:
        await client.send_payload(set_payload("/interop/atomic/a", 0))  # revision 1
        await client.send_payload(bundle_payload([
            set_payload("/interop/atomic/a", 1, revision=1),
            set_payload("/interop/atomic/b", 1),
            set_payload("/interop/atomic/a", 2, revision=1),
        ]))
        errors = await errors_after(client)
        assert [(e["code"], e["message"], e["address"]) for e in errors] == [
            (400, "bundle rejected at item 3: revision conflict: expected 1, actual 2", "/interop/atomic/a")]
        await client.send_payload(get_payload("/interop/atomic/b"))
        assert [e["code"] for e in await errors_after(client)] == [201]
    finally:
        await client.close()


@async_test()
async def test_the_official_clients_bundle_with_a_time_waits_for_it(gateway):
    client = await connect(gateway.url, name="bundle-official")
    try:
        arrivals = []
        client.subscribe("/interop/obundle/**", lambda value, address: arrivals.append((address, value, now_us())))
        await barrier(client)
        due = now_us() + 300_000
        await client.bundle([{"set": ["/interop/obundle/x", 1.0]}, {"set": ["/interop/obundle/y", 2.0]}], at=due)
        await asyncio.sleep(0.2)
        assert arrivals == []
        await wait_until(lambda: len(arrivals) == 2, 3, what="both items")
        assert [(a, v) for a, v, _ in arrivals] == [("/interop/obundle/x", 1.0), ("/interop/obundle/y", 2.0)]
        assert all(due <= t <= due + 50_000 for _, _, t in arrivals), [t - due for _, _, t in arrivals]
    finally:
        await close_all(client)


@async_test()
async def test_a_second_subscription_does_not_resend_params_already_sent(gateway):
    writer = await raw_session(gateway.url)
    reader = await raw_session(gateway.url)
    try:
        for address in ("/interop/once/a/1", "/interop/once/a/2", "/interop/once/b/1"):
            await writer.send_payload(set_payload(address, 1))
        await writer.barrier()
        await reader.send_payload(subscribe_payload(1, "/interop/once/a/**"))
        await reader.send_payload(subscribe_payload(2, "/interop/once/**"))
        snapshots = [m for m in await reader.barrier() if m["type"] == "SNAPSHOT"]
        assert [[p["address"] for p in s["params"]] for s in snapshots] == [
            ["/interop/once/a/1", "/interop/once/a/2"], ["/interop/once/b/1"]]
    finally:
        await writer.close()
        await reader.close()


RULES = """
[params."/rules/peak"]
strategy = "max"

[params."/rules/dimmer/*"]
type = "number"
min = 0
max = 1

[params."/rules/stage/**"]
strategy = "lock"
"""


@async_test()
async def test_rules_from_the_config_file_apply(own_gateway, tmp_path):
    config = tmp_path / "rules.toml"
    config.write_text(RULES)
    gw = own_gateway("--config", str(config))
    official = await connect(gw.url, name="rules-official")
    first = await raw_session(gw.url, "first")
    second = await raw_session(gw.url, "second")
    try:
        seen, _ = collector(official, "/rules/**")
        await barrier(official)
        for value in (3.0, 1.0, 5.0):
            await official.set("/rules/peak", value)
        await official.set("/rules/dimmer/1", 0.5)
        await barrier(official)
        await wait_until(lambda: len(seen) == 3, 3, what="accepted writes")
        assert seen == [("/rules/peak", 3.0), ("/rules/peak", 5.0), ("/rules/dimmer/1", 0.5)]
        await first.send_payload(set_payload("/rules/dimmer/1", 1.5))
        await first.send_payload(set_payload("/rules/peak", 4.0))
        await first.send_payload(set_payload("/rules/stage/spot", 1))
        errors = await errors_after(first)
        assert [(e["code"], e["message"]) for e in errors] == [
            (402, "invalid value for /rules/dimmer/1: 1.5 is above the maximum 1"),
            (400, "conflict strategy max: 4 is not above the current 5"),
        ]
        await second.send_payload(set_payload("/rules/stage/spot", 2))
        errors = await errors_after(second)
        assert [(e["code"], e["message"]) for e in errors] == [(401, f"lock held by {first.session}")]
    finally:
        await close_all(official)
        await first.close()
        await second.close()

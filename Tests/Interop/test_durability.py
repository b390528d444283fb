"""Durability over real processes: state survives a restart and `kill -9`; a damaged state
database stops the start with a clear message and is left untouched (docs/durability.md)."""

import asyncio
import signal
import subprocess
import time

from clasp_wire import raw_session, set_payload, subscribe_payload
from conftest import GATEWAY_BIN, async_test
from test_python_client import barrier, close_all, collector, connect


async def snapshot_of(url, pattern="/**"):
    """Every param the gateway holds under `pattern`: address → (value, revision)."""
    client = await raw_session(url, "snapshot-reader")
    try:
        await client.send_payload(subscribe_payload(1, pattern))
        params = {}
        for message in await client.barrier(timeout=15):
            if message["type"] == "SNAPSHOT":
                for param in message["params"]:
                    params[param["address"]] = (param["value"], param["revision"])
        return params
    finally:
        await client.close()


def test_state_survives_a_restart_and_the_official_client_sees_it(own_gateway):
    first = own_gateway()

    async def write():
        client = await connect(first.url, name="writer")
        try:
            await client.set("/keep/level", 0.75)
            await client.set("/keep/level", 0.5)
            await client.set("/keep/name", "house")
            await client.set("/keep/list", [1, "two", 3.5])
            await barrier(client)
        finally:
            await close_all(client)

    asyncio.run(write())
    code, _ = first.stop(signal.SIGTERM)
    assert code == 0, first.log()[-3000:]
    second = own_gateway()
    assert "restored 3 params" in second.log()

    async def read():
        client = await connect(second.url, name="reader")
        try:
            seen, _ = collector(client, "/keep/**")
            await barrier(client)
            assert sorted(seen) == sorted([("/keep/level", 0.5), ("/keep/name", "house"), ("/keep/list", [1, "two", 3.5])])
            return await snapshot_of(second.url, "/keep/**")
        finally:
            await close_all(client)

    state = asyncio.run(read())
    assert state["/keep/level"] == (0.5, 2)


def test_every_commit_acknowledged_before_kill_9_is_there_after_restart(own_gateway):
    """A writer pipelines QoS-commit SETs; the gateway is killed with SIGKILL while they flow;
    after a restart every acknowledged (address, revision) is present."""
    gateway = own_gateway()
    acked = {}

    async def load():
        client = await raw_session(gateway.url, "crash-writer")
        sent = 0

        async def reader():
            try:
                while True:
                    message = await client.recv(timeout=10)
                    if message["type"] == "ACK":
                        acked[message["address"]] = message["revision"]
            except Exception:  # the connection dies with the gateway
                return

        task = asyncio.create_task(reader())
        try:
            while sent < 100_000:
                # 50 addresses, each written over and over: revisions climb.
                await client.send_payload(set_payload(f"/crash/{sent % 50}", sent), qos=2)
                sent += 1
                if sent % 50 == 0:
                    await asyncio.sleep(0)
                if sent >= 5_000 and len(acked) == 50 and gateway.alive():
                    gateway.process.send_signal(signal.SIGKILL)
                    break
        except Exception:
            pass
        await asyncio.wait_for(task, 15)
        return sent

    sent = asyncio.run(load())
    print(f"sent {sent}, acknowledged addresses {len(acked)}, highest revision {max(acked.values())}")
    assert gateway.wait(5) == -signal.SIGKILL, "the gateway was killed mid-load"
    assert len(acked) == 50 and sent >= 5_000, f"load too small to mean anything: {len(acked)} addresses, {sent} sent"
    restarted = own_gateway()
    state = asyncio.run(snapshot_of(restarted.url, "/crash/**"))
    missing = {a: r for a, r in acked.items() if a not in state or state[a][1] < r}
    assert not missing, f"acknowledged but lost: {missing}"
    # The value stored with each revision is the one that was written with it.
    for address, (value, revision) in state.items():
        index = int(address.rsplit("/", 1)[1])
        assert value == (revision - 1) * 50 + index, (address, value, revision)


def test_a_corrupt_state_database_stops_the_start_and_is_left_untouched(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    database = data / "state.sqlite3"
    garbage = b"this is not an SQLite database" * 100
    database.write_bytes(garbage)
    result = subprocess.run(
        [GATEWAY_BIN, "--bind", "127.0.0.1", "--port", "0", "--tcp-port", "0", "--udp-port", "0",
         "--wss-port", "0", "--tcps-port", "0", "--admin-port", "0", "--discovery-port", "0", "--data-dir", str(data)],
        cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=15,
    )
    assert result.returncode == 1, result.stderr
    assert str(database) in result.stderr
    assert "mv " in result.stderr and "docs/durability.md" in result.stderr, result.stderr
    assert database.read_bytes() == garbage
    assert "listening on" not in result.stderr


def test_a_playing_timeline_survives_a_restart(own_gateway):
    first = own_gateway()

    async def publish():
        client = await connect(first.url, name="tl-writer")
        try:
            await client._send({
                "type": "PUBLISH", "address": "/keep/tl", "signal": "timeline",
                "value": {"keyframes": [{"time": 0, "value": 0.0}, {"time": 1_000_000, "value": 1.0}], "loop": True},
            })
            await barrier(client)
        finally:
            await close_all(client)

    asyncio.run(publish())
    code, _ = first.stop(signal.SIGTERM)
    assert code == 0, first.log()[-3000:]
    second = own_gateway()
    assert "1 timelines" in second.log()

    async def watch():
        client = await connect(second.url, name="tl-watcher")
        try:
            values = []
            client.subscribe("/keep/tl", lambda value, address: values.append(value) if isinstance(value, float) else None)
            await asyncio.sleep(0.5)
            return values
        finally:
            await close_all(client)

    values = asyncio.run(watch())
    assert len(set(values)) >= 10, f"the looping timeline should keep moving after the restart: {values[:10]}"

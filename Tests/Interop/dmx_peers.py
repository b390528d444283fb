"""Helpers shared by the sACN and Art-Net interop tests: a gateway with a bridge
table, and a raw CLASP client that collects the SETs under /dmx."""

import asyncio
import time

from websockets.exceptions import ConnectionClosed

from clasp_wire import raw_session, set_payload, subscribe_payload


def bridge_config(tmp_path, bridge_id, kind, **options):
    """A config file with one `[bridges.<id>]` table (values written as TOML)."""

    def toml(value):
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            return f'"{value}"'
        if isinstance(value, (list, tuple)):
            return "[" + ", ".join(toml(item) for item in value) + "]"
        return str(value)

    lines = [f"[bridges.{bridge_id}]", f'kind = "{kind}"'] + [f"{key} = {toml(value)}" for key, value in options.items()]
    path = tmp_path / f"{bridge_id}.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def wait_for_bridge(gateway, bridge_id, kind, timeout=10.0):
    deadline = time.monotonic() + timeout
    while f"bridge {bridge_id} ({kind}) running" not in gateway.log():
        assert gateway.alive() and time.monotonic() < deadline, gateway.log()
        time.sleep(0.02)


async def dmx_client(url, pattern):
    """A raw CLASP session subscribed to `pattern`; its `levels` dict fills as SETs arrive."""
    client = await raw_session(url, "dmx-test")
    client.levels = {}
    await client.send_payload(subscribe_payload(1, pattern))
    await client.barrier()

    async def collect():
        try:
            while True:
                message = await client.recv(timeout=3600)
                if message["type"] == "SET":
                    client.levels[message["address"]] = message["value"]
                elif message["type"] == "SNAPSHOT":
                    for param in message.get("params", []):
                        client.levels[param["address"]] = param["value"]
        except ConnectionClosed:
            pass  # the test closed the client

    client.collector = asyncio.create_task(collect())
    return client


async def set_level(client, address, value):
    await client.send_payload(set_payload(address, value))


async def eventually(condition, timeout=5.0, what="condition"):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)

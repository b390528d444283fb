"""CLASP over plain TCP (wire-format §1.5: `u32` big-endian length, then the whole frame),
spoken by a client written here on Python's asyncio streams, against the built gateway.

Cross-transport checks pair it with the official Python client (`clasp-to`) over WebSocket:
both transports share one router. The TCP port is a free one picked by conftest (read back
from the `listening on tcp://` line).
"""

import asyncio
import struct
import subprocess

from clasp_wire import MessageReader, decode_frame, frame, hello_payload, ping_payload, set_payload, subscribe_payload
from conftest import GATEWAY_BIN, async_test, wait_until
from test_python_client import barrier, close_all, collector, connect, values_for


class TCPClient(MessageReader):
    """A CLASP-over-TCP peer on asyncio streams."""

    def __init__(self, reader, writer):
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, port):
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
        return cls(reader, writer)

    async def send_raw(self, data):
        self.writer.write(data)
        await self.writer.drain()

    async def send_payload(self, payload):
        data = frame(payload)
        await self.send_raw(struct.pack(">I", len(data)) + data)

    async def recv(self, timeout=5.0):
        """The next message, decoded. Raises IncompleteReadError once the gateway closed."""
        header = await asyncio.wait_for(self.reader.readexactly(4), timeout)
        (length,) = struct.unpack(">I", header)
        return decode_frame(await asyncio.wait_for(self.reader.readexactly(length), timeout))

    async def barrier(self):
        await self.send_payload(ping_payload())
        return (await self.expect(lambda m: m["type"] == "PONG"))[1]

    async def hello(self, name="tcp-client"):
        await self.send_payload(hello_payload(name))
        welcome, _ = await self.expect(lambda m: m["type"] == "WELCOME")
        await self.barrier()
        return welcome

    async def messages_until_closed(self, timeout=5.0):
        """Every message up to the gateway's close; fails if it does not close in time."""
        messages = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                messages.append(await self.recv(max(0.01, deadline - loop.time())))
            except (asyncio.IncompleteReadError, ConnectionResetError):
                return messages

    async def close(self):
        self.writer.close()
        try:
            await asyncio.wait_for(self.writer.wait_closed(), 3)
        except Exception:  # already gone is fine
            pass


async def tcp_session(gateway, name="tcp-client"):
    assert gateway.tcp_port, f"no 'listening on tcp://' line:\n{gateway.log()[-2000:]}"
    client = await TCPClient.connect(gateway.tcp_port)
    await client.hello(name)
    return client


@async_test()
async def test_hello_over_tcp_gets_welcome_with_a_session(gateway):
    client = await TCPClient.connect(gateway.tcp_port)
    try:
        welcome = await client.hello()
        assert welcome["session"]
        assert welcome["name"]
    finally:
        await client.close()


@async_test()
async def test_a_tcp_set_reaches_clasp_to_and_a_clasp_to_set_reaches_tcp(gateway):
    tcp = await tcp_session(gateway)
    official = await connect(gateway.url, "official-over-ws")
    try:
        seen, _ = collector(official, "/xt/**")
        await barrier(official)
        await tcp.send_payload(subscribe_payload(1, "/xt/**"))
        await tcp.barrier()

        # TCP → WebSocket (clasp-to)
        await tcp.send_payload(set_payload("/xt/from-tcp", 0.25))
        await wait_until(lambda: values_for(seen, "/xt/from-tcp"), what="SET from TCP at clasp-to")
        assert values_for(seen, "/xt/from-tcp")[-1] == 0.25

        # WebSocket (clasp-to) → TCP
        await official.set("/xt/from-ws", "hello tcp")
        msg, _ = await tcp.expect(lambda m: m["type"] == "SET" and m["address"] == "/xt/from-ws")
        assert msg["value"] == "hello tcp"
    finally:
        await tcp.close()
        await close_all(official)


@async_test()
async def test_split_and_coalesced_frames_are_reassembled(gateway):
    client = await TCPClient.connect(gateway.tcp_port)
    try:
        hello = frame(hello_payload("split-client"))
        data = struct.pack(">I", len(hello)) + hello
        for i in range(0, len(data), 3):  # a few bytes per write, each flushed
            await client.send_raw(data[i:i + 3])
            await asyncio.sleep(0.001)
        await client.expect(lambda m: m["type"] == "WELCOME")
        ping = frame(ping_payload())
        await client.send_raw((struct.pack(">I", len(ping)) + ping) * 5)
        pongs = 0
        while pongs < 5:
            msg = await client.recv()
            pongs += msg["type"] == "PONG"
    finally:
        await client.close()


@async_test()
async def test_an_oversized_prefix_gets_error_100_and_close_while_others_keep_working(gateway):
    bystander = await tcp_session(gateway, "bystander")
    bad = await tcp_session(gateway, "oversized")
    try:
        await bad.send_raw(struct.pack(">I", 65_548) + b"\x53")
        messages = await bad.messages_until_closed()
        assert [m["code"] for m in messages if m["type"] == "ERROR"] == [100]
        assert await bystander.barrier() is not None
    finally:
        await close_all(bad, bystander)


@async_test()
async def test_a_zero_length_prefix_gets_error_100_and_close(gateway):
    client = await tcp_session(gateway, "zero")
    try:
        await client.send_raw(b"\x00\x00\x00\x00")
        messages = await client.messages_until_closed()
        assert [m["code"] for m in messages if m["type"] == "ERROR"] == [100]
    finally:
        await client.close()


@async_test()
async def test_tcp_read_timeout_closes_a_stalled_half_frame(own_gateway, tmp_path):
    config = tmp_path / "tcp.toml"
    config.write_text("[tcp]\nread_timeout = 0.3\n")
    gateway = own_gateway("--config", str(config))
    client = await tcp_session(gateway, "staller")
    try:
        await client.send_raw(struct.pack(">I", 32) + b"\x53\x01")
        messages = await client.messages_until_closed(timeout=5)
        assert [m["code"] for m in messages if m["type"] == "ERROR"] == [100]
    finally:
        await client.close()


def test_tcp_port_0_listens_only_on_websocket(own_gateway):
    gateway = own_gateway("--tcp-port", "0", "--wss-port", "0", "--tcps-port", "0")
    assert gateway.tcp_port is None
    assert "listening on tcp://" not in gateway.log()


def test_a_tcp_port_in_use_is_a_clear_start_failure(own_gateway, tmp_path):
    first = own_gateway()
    result = subprocess.run(
        [GATEWAY_BIN, "--bind", "127.0.0.1", "--port", "0", "--tcp-port", str(first.tcp_port),
         "--wss-port", "0", "--tcps-port", "0", "--data-dir", str(tmp_path / "d2")],
        cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=15,
    )
    assert result.returncode == 1, result
    assert str(first.tcp_port) in result.stderr and "in use" in result.stderr.lower(), result.stderr
    assert "listening on" not in result.stderr

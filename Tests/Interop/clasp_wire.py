"""A tiny CLASP binary encoder/decoder and a raw-frame WebSocket client for the interop tests.

Written from docs (wire-format §1-§3) so the tests can send exactly the bytes they want,
including what the official Python client cannot send (binary BUNDLE, ANNOUNCE, QoS bits,
hostile input) and can read what it cannot decode (ACK, ERROR details, phases).
"""

import asyncio
import struct

from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

MAGIC = 0x53

HELLO, WELCOME, ANNOUNCE, FEDERATION_SYNC = 0x01, 0x02, 0x03, 0x04
SUBSCRIBE, UNSUBSCRIBE = 0x10, 0x11
PUBLISH, SET, GET, SNAPSHOT, REPLAY = 0x20, 0x21, 0x22, 0x23, 0x24
BUNDLE, SYNC, PING, PONG, ACK, ERROR, QUERY, RESULT = 0x30, 0x40, 0x41, 0x42, 0x50, 0x51, 0x60, 0x61

NAMES = {
    HELLO: "HELLO", WELCOME: "WELCOME", ANNOUNCE: "ANNOUNCE", FEDERATION_SYNC: "FEDERATION_SYNC",
    SUBSCRIBE: "SUBSCRIBE", UNSUBSCRIBE: "UNSUBSCRIBE", PUBLISH: "PUBLISH", SET: "SET", GET: "GET",
    SNAPSHOT: "SNAPSHOT", REPLAY: "REPLAY", BUNDLE: "BUNDLE", SYNC: "SYNC", PING: "PING", PONG: "PONG",
    ACK: "ACK", ERROR: "ERROR", QUERY: "QUERY", RESULT: "RESULT",
}

SIGNALS = {"param": 0, "event": 1, "stream": 2, "gesture": 3, "timeline": 4}
SIGNAL_NAMES = {v: k for k, v in SIGNALS.items()}
PHASES = {"start": 0, "move": 1, "end": 2, "cancel": 3}
PHASE_NAMES = {v: k for k, v in PHASES.items()}

NO_VALUE = object()


class I8(int):
    """Force a narrow integer type on the wire (the router widens it to i64)."""


class F32(float):
    """Force f32 on the wire."""


# ---------------------------------------------------------------------------------------------
# Encoding


def string(text):
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    return struct.pack(">H", len(data)) + data


def value_code(value):
    if value is None:
        return 0x00
    if isinstance(value, bool):
        return 0x01
    if isinstance(value, I8):
        return 0x02
    if isinstance(value, int):
        return 0x05
    if isinstance(value, F32):
        return 0x06
    if isinstance(value, float):
        return 0x07
    if isinstance(value, str):
        return 0x08
    if isinstance(value, (bytes, bytearray)):
        return 0x09
    if isinstance(value, (list, tuple)):
        return 0x0A
    if isinstance(value, dict):
        return 0x0B
    raise TypeError(f"no CLASP type for {type(value)!r}")


def value_data(value):
    code = value_code(value)
    if code == 0x00:
        return b""
    if code == 0x01:
        return b"\x01" if value else b"\x00"
    if code == 0x02:
        return struct.pack(">b", value)
    if code == 0x05:
        return struct.pack(">q", value)
    if code == 0x06:
        return struct.pack(">f", value)
    if code == 0x07:
        return struct.pack(">d", value)
    if code == 0x08:
        return string(value)
    if code == 0x09:
        return struct.pack(">H", len(value)) + bytes(value)
    if code == 0x0A:
        return struct.pack(">H", len(value)) + b"".join(typed_value(item) for item in value)
    return struct.pack(">H", len(value)) + b"".join(string(k) + typed_value(v) for k, v in value.items())


def typed_value(value):
    return bytes([value_code(value)]) + value_data(value)


def frame(payload, qos=0, timestamp=None, version=1):
    flags = (qos << 6) | version
    header = bytes([MAGIC, flags | (0x20 if timestamp is not None else 0)]) + struct.pack(">H", len(payload))
    if timestamp is not None:
        header += struct.pack(">Q", timestamp)
    return header + payload


def hello_payload(name="raw-client", features=0xE0, version=1, token=""):
    return bytes([HELLO, version, features]) + string(name) + string(token)


def set_payload(address, value, revision=None, lock=False, unlock=False, ttl=None):
    flags = value_code(value)
    if revision is not None:
        flags |= 0x80
    if lock:
        flags |= 0x40
    if unlock:
        flags |= 0x20
    if ttl is not None:
        flags |= 0x10
    out = bytes([SET, flags]) + string(address) + value_data(value)
    if revision is not None:
        out += struct.pack(">Q", revision)
    if ttl is not None:
        out += struct.pack(">I", ttl)
    return out


def get_payload(address):
    return bytes([GET]) + string(address)


def subscribe_payload(sub_id, pattern, mask=0xFF):
    return bytes([SUBSCRIBE]) + struct.pack(">I", sub_id) + string(pattern) + bytes([mask, 0])


def unsubscribe_payload(sub_id):
    return bytes([UNSUBSCRIBE]) + struct.pack(">I", sub_id)


def publish_payload(address, signal="event", value=NO_VALUE, phase="start", timestamp=None, gesture_id=None):
    flags = (SIGNALS[signal] << 5) | PHASES[phase]
    if timestamp is not None:
        flags |= 0x10
    if gesture_id is not None:
        flags |= 0x08
    out = bytes([PUBLISH, flags]) + string(address)
    if value is NO_VALUE:
        out += b"\x00"
    else:
        out += b"\x01" + typed_value(value)
    if timestamp is not None:
        out += struct.pack(">Q", timestamp)
    if gesture_id is not None:
        out += struct.pack(">I", gesture_id)
    return out


def bundle_payload(inner_payloads, timestamp=None):
    out = bytes([BUNDLE, 0x80 if timestamp is not None else 0]) + struct.pack(">H", len(inner_payloads))
    if timestamp is not None:
        out += struct.pack(">Q", timestamp)
    for inner in inner_payloads:
        out += struct.pack(">H", len(inner)) + inner
    return out


def announce_payload(namespace, signals):
    """signals: list of (address, signal name, datatype or None, access or None)."""
    out = bytes([ANNOUNCE]) + string(namespace) + struct.pack(">H", len(signals))
    for address, signal, datatype, access in signals:
        options = (0x01 if datatype is not None else 0) | (0x02 if access is not None else 0)
        out += string(address) + bytes([SIGNALS[signal], options])
        if datatype is not None:
            out += string(datatype)
        if access is not None:
            out += string(access)
    return out


def query_payload(pattern):
    return bytes([QUERY]) + string(pattern)


def ping_payload():
    return bytes([PING])


# ---------------------------------------------------------------------------------------------
# Decoding (bounds-checked: a truncated message raises DecodeError)


class DecodeError(Exception):
    pass


class Reader:
    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0

    def take(self, count):
        if self.pos + count > len(self.data):
            raise DecodeError(f"truncated at {self.pos} (+{count}) of {len(self.data)}")
        chunk = self.data[self.pos:self.pos + count]
        self.pos += count
        return chunk

    def u8(self):
        return self.take(1)[0]

    def u16(self):
        return struct.unpack(">H", self.take(2))[0]

    def u32(self):
        return struct.unpack(">I", self.take(4))[0]

    def u64(self):
        return struct.unpack(">Q", self.take(8))[0]

    def string(self):
        return self.take(self.u16()).decode("utf-8")

    def remaining(self):
        return len(self.data) - self.pos

    def value(self, code):
        if code == 0x00:
            return None
        if code == 0x01:
            return self.u8() != 0
        if code == 0x02:
            return struct.unpack(">b", self.take(1))[0]
        if code == 0x03:
            return struct.unpack(">h", self.take(2))[0]
        if code == 0x04:
            return struct.unpack(">i", self.take(4))[0]
        if code == 0x05:
            return struct.unpack(">q", self.take(8))[0]
        if code == 0x06:
            return struct.unpack(">f", self.take(4))[0]
        if code == 0x07:
            return struct.unpack(">d", self.take(8))[0]
        if code == 0x08:
            return self.string()
        if code == 0x09:
            return self.take(self.u16())
        if code == 0x0A:
            return [self.typed_value() for _ in range(self.u16())]
        if code == 0x0B:
            result = {}
            for _ in range(self.u16()):
                key = self.string()
                result[key] = self.typed_value()
            return result
        raise DecodeError(f"unknown value type 0x{code:02x}")

    def typed_value(self):
        return self.value(self.u8())


def decode_frame(data):
    """Decodes one frame sent by the router into a dict with 'type' (name) and its fields."""
    if isinstance(data, str):
        raise DecodeError("text message from the server")
    reader = Reader(data)
    if reader.u8() != MAGIC:
        raise DecodeError("bad magic")
    flags = reader.u8()
    length = reader.u16()
    frame_ts = reader.u64() if flags & 0x20 else None
    payload = reader.take(length)
    message = decode_payload(payload)
    message["qos"] = flags >> 6
    message["frame_timestamp"] = frame_ts
    message["raw"] = bytes(data)
    return message


def decode_payload(payload):
    reader = Reader(payload)
    code = reader.u8()
    name = NAMES.get(code)
    if name is None:
        raise DecodeError(f"unknown message type 0x{code:02x}")
    msg = {"type": name}
    if code == WELCOME:
        msg["version"] = reader.u8()
        msg["features"] = reader.u8()
        msg["time"] = reader.u64()
        msg["session"] = reader.string()
        msg["name"] = reader.string()
        msg["token"] = reader.string()
    elif code == SNAPSHOT:
        params = []
        for _ in range(reader.u16()):
            param = {"address": reader.string(), "value": reader.typed_value(), "revision": reader.u64()}
            pflags = reader.u8()
            param["writer"] = reader.string() if pflags & 0x01 else None
            param["timestamp"] = reader.u64() if pflags & 0x02 else None
            params.append(param)
        msg["params"] = params
    elif code == SET:
        flags = reader.u8()
        msg["address"] = reader.string()
        msg["value"] = reader.value(flags & 0x0F)
        msg["value_code"] = flags & 0x0F
        msg["revision"] = reader.u64() if flags & 0x80 else None
        msg["lock"] = bool(flags & 0x40)
        msg["unlock"] = bool(flags & 0x20)
        msg["ttl"] = reader.u32() if flags & 0x10 else None
    elif code == PUBLISH:
        flags = reader.u8()
        msg["signal"] = SIGNAL_NAMES.get(flags >> 5, "event")
        msg["phase"] = PHASE_NAMES.get(flags & 0x07, "start")
        msg["address"] = reader.string()
        indicator = reader.u8()
        msg["value"] = NO_VALUE
        msg["samples"] = None
        if indicator == 1:
            msg["value"] = reader.typed_value()
        elif indicator == 2:
            msg["samples"] = [struct.unpack(">d", reader.take(8))[0] for _ in range(reader.u16())]
        msg["timestamp"] = reader.u64() if flags & 0x10 else None
        msg["gesture_id"] = reader.u32() if flags & 0x08 else None
        msg["rate"] = reader.u32() if reader.remaining() >= 4 else None
    elif code == ERROR:
        msg["code"] = reader.u16()
        msg["message"] = reader.string()
        eflags = reader.u8()
        msg["address"] = reader.string() if eflags & 0x01 else None
        msg["correlation_id"] = reader.u32() if eflags & 0x02 else None
    elif code == ACK:
        aflags = reader.u8()
        msg["address"] = reader.string() if aflags & 0x01 else None
        msg["revision"] = reader.u64() if aflags & 0x02 else None
        msg["locked"] = (reader.u8() != 0) if aflags & 0x04 else None
        msg["holder"] = reader.string() if aflags & 0x08 else None
        msg["correlation_id"] = reader.u32() if aflags & 0x10 else None
    elif code == RESULT:
        signals = []
        for _ in range(reader.u16()):
            signal = {"address": reader.string(), "signal": SIGNAL_NAMES.get(reader.u8(), "event")}
            options = reader.u8()
            signal["datatype"] = reader.string() if options & 0x01 else None
            signal["access"] = reader.string() if options & 0x02 else None
            signals.append(signal)
        msg["signals"] = signals
    elif code == SYNC:
        sflags = reader.u8()
        msg["t1"] = reader.u64()
        msg["t2"] = reader.u64() if sflags & 0x01 else None
        msg["t3"] = reader.u64() if sflags & 0x02 else None
    return msg


# ---------------------------------------------------------------------------------------------
# Raw client


class MessageReader:
    """What every client here does with its `recv(timeout)`: read until a message matches."""

    async def expect(self, predicate, timeout=5.0):
        """Reads until a message matches; returns (match, messages skipped before it)."""
        skipped = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise asyncio.TimeoutError(f"no matching message within {timeout}s; got {summary(skipped)}")
            msg = await self.recv(left)
            if predicate(msg):
                return msg, skipped
            skipped.append(msg)

    async def expect_type(self, name, timeout=5.0):
        return (await self.expect(lambda m: m["type"] == name, timeout))[0]


class RawClient(MessageReader):
    """A WebSocket connection that sends and receives raw CLASP frames."""

    def __init__(self, ws):
        self.ws = ws
        self.session = None

    @classmethod
    async def connect(cls, url, timeout=5.0, ssl=None):
        """`ssl`: an `ssl.SSLContext` for a wss:// URL (None: websockets' default)."""
        tls = {"ssl": ssl} if ssl is not None else {}
        ws = await ws_connect(
            url, subprotocols=["clasp"], compression=None, max_size=None, open_timeout=timeout,
            ping_interval=None, close_timeout=2, **tls,
        )
        return cls(ws)

    async def send(self, data):
        await self.ws.send(data)

    async def send_payload(self, payload, **frame_args):
        await self.ws.send(frame(payload, **frame_args))

    async def recv(self, timeout=5.0):
        """Next message, decoded. Raises ConnectionClosed or asyncio.TimeoutError."""
        data = await asyncio.wait_for(self.ws.recv(), timeout)
        return decode_frame(data)

    async def hello(self, name="raw-client", features=0xE0):
        """HELLO, then WELCOME; the initial SNAPSHOT chunks are drained (kept in `initial`)."""
        await self.send_payload(hello_payload(name, features))
        welcome = await self.expect_type("WELCOME")
        self.session = welcome["session"]
        self.initial = await self.barrier()
        return welcome

    async def barrier(self, timeout=5.0):
        """PING and wait for PONG; returns every message that arrived before the PONG."""
        await self.send_payload(ping_payload())
        _, before = await self.expect(lambda m: m["type"] == "PONG", timeout)
        return before

    async def wait_closed(self, timeout=5.0):
        """True once the server closed the connection (messages before that are ignored)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                left = deadline - loop.time()
                if left <= 0:
                    return False
                await asyncio.wait_for(self.ws.recv(), left)
        except ConnectionClosed:
            return True
        except asyncio.TimeoutError:
            return False

    async def close(self):
        try:
            await asyncio.wait_for(self.ws.close(), 3)
        except Exception:  # already gone is fine
            pass


async def raw_session(url, name="raw-client"):
    client = await RawClient.connect(url)
    await client.hello(name)
    return client


def summary(messages):
    return [(m["type"], m.get("code"), m.get("address")) for m in messages]


# ---------------------------------------------------------------------------------------------
# UDP client (one CLASP frame per datagram, no length prefix)


class _Inbox(asyncio.DatagramProtocol):
    def __init__(self, queue):
        self.queue = queue

    def datagram_received(self, data, addr):
        self.queue.put_nowait((data, addr))


class UDPClient(MessageReader):
    """A CLASP-over-UDP peer on an asyncio datagram endpoint.

    `send_reliable` is the retransmitting sender of QoS confirm/commit messages: the frame
    carries a timestamp unique to the message (kept when resent, so the router can suppress
    duplicates), and is resent with doubling timeouts until its ACK arrives or `attempts` runs
    out. One message at a time (stop-and-wait), so messages are applied in the order sent.
    """

    def __init__(self, transport, queue):
        self.transport = transport
        self.queue = queue
        self.session = None
        self.resends = 0
        self._last_timestamp = 0

    @classmethod
    async def open(cls, port, host="127.0.0.1"):
        loop = asyncio.get_running_loop()
        queue = asyncio.Queue()
        transport, _ = await loop.create_datagram_endpoint(lambda: _Inbox(queue), remote_addr=(host, port))
        return cls(transport, queue)

    @property
    def local_port(self):
        return self.transport.get_extra_info("sockname")[1]

    def send_raw(self, datagram):
        self.transport.sendto(datagram)

    def send_payload(self, payload, **frame_args):
        self.transport.sendto(frame(payload, **frame_args))

    async def recv_raw(self, timeout=5.0):
        data, _ = await asyncio.wait_for(self.queue.get(), timeout)
        return data

    async def recv(self, timeout=5.0):
        return decode_frame(await self.recv_raw(timeout))

    async def nothing_within(self, seconds):
        """The messages that arrived within `seconds` (expected: none)."""
        got = []
        try:
            while True:
                got.append(await self.recv(seconds))
        except asyncio.TimeoutError:
            return got

    async def hello(self, name="udp-client", features=0xE0):
        self.send_payload(hello_payload(name, features))
        welcome, _ = await self.expect(lambda m: m["type"] == "WELCOME")
        self.session = welcome["session"]
        self.initial = await self.barrier()
        return welcome

    async def barrier(self, timeout=5.0):
        self.send_payload(ping_payload())
        _, before = await self.expect(lambda m: m["type"] == "PONG", timeout)
        return before

    def unique_timestamp(self):
        """µs since the epoch, strictly increasing: the message's identity for de-duplication."""
        import time

        self._last_timestamp = max(self._last_timestamp + 1, time.time_ns() // 1_000)
        return self._last_timestamp

    async def send_reliable(self, payload, is_ack, qos=1, first_timeout=0.05, max_timeout=0.8, attempts=40):
        """Sends until `is_ack(message)` matches a reply; returns (ack, other messages seen)."""
        data = frame(payload, qos=qos, timestamp=self.unique_timestamp())
        timeout = first_timeout
        seen = []
        loop = asyncio.get_running_loop()
        for attempt in range(attempts):
            if attempt:
                self.resends += 1
            self.transport.sendto(data)
            deadline = loop.time() + timeout
            while (left := deadline - loop.time()) > 0:
                try:
                    msg = await self.recv(left)
                except asyncio.TimeoutError:
                    break
                if is_ack(msg):
                    return msg, seen
                seen.append(msg)
            timeout = min(timeout * 2, max_timeout)
        raise AssertionError(f"no ACK after {attempts} sends; saw {summary(seen)}")

    async def hello_reliable(self, name="udp-client", attempts=40):
        """HELLO resent until WELCOME (a HELLO duplicate after it only gets an ERROR)."""
        welcome, _ = await self.send_reliable(hello_payload(name), lambda m: m["type"] == "WELCOME", qos=0, attempts=attempts)
        self.session = welcome["session"]
        return welcome

    def close(self):
        self.transport.close()

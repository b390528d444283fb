"""CLASP over UDP (one frame per datagram, no length prefix), spoken by the asyncio client in
clasp_wire.py against the built gateway; cross-transport with the official Python client
(`clasp-to`, WebSocket) and the TCP client of test_tcp.py; a lossy proxy written here for QoS
confirm/commit; multicast and broadcast only inside a network namespace this file creates and
deletes (design §4).
"""

import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time

from clasp_wire import (UDPClient, bundle_payload, decode_frame, frame, get_payload, ping_payload, publish_payload, set_payload,
                        subscribe_payload)
from conftest import GATEWAY_BIN, async_test, free_udp_port, wait_until
from test_python_client import barrier, close_all, collector, connect, values_for
from test_tcp import tcp_session


def udp_gateway(own_gateway, *extra):
    gateway = own_gateway("--udp-port", str(free_udp_port()), *extra)
    assert gateway.udp_port, gateway.log()
    return gateway


async def udp_session(gateway, name="udp-client"):
    client = await UDPClient.open(gateway.udp_port)
    await client.hello(name)
    return client


@async_test()
async def test_hello_welcome_set_and_subscribe_over_udp(own_gateway):
    gateway = udp_gateway(own_gateway)
    a = await udp_session(gateway, "udp-a")
    b = await udp_session(gateway, "udp-b")
    try:
        assert a.session and b.session and a.session != b.session
        b.send_payload(subscribe_payload(1, "/u/**"))
        await b.barrier()
        a.send_payload(set_payload("/u/x", 0.5))
        msg, _ = await b.expect(lambda m: m["type"] == "SET" and m["address"] == "/u/x")
        assert msg["value"] == 0.5 and msg["revision"] == 1
        # The writer gets its ACK when it asks for one (QoS confirm).
        a.send_payload(set_payload("/u/x", 0.75), qos=1)
        ack, _ = await a.expect(lambda m: m["type"] == "ACK")
        assert ack["address"] == "/u/x" and ack["revision"] == 2
    finally:
        a.close()
        b.close()


@async_test()
async def test_only_a_hello_opens_a_session(own_gateway):
    gateway = udp_gateway(own_gateway)
    stranger = await UDPClient.open(gateway.udp_port)
    try:
        for datagram in (frame(ping_payload()), frame(set_payload("/u/stray", 1)), b"", b"garbage", b"\x53" * 2000):
            stranger.send_raw(datagram)
        assert await stranger.nothing_within(0.5) == []
        await stranger.hello("late-hello")
        # Nothing of the stray SET was applied.
        stranger.send_payload(get_payload("/u/stray"))
        error, _ = await stranger.expect(lambda m: m["type"] in ("ERROR", "SNAPSHOT"))
        assert error["type"] == "ERROR" and error["code"] == 201, error
    finally:
        stranger.close()


@async_test()
async def test_a_websocket_a_tcp_and_a_udp_client_see_each_others_sets(own_gateway):
    gateway = udp_gateway(own_gateway)
    official = await connect(gateway.url, "ws-peer")
    tcp = await tcp_session(gateway, "tcp-peer")
    udp = await udp_session(gateway, "udp-peer")
    try:
        seen, _ = collector(official, "/x3/**")
        await barrier(official)
        await tcp.send_payload(subscribe_payload(1, "/x3/**"))
        await tcp.barrier()
        udp.send_payload(subscribe_payload(1, "/x3/**"))
        await udp.barrier()

        udp.send_payload(set_payload("/x3/from-udp", 1))
        await official.set("/x3/from-ws", "ws")
        await tcp.send_payload(set_payload("/x3/from-tcp", 2.5))

        await wait_until(lambda: values_for(seen, "/x3/from-udp") and values_for(seen, "/x3/from-tcp"), what="UDP and TCP SETs at clasp-to")
        assert values_for(seen, "/x3/from-udp")[-1] == 1 and values_for(seen, "/x3/from-tcp")[-1] == 2.5

        expected = {"/x3/from-udp": 1, "/x3/from-ws": "ws", "/x3/from-tcp": 2.5}
        for client in (tcp, udp):
            got = {}
            while set(got) != set(expected):
                msg, _ = await client.expect(lambda m: m["type"] == "SET")
                got[msg["address"]] = msg["value"]
            assert got == expected
    finally:
        udp.close()
        await tcp.close()
        await close_all(official)


@async_test()
async def test_a_frame_over_the_datagram_budget_is_refused_with_error_402(own_gateway):
    """Default budget 1,472 bytes: a SET whose echo is larger is applied (the TCP peer sees it),
    but the UDP sender and UDP subscribers get ERROR 402 in place of the echo."""
    gateway = udp_gateway(own_gateway)
    udp = await udp_session(gateway, "udp-mtu")
    tcp = await tcp_session(gateway, "tcp-mtu")
    try:
        udp.send_payload(subscribe_payload(1, "/mtu/**"))
        await udp.barrier()
        await tcp.send_payload(subscribe_payload(1, "/mtu/**"))
        await tcp.barrier()

        big = "x" * 1_500
        udp.send_payload(set_payload("/mtu/big", big))  # the datagram itself is fine inbound
        msg, _ = await tcp.expect(lambda m: m["type"] == "SET" and m["address"] == "/mtu/big")
        assert msg["value"] == big
        error, _ = await udp.expect(lambda m: m["type"] in ("ERROR", "SET"))
        assert error["type"] == "ERROR" and error["code"] == 402 and error["address"] == "/mtu/big", error
        assert "1472" in error["message"]

        # Just under the budget goes out as one datagram.
        fits = "y" * 1_400
        await tcp.send_payload(set_payload("/mtu/fits", fits))
        raw = await udp.recv_raw()
        assert len(raw) <= 1_472
        msg = decode_frame(raw)
        assert msg["type"] == "SET" and msg["value"] == fits
    finally:
        udp.close()
        await tcp.close()


@async_test()
async def test_a_snapshot_is_cut_to_fit_the_datagram_budget(own_gateway):
    gateway = udp_gateway(own_gateway)
    tcp = await tcp_session(gateway, "tcp-writer")
    udp = await udp_session(gateway, "udp-late-joiner")
    try:
        for i in range(40):
            await tcp.send_payload(set_payload(f"/snap/{i:02d}", "v" * 100))
        await tcp.barrier()
        udp.send_payload(subscribe_payload(1, "/snap/**"))
        before = await udp.barrier()
        chunks = [m for m in before if m["type"] == "SNAPSHOT"]
        assert len(chunks) > 1
        assert all(len(m["raw"]) <= 1_472 for m in chunks)
        addresses = sorted(p["address"] for m in chunks for p in m["params"])
        assert addresses == [f"/snap/{i:02d}" for i in range(40)]
    finally:
        udp.close()
        await tcp.close()


@async_test()
async def test_an_idle_session_ends_and_only_a_new_hello_reopens_it(own_gateway, tmp_path):
    config = tmp_path / "udp.toml"
    config.write_text("[udp]\nidle_timeout = 0.5\n")
    gateway = udp_gateway(own_gateway, "--config", str(config))
    udp = await udp_session(gateway, "udp-idle")
    tcp = await tcp_session(gateway, "tcp-idle")
    try:
        udp.send_payload(subscribe_payload(1, "/idle/**"))
        await udp.barrier()
        await asyncio.sleep(1.5)
        await tcp.send_payload(set_payload("/idle/x", 1))
        await tcp.barrier()
        udp.send_payload(ping_payload())
        assert await udp.nothing_within(0.5) == [], "the session outlived its idle timeout"
        welcome = await udp.hello("udp-idle")
        assert welcome["session"]
    finally:
        udp.close()
        await tcp.close()


class LossyProxy(asyncio.DatagramProtocol):
    """Between one client and the gateway: drops, duplicates and reorders (holds back until
    the next datagram in the same direction) a share of datagrams in both directions, from a
    seeded RNG."""

    def __init__(self, gateway_port, seed, drop=0.2, duplicate=0.15, reorder=0.15):
        self.gateway = ("127.0.0.1", gateway_port)
        self.rng = random.Random(seed)
        self.drop, self.duplicate, self.reorder = drop, duplicate, reorder
        self.client = None
        self.held = {}
        self.stats = {"dropped": 0, "duplicated": 0, "reordered": 0, "forwarded": 0}

    @classmethod
    async def start(cls, gateway_port, seed):
        loop = asyncio.get_running_loop()
        proxy = cls(gateway_port, seed)
        proxy.front, _ = await loop.create_datagram_endpoint(lambda: proxy, local_addr=("127.0.0.1", 0))
        proxy.back, _ = await loop.create_datagram_endpoint(lambda: _Back(proxy), remote_addr=proxy.gateway)
        return proxy

    @property
    def port(self):
        return self.front.get_extra_info("sockname")[1]

    def datagram_received(self, data, addr):  # from the client
        self.client = addr
        self.forward(data, "up", lambda d: self.back.sendto(d))

    def from_gateway(self, data):
        if self.client is not None:
            self.forward(data, "down", lambda d: self.front.sendto(d, self.client))

    def forward(self, data, direction, send):
        roll = self.rng.random()
        if roll < self.drop:
            self.stats["dropped"] += 1
            return
        copies = 2 if roll < self.drop + self.duplicate else 1
        self.stats["duplicated"] += copies - 1
        if direction not in self.held and self.rng.random() < self.reorder:
            self.held[direction] = (data, copies)
            self.stats["reordered"] += 1
            return
        for _ in range(copies):
            send(data)
            self.stats["forwarded"] += 1
        if direction in self.held:  # the held one goes after this later one
            late, late_copies = self.held.pop(direction)
            for _ in range(late_copies):
                send(late)
                self.stats["forwarded"] += 1

    def close(self):
        self.front.close()
        self.back.close()


class _Back(asyncio.DatagramProtocol):
    def __init__(self, proxy):
        self.proxy = proxy

    def datagram_received(self, data, addr):
        self.proxy.from_gateway(data)


@async_test(timeout=120.0)
async def test_confirm_and_commit_arrive_exactly_once_and_in_order_over_a_lossy_link(own_gateway):
    gateway = udp_gateway(own_gateway)
    proxy = await LossyProxy.start(gateway.udp_port, seed=20261125)
    watcher = await tcp_session(gateway, "watcher")
    sender = await UDPClient.open(proxy.port)
    try:
        await watcher.send_payload(subscribe_payload(1, "/loss/**"))
        await watcher.barrier()
        await sender.hello_reliable("lossy-sender")

        count = 30
        plan = ([("confirm", 1, i) for i in range(count)] + [("commit", 2, i) for i in range(count)])
        acked = {}
        for kind, qos, i in plan:
            address = f"/loss/{kind}"
            last = acked.get(address, 0)
            ack, _ = await sender.send_reliable(
                set_payload(address, i), qos=qos,
                is_ack=lambda m, a=address, r=last: m["type"] == "ACK" and m["address"] == a and (m["revision"] or 0) > r)
            acked[address] = ack["revision"]
        for i in range(count):
            await sender.send_reliable(
                publish_payload(f"/loss/event/{i:02d}", "event", i), qos=1,
                is_ack=lambda m, a=f"/loss/event/{i:02d}": m["type"] == "ACK" and m["address"] == a)
        # A bundle (its ACK has no address: matched by the revision it reports).
        last = acked["/loss/confirm"]
        ack, _ = await sender.send_reliable(
            bundle_payload([set_payload("/loss/confirm", 100), set_payload("/loss/commit", 100)]), qos=2,
            is_ack=lambda m: m["type"] == "ACK" and m["address"] is None and (m["revision"] or 0) > last)

        # Let late duplicates and held-back datagrams reach the gateway, then collect.
        await asyncio.sleep(1.0)
        messages = await watcher.barrier()
        sets = {kind: [(m["value"], m["revision"]) for m in messages if m["type"] == "SET" and m["address"] == f"/loss/{kind}"]
                for kind in ("confirm", "commit")}
        events = [m["address"] for m in messages if m["type"] == "PUBLISH"]
        for kind in ("confirm", "commit"):
            values = [v for v, _ in sets[kind]]
            revisions = [r for _, r in sets[kind]]
            assert values == list(range(count)) + [100], (kind, values)
            assert revisions == list(range(1, count + 2)), (kind, revisions)
        assert events == [f"/loss/event/{i:02d}" for i in range(count)]
        assert proxy.stats["dropped"] > 5 and proxy.stats["duplicated"] > 5 and proxy.stats["reordered"] > 5, proxy.stats
        assert sender.resends > 5, sender.resends
    finally:
        sender.close()
        proxy.close()
        await watcher.close()


def test_udp_port_0_disables_udp(own_gateway):
    gateway = own_gateway("--udp-port", "0")
    assert "listening on udp://" not in gateway.log()


def test_a_udp_port_in_use_is_a_clear_start_failure(own_gateway, tmp_path):
    first = udp_gateway(own_gateway)
    result = subprocess.run(
        [GATEWAY_BIN, "--bind", "127.0.0.1", "--port", "0", "--tcp-port", "0", "--wss-port", "0", "--tcps-port", "0", "--admin-port", "0",
         "--udp-port", str(first.udp_port),
         "--data-dir", str(tmp_path / "d2")],
        cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=15,
    )
    assert result.returncode == 1, result
    assert str(first.udp_port) in result.stderr and "in use" in result.stderr.lower(), result.stderr


# ---------------------------------------------------------------------------------------------
# Multicast and broadcast, inside a network namespace

GROUP = "239.255.73.33"

# Runs inside the namespace: a unicast UDP session, a group member, and a group sender.
GROUP_PEERS = r"""
import json, socket, struct, sys, time
sys.path.insert(0, sys.argv[1])
from clasp_wire import decode_frame, frame, hello_payload, ping_payload, set_payload, subscribe_payload
port, group = int(sys.argv[2]), sys.argv[3]

def udp(bind=("127.0.0.1", 0)):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(bind)
    s.settimeout(0.2)
    return s

def drain(s, seconds):
    out, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            data, addr = s.recvfrom(65535)
        except socket.timeout:
            continue
        out.append((decode_frame(data), addr))
    return out

# Group member: bound to the group address, so unicast to the gateway's port never lands here.
member = udp((group, port))
member.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(group) + socket.inet_aton("127.0.0.1"))
# Broadcast listener: bound to the broadcast address, for the same reason.
listener = udp(("127.255.255.255", port))

client = udp()
client.sendto(frame(hello_payload("unicast-in-ns")), ("127.0.0.1", port))
client.sendto(frame(subscribe_payload(1, "/group/**")), ("127.0.0.1", port))
client.sendto(frame(ping_payload()), ("127.0.0.1", port))
drain(client, 0.5)

sender = udp()
sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
sender.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
sender.sendto(frame(set_payload("/group/in/multicast", 42)), (group, port))
sender.sendto(frame(set_payload("/group/out/from-group", 5)), (group, port))
sender.sendto(frame(set_payload("/group/in/broadcast", 43)), ("127.255.255.255", port))
time.sleep(0.3)
client.sendto(frame(set_payload("/group/out/from-unicast", 7)), ("127.0.0.1", port))

at_client = drain(client, 1.0)
at_member = drain(member, 0.5)
at_listener = drain(listener, 0.3)
print(json.dumps({
    "client": [[m["type"], m.get("address"), m.get("value")] for m, _ in at_client],
    "member": [[m["type"], m.get("address"), m.get("value"), addr[1]] for m, addr in at_member],
    "listener": [[m["type"], m.get("address"), m.get("value"), addr[1]] for m, addr in at_listener],
}))
"""


def test_multicast_and_broadcast_frames_in_and_subscribed_updates_out_inside_a_namespace(tmp_path):
    from netns import exec_argv, gateway_in, network_namespace

    config = tmp_path / "groups.toml"
    config.write_text(
        "[udp]\n"
        f'multicast_group = "{GROUP}"\n'
        'multicast_interface = "lo"\n'
        "broadcast = true\n"
        'broadcast_address = "127.255.255.255"\n'
        'group_subscribe = ["/group/out/**"]\n')
    args = ["--bind", "0.0.0.0", "--port", "0", "--tcp-port", "0", "--wss-port", "0", "--tcps-port", "0", "--admin-port", "0",
            "--udp-port", "7333", "--discovery-port", "0", "--config", str(config), "--data-dir", str(tmp_path / "data")]
    with network_namespace("clasp-udp", multicast=True) as namespace, \
            gateway_in(namespace, tmp_path, args, ready="listening on udp://"):
        here = os.path.dirname(os.path.abspath(__file__))
        peers = subprocess.run(exec_argv(namespace, sys.executable, "-c", GROUP_PEERS, here, "7333", GROUP),
                               capture_output=True, text=True, timeout=30)
        assert peers.returncode == 0, peers.stderr
        seen = json.loads(peers.stdout)
        client = [tuple(m) for m in seen["client"] if m[0] == "SET"]
        # Group frames in (multicast and broadcast) reach the unicast subscriber.
        assert ("SET", "/group/in/multicast", 42) in client, seen
        assert ("SET", "/group/in/broadcast", 43) in client, seen
        assert ("SET", "/group/out/from-group", 5) in client, seen
        # The gateway's own group datagram, looped back to it, is not applied a second time.
        assert client.count(("SET", "/group/out/from-unicast", 7)) == 1, seen
        for receiver in ("member", "listener"):
            from_gateway = [tuple(m[:3]) for m in seen[receiver] if m[3] == 7333]
            # A subscribed update from a unicast session goes out to the group and the
            # broadcast address …
            assert from_gateway.count(("SET", "/group/out/from-unicast", 7)) == 1, (receiver, seen)
            # … but what came in from the group is not sent back, and nothing unsubscribed.
            assert all(address == "/group/out/from-unicast" for _, address, _ in from_gateway), (receiver, seen)

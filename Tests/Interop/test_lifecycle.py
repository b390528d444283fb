"""The gateway as a process: start-up log, flags, config file, signals, exit codes."""

import asyncio
import signal
import socket
import subprocess
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from clasp_wire import RawClient, hello_payload, raw_session, set_payload, subscribe_payload
from conftest import GATEWAY_BIN, REPO, assert_clean_stop, async_test

EXAMPLE_CONFIG = REPO / "docs" / "clasp-gateway.example.toml"


def run_to_exit(args, cwd, timeout=10):
    return subprocess.run(
        [GATEWAY_BIN] + args, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_the_gateway_cleanly_and_closes_sessions(own_gateway, sig):
    gateway = own_gateway()

    async def scenario():
        client = await raw_session(gateway.url, "until-shutdown")
        await client.send_payload(set_payload("/life/x", 1), qos=1)
        await client.expect_type("ACK")
        loop = asyncio.get_running_loop()
        stopping = loop.run_in_executor(None, gateway.stop, sig)
        closed = await client.wait_closed(timeout=8)
        code, elapsed = await stopping
        return closed, code, elapsed

    closed, code, elapsed = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert code == 0, gateway.log()
    assert elapsed < 5.0
    assert closed, "the client's connection was not closed at shutdown"
    log = gateway.log()
    assert sig.name in log, log
    # Nothing accepts connections on the port any more.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", gateway.port), timeout=1).close()


def test_startup_log_names_address_name_and_version(own_gateway, tmp_path):
    gateway = own_gateway("--name", "Stage Left")
    lines = [line for line in gateway.log().splitlines() if "listening on ws://" in line]
    assert len(lines) == 1
    line = lines[0]
    assert f"listening on ws://127.0.0.1:{gateway.port}" in line
    assert 'name="Stage Left"' in line
    version = run_to_exit(["--version"], tmp_path).stdout.strip()
    assert version and f"version={version}" in line
    assert str(tmp_path / "data") in gateway.log(), "the data directory is named in the log"
    assert (tmp_path / "data").is_dir(), "the data directory was created"

    async def scenario():
        client = await RawClient.connect(gateway.url)
        welcome = await client.hello()
        await client.close()
        return welcome

    assert asyncio.run(asyncio.wait_for(scenario(), 10))["name"] == "Stage Left"
    assert_clean_stop(gateway)


def test_config_file_is_applied_and_flags_override_it(own_gateway, tmp_path):
    config = tmp_path / "gateway.toml"
    config.write_text('[server]\nname = "from-config"\nport = 1\n[limits]\nmax_sessions = 2\n')
    gateway = own_gateway("--config", str(config))  # --port 0 from the fixture overrides port = 1

    async def scenario():
        first = await raw_session(gateway.url, "one")
        second = await raw_session(gateway.url, "two")
        # max_sessions = 2: a third connection is closed at once, without a WELCOME.
        received = []
        try:
            third = await RawClient.connect(gateway.url)
            try:
                await third.send_payload(hello_payload("three"))
                while True:
                    received.append((await third.recv(timeout=5))["type"])
            finally:
                await third.close()
        except TimeoutError:
            pytest.fail(f"a connection beyond max_sessions stayed open; received {received}")
        except (ConnectionClosed, InvalidHandshake, OSError):
            pass
        assert "WELCOME" not in received
        await first.barrier()  # the first two are still served
        await second.barrier()
        await first.close()
        await second.close()

    asyncio.run(asyncio.wait_for(scenario(), 20))
    assert gateway.port != 1

    async def welcome_name():
        # The two sessions above may take a moment to be released after their close.
        for _ in range(50):
            try:
                client = await RawClient.connect(gateway.url)
                welcome = await client.hello()
                await client.close()
                return welcome["name"]
            except (ConnectionClosed, TimeoutError):
                await asyncio.sleep(0.1)
        pytest.fail("no session could be opened after the first two closed")

    assert asyncio.run(asyncio.wait_for(welcome_name(), 10)) == "from-config"
    assert_clean_stop(gateway)


def test_the_example_config_file_starts_a_working_gateway(own_gateway):
    gateway = own_gateway("--config", str(EXAMPLE_CONFIG))

    async def scenario():
        client = await raw_session(gateway.url)
        await client.send_payload(set_payload("/example/x", 1), qos=1)
        ack = await client.expect_type("ACK")
        await client.close()
        return ack

    assert asyncio.run(asyncio.wait_for(scenario(), 10))["address"] == "/example/x"
    assert_clean_stop(gateway)


def event_loop_threads(pid):
    return sum(1 for task in Path(f"/proc/{pid}/task").iterdir()
               if (task / "comm").read_text().startswith("NIO-ELT"))


@pytest.mark.parametrize("threads", [1, 3])
def test_server_threads_sets_the_event_loops_and_every_loop_reaches_the_router(own_gateway, tmp_path, threads):
    config = tmp_path / "gateway.toml"
    config.write_text(f"[server]\nthreads = {threads}\n")
    gateway = own_gateway("--config", str(config))
    assert event_loop_threads(gateway.process.pid) == threads

    async def scenario():
        # Connections are spread over the loops in turn, so with 3 loops some of these six sit
        # on the router's loop and some reach it with a hop; each must see every other's SET.
        clients = [await raw_session(gateway.url, f"c{i}") for i in range(6)]
        for client in clients:
            await client.send_payload(subscribe_payload(1, "/threads/*"))
            await client.barrier()
        for i, client in enumerate(clients):
            await client.send_payload(set_payload(f"/threads/{i}", i))
        for client in clients:
            seen = set()
            while len(seen) < len(clients):
                message = await client.expect_type("SET")
                seen.add(message["address"])
            assert seen == {f"/threads/{i}" for i in range(len(clients))}
            await client.close()

    asyncio.run(asyncio.wait_for(scenario(), 20))
    assert_clean_stop(gateway)


def test_an_invalid_config_file_is_refused_with_key_and_reason(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('[limits]\nmax_sessions = "ten"\n[server]\nprot = 7330\n')
    result = run_to_exit(["--config", str(config), "--port", "0", "--data-dir", str(tmp_path / "d")], tmp_path)
    assert result.returncode == 78, result
    assert 'config error: limits.max_sessions: must be a positive integer, got "ten"' in result.stderr
    assert "config error: unknown key server.prot (did you mean port?)" in result.stderr
    assert "listening" not in result.stderr


def test_a_missing_config_file_is_refused(tmp_path):
    result = run_to_exit(["--config", str(tmp_path / "nope.toml")], tmp_path)
    assert result.returncode == 78
    assert "config error: cannot read" in result.stderr and "nope.toml" in result.stderr


@pytest.mark.parametrize("args", [["--port", "70000"], ["--log-level", "loud"], ["--bogus"], ["--bind", "1.2.3.999"]])
def test_bad_flags_exit_64_with_a_message(tmp_path, args):
    result = run_to_exit(args, tmp_path)
    assert result.returncode == 64, result
    assert "Error:" in result.stderr


def test_port_in_use_is_a_clear_start_failure(own_gateway, tmp_path):
    first = own_gateway()
    result = run_to_exit(
        ["--bind", "127.0.0.1", "--port", str(first.port), "--data-dir", str(tmp_path / "d2")], tmp_path
    )
    assert result.returncode == 1, result
    assert str(first.port) in result.stderr
    assert "in use" in result.stderr.lower(), result.stderr
    assert_clean_stop(first)


def test_an_unusable_data_directory_is_a_start_failure(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_to_exit(["--bind", "127.0.0.1", "--port", "0", "--data-dir", str(blocker / "sub")], tmp_path)
    assert result.returncode == 1, result
    assert "data directory" in result.stderr


def test_version_and_help(tmp_path):
    version = run_to_exit(["--version"], tmp_path)
    assert version.returncode == 0 and version.stdout.strip()
    help_text = run_to_exit(["--help"], tmp_path)
    assert help_text.returncode == 0
    for flag in ["--bind", "--port", "--data-dir", "--config", "--log-level", "--name", "--version"]:
        assert flag in help_text.stdout

"""Runs the built clasp-gateway as a real process on 127.0.0.1 and free ports.

The binary is `.build/release/clasp-gateway` at the repository root, or `$CLASP_GATEWAY_BIN`.
Its stderr goes to a log file in the test's temporary directory. The WebSocket port is
OS-picked (`--port 0`) and read from the one `listening on ws://HOST:PORT` line. The other
listeners (where 0 means "off") get ports picked here (`free_port`) unless the test names
them; their ports are read from the `listening on tcp://`, `udp://`, `wss://` and `tcps://`
lines, and the admin page's from the `admin page on http://` line. UDP and the admin page are
off unless the test passes `--udp-port` or `--admin-port`.
Every gateway started here is stopped with SIGTERM and must exit 0 within a few seconds.
"""

import asyncio
import functools
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

REPO = HERE.parent.parent
GATEWAY_BIN = os.environ.get("CLASP_GATEWAY_BIN") or str(REPO / ".build" / "release" / "clasp-gateway")
LISTENING = re.compile(r"listening on ws://(\[[0-9a-fA-F:.]+\]|[^\s:/]+):(\d+)")
# The listeners besides WebSocket, by URL scheme, with the flag that sets (or, at 0, disables) each.
PORT_FLAGS = {"tcp": "--tcp-port", "udp": "--udp-port", "wss": "--wss-port", "tcps": "--tcps-port", "http": "--admin-port"}
LISTENING_OTHER = {
    scheme: re.compile(rf"listening on {scheme}://(\[[0-9a-fA-F:.]+\]|[^\s:/]+):(\d+)") for scheme in PORT_FLAGS
}
LISTENING_OTHER["http"] = re.compile(r"admin page on http://(\[[0-9a-fA-F:.]+\]|[^\s:/]+):(\d+)/")
# Off (0) unless the test asks for them.
OFF_BY_DEFAULT = ("udp", "http")
FINGERPRINT = re.compile(r"SHA-256 fingerprint ([0-9A-F]{2}(?::[0-9A-F]{2}){31})")
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0


class GatewayProcess:
    def __init__(self, args, workdir):
        self.workdir = Path(workdir)
        self.log_path = self.workdir / "gateway.log"
        self.args = [GATEWAY_BIN] + list(args)
        self.process = None
        self.port = None
        self.host = None
        # Ports of the other listeners, by scheme; awaited for each flag given a non-zero port.
        self.ports = {}
        self.expected = [scheme for scheme, flag in PORT_FLAGS.items() if self._flag_value(flag) not in (None, "0")]

    def _flag_value(self, flag):
        if flag in self.args[:-1]:
            return self.args[self.args.index(flag) + 1]
        return None

    @property
    def tcp_port(self):
        return self.ports.get("tcp")

    @property
    def udp_port(self):
        return self.ports.get("udp")

    @property
    def admin_port(self):
        return self.ports.get("http")

    @property
    def wss_port(self):
        return self.ports.get("wss")

    @property
    def tcps_port(self):
        return self.ports.get("tcps")

    def fingerprint(self):
        """The TLS certificate's SHA-256 fingerprint from the start-up log, as openssl prints it."""
        match = FINGERPRINT.search(self.log())
        return match.group(1) if match else None

    def start(self, expect_listening=True, timeout=START_TIMEOUT):
        if not os.access(GATEWAY_BIN, os.X_OK):
            pytest.fail(f"gateway binary not found or not executable: {GATEWAY_BIN} (build it, or set CLASP_GATEWAY_BIN)")
        self.log_file = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            self.args, stdin=subprocess.DEVNULL, stdout=self.log_file, stderr=subprocess.STDOUT,
            cwd=self.workdir,
        )
        if not expect_listening:
            return self
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.log()
            match = LISTENING.search(log)
            others = {scheme: LISTENING_OTHER[scheme].search(log) for scheme in self.expected}
            if match and all(others.values()):
                self.host = match.group(1).strip("[]")
                self.port = int(match.group(2))
                self.ports = {scheme: int(found.group(2)) for scheme, found in others.items()}
                return self
            if self.process.poll() is not None:
                pytest.fail(f"gateway exited with {self.process.returncode} before listening:\n{self.log()}")
            time.sleep(0.02)
        self.kill()
        pytest.fail(f"gateway did not log 'listening on ws://' within {timeout}s:\n{self.log()}")

    @property
    def url(self):
        return f"ws://127.0.0.1:{self.port}"

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def wait(self, timeout):
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Sends `sig`; returns (exit code or None if it did not exit, seconds taken)."""
        if self.process is None:
            return None, 0.0
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.wait(timeout)
        elapsed = time.monotonic() - started
        if code is None:
            self.kill()
        self.log_file.close()
        return code, elapsed

    def kill(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)


def free_port(kind=socket.SOCK_STREAM):
    """A TCP (or, with SOCK_DGRAM, UDP) port nothing uses right now (bound to 127.0.0.1:0,
    read, released)."""
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def free_udp_port():
    return free_port(socket.SOCK_DGRAM)


def start_gateway(workdir, *extra, expect_listening=True, data_dir=True):
    args = ["--bind", "127.0.0.1", "--port", "0"]
    # Never the fixed default ports: several gateways run at once. 0 would turn them off.
    # UDP and the admin page stay off (0) unless the test asks for them.
    for scheme, flag in PORT_FLAGS.items():
        if flag not in extra:
            args += [flag, "0" if scheme in OFF_BY_DEFAULT else str(free_port())]
    if data_dir:
        args += ["--data-dir", str(Path(workdir) / "data")]
    args += list(extra)
    return GatewayProcess(args, workdir).start(expect_listening=expect_listening)


def assert_clean_stop(gateway, sig=signal.SIGTERM):
    code, elapsed = gateway.stop(sig)
    assert code == 0, f"gateway exit code {code} after {sig.name} (took {elapsed:.1f}s):\n{gateway.log()[-4000:]}"
    assert elapsed < 5.0, f"gateway took {elapsed:.1f}s to stop"
    lines = [line for line in gateway.log().splitlines() if "listening on ws://" in line]
    assert len(lines) == 1, f"expected exactly one 'listening on' line, got {lines}"


class SharedGateway:
    """One gateway for most tests; restarted (and the test failed) if a test kills it."""

    def __init__(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="clasp-interop-")
        self.generation = 0
        self.gateway = None
        self.deaths = []

    def ensure(self):
        if self.gateway is None or not self.gateway.alive():
            if self.gateway is not None:
                self.deaths.append(self.gateway.log()[-4000:])
            self.generation += 1
            workdir = Path(self.tmp.name) / f"run{self.generation}"
            workdir.mkdir()
            self.gateway = start_gateway(workdir)
        return self.gateway


@pytest.fixture(scope="session")
def shared_gateway():
    shared = SharedGateway()
    shared.ensure()
    yield shared
    gateway = shared.gateway
    if gateway.alive():
        assert_clean_stop(gateway)
    shared.tmp.cleanup()


@pytest.fixture
def gateway(shared_gateway):
    """The shared gateway; the test fails if the gateway process died during it."""
    current = shared_gateway.ensure()
    yield current
    if not current.alive():
        log = current.log()[-4000:]
        shared_gateway.ensure()
        pytest.fail(f"the gateway process died during this test (exit {current.process.returncode}):\n{log}")


@pytest.fixture
def own_gateway(tmp_path):
    """A factory for gateways private to one test; each is stopped (and checked) at the end."""
    started = []

    def make(*extra, expect_listening=True, data_dir=True):
        gw = start_gateway(tmp_path, *extra, expect_listening=expect_listening, data_dir=data_dir)
        started.append(gw)
        return gw

    yield make
    problems = []
    for gw in started:
        if gw.alive():
            code, elapsed = gw.stop(signal.SIGTERM)
            if code != 0 or elapsed >= 5.0:
                problems.append(f"exit {code} after {elapsed:.1f}s:\n{gw.log()[-3000:]}")
        gw.kill()
        if not gw.log_file.closed:
            gw.log_file.close()
    if problems:
        pytest.fail("a gateway did not stop cleanly on SIGTERM: " + "\n".join(problems))


def async_test(timeout=30.0):
    """Runs an async test function in a fresh event loop, bounded by `timeout` seconds."""

    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            return asyncio.run(asyncio.wait_for(function(*args, **kwargs), timeout))

        return wrapper

    return decorate


async def wait_until(condition, timeout=5.0, interval=0.01, what="condition"):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)

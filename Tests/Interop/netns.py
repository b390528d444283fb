"""Network namespaces for the tests that broadcast or multicast (design §4): each test makes
its own, runs the gateway and its peers inside, and deletes it afterwards."""

import contextlib
import os
import subprocess
import time

from conftest import GATEWAY_BIN


def exec_argv(namespace, *command):
    """`command` run inside `namespace`."""
    return ["ip", "netns", "exec", namespace, *command]


@contextlib.contextmanager
def network_namespace(prefix, multicast=False):
    """A new namespace with `lo` up (and, with `multicast`, multicast routed over `lo`); its name."""
    name = f"{prefix}-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(exec_argv(name, "ip", "link", "set", "lo", "up"), check=True)
        if multicast:
            subprocess.run(exec_argv(name, "ip", "link", "set", "lo", "multicast", "on"), check=True)
            subprocess.run(exec_argv(name, "ip", "route", "add", "224.0.0.0/4", "dev", "lo"), check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


@contextlib.contextmanager
def gateway_in(namespace, tmp_path, args, ready, timeout=15):
    """The gateway binary run in `namespace` with `args`, once its log (`tmp_path/gateway.log`)
    contains `ready`; yields the log's path and stops the gateway afterwards."""
    log_path = tmp_path / "gateway.log"
    with open(log_path, "wb") as log:
        gateway = subprocess.Popen(
            exec_argv(namespace, GATEWAY_BIN, *args),
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        deadline = time.monotonic() + timeout
        while ready not in log_path.read_text(errors="replace"):
            assert gateway.poll() is None, log_path.read_text(errors="replace")
            assert time.monotonic() < deadline, f"no {ready!r} in the gateway's log:\n" + log_path.read_text(errors="replace")
            time.sleep(0.05)
        yield log_path
    finally:
        if gateway.poll() is None:
            gateway.terminate()
            try:
                gateway.wait(10)
            except subprocess.TimeoutExpired:
                gateway.kill()

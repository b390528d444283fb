"""The sACN and Art-Net bridges against OLA's `olad` (Debian's `ola`): DMX both ways over E1.31
multicast and Art-Net (ArtPoll/ArtPollReply discovery, unicast ArtDmx), read and written with
OLA's own tools (`ola_set_dmx`, `ola_recorder`).

Two network namespaces joined by a veth pair act as two hosts, created and deleted by the test:
the gateway on 10.77.0.2, olad on 10.77.0.1 (olad refuses to run as root: it runs as `olad`;
its HTTP server is off). The CLASP client runs next to the gateway, in the gateway's namespace.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import GATEWAY_BIN, LISTENING
from dmx_peers import bridge_config

HERE = Path(__file__).resolve().parent
GATEWAY_IP, OLA_IP = "10.77.0.2", "10.77.0.1"
# Plugins olad would otherwise load (and probe devices with): all off but E1.31 and Art-Net.
OTHER_PLUGINS = ["dummy", "espnet", "ftdidmx", "gpio", "karate", "kinet", "milinst", "opendmx", "openpixelcontrol",
                 "osc", "pathport", "renard", "sandnet", "shownet", "spi", "stageprofi", "uartdmx", "usbdmx",
                 "usbpro", "usbserial", "dmx4linux", "nanoleaf"]

# Runs in the gateway's namespace: sets levels over CLASP, then waits for OLA's levels to arrive.
CLIENT = r"""
import asyncio, json, sys
sys.path.insert(0, sys.argv[2])
from clasp_wire import raw_session, set_payload, subscribe_payload

async def main():
    client = await raw_session(sys.argv[1], "ola-test")
    await client.send_payload(subscribe_payload(1, "/dmx/**"))
    for address, value in [("/dmx/1/1", 255), ("/dmx/1/2", 17), ("/dmx/3/1", 128), ("/dmx/3/2", 9)]:
        await client.send_payload(set_payload(address, value))
    levels = {}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + float(sys.argv[3])
    wanted = {"/dmx/2/1": 10, "/dmx/2/2": 20, "/dmx/4/1": 30, "/dmx/4/2": 40}
    while loop.time() < deadline and any(levels.get(address) != level for address, level in wanted.items()):
        try:
            message = await client.recv(timeout=max(0.05, deadline - loop.time()))
        except asyncio.TimeoutError:
            break
        if message["type"] == "SET":
            levels[message["address"]] = message["value"]
    print(json.dumps({k: v for k, v in levels.items() if isinstance(v, int)}))
    await client.close()

asyncio.run(main())
"""


def run(*args, check=True, timeout=20, **kwargs):
    return subprocess.run(list(args), check=check, timeout=timeout, capture_output=True, text=True, **kwargs)


class Hosts:
    def __init__(self):
        suffix = os.getpid()
        self.gateway_ns, self.ola_ns = f"clasp-gw-{suffix}", f"clasp-ola-{suffix}"
        self.veth = (f"cgw{suffix % 100000}", f"cola{suffix % 100000}")

    def create(self):
        for namespace in (self.gateway_ns, self.ola_ns):
            run("ip", "netns", "add", namespace)
            run("ip", "-n", namespace, "link", "set", "lo", "up")
        run("ip", "link", "add", self.veth[0], "type", "veth", "peer", "name", self.veth[1])
        for device, namespace, address in ((self.veth[0], self.gateway_ns, GATEWAY_IP), (self.veth[1], self.ola_ns, OLA_IP)):
            run("ip", "link", "set", device, "netns", namespace)
            run("ip", "-n", namespace, "addr", "add", f"{address}/24", "brd", "10.77.0.255", "dev", device)
            run("ip", "-n", namespace, "link", "set", device, "up")
            run("ip", "-n", namespace, "route", "add", "224.0.0.0/4", "dev", device)

    def delete(self):
        for namespace in (self.gateway_ns, self.ola_ns):
            run("ip", "netns", "del", namespace, check=False)

    def ola(self, *args, **kwargs):
        return run("ip", "netns", "exec", self.ola_ns, *args, **kwargs)


def record(hosts, tmp_path, universes, seconds=3):
    """The last levels OLA holds for each universe, as `ola_recorder` saw them arrive."""
    show = tmp_path / "show.txt"
    show.unlink(missing_ok=True)
    # ola_recorder records until interrupted.
    hosts.ola("timeout", "-s", "INT", str(seconds), "ola_recorder", "--record", str(show),
              "--universes", ",".join(map(str, universes)), check=False, timeout=seconds + 15)
    levels = {}
    for line in (show.read_text() if show.exists() else "").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit():
            levels[int(parts[0])] = [int(level) for level in parts[1].split(",")]
    return levels


@pytest.mark.skipif(shutil.which("olad") is None, reason="olad (Debian's ola) is not installed; scripts/test installs it")
def test_dmx_goes_both_ways_between_clasp_and_olad_over_sacn_and_artnet(tmp_path):
    hosts = Hosts()
    gateway = olad = client = None
    hosts.create()
    try:
        # The gateway first, so olad's first ArtPoll finds it.
        config = tmp_path / "gateway.toml"
        config.write_text(
            bridge_config(tmp_path, "e131", "sacn", bind="0.0.0.0", interface=GATEWAY_IP, output_universes=[1],
                          input_universes=[2]).read_text()
            + bridge_config(tmp_path, "artnet", "artnet", bind="0.0.0.0", broadcast="10.77.0.255",
                            output_universes=[3], input_universes=[4]).read_text())
        gateway_log = open(tmp_path / "gateway.log", "wb")
        gateway = subprocess.Popen(
            ["ip", "netns", "exec", hosts.gateway_ns, GATEWAY_BIN, "--bind", "127.0.0.1", "--port", "0", "--tcp-port", "0",
             "--discovery-port", "0", "--data-dir", str(tmp_path / "data"), "--config", str(config)],
            stdin=subprocess.DEVNULL, stdout=gateway_log, stderr=subprocess.STDOUT, cwd=tmp_path)
        log = tmp_path / "gateway.log"
        deadline = time.monotonic() + 15
        while not all(f"bridge {name} running" in log.read_text(errors="replace") for name in ("e131 (sacn)", "artnet (artnet)")):
            assert gateway.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.05)
        port = LISTENING.search(log.read_text()).group(2)

        conf = tmp_path / "ola-conf"
        conf.mkdir()
        for plugin in OTHER_PLUGINS:
            (conf / f"ola-{plugin}.conf").write_text("enabled = false\n")
        (conf / "ola-e131.conf").write_text(f"enabled = true\nip = {OLA_IP}\ninput_ports = 1\noutput_ports = 1\n")
        (conf / "ola-artnet.conf").write_text(f"enabled = true\nip = {OLA_IP}\nnet = 0\nsubnet = 0\nalways_broadcast = false\n")
        shutil.chown(conf, "olad")
        for path in conf.iterdir():
            shutil.chown(path, "olad")
        tmp_path.chmod(0o755)
        olad = subprocess.Popen(
            ["ip", "netns", "exec", hosts.ola_ns, "setpriv", "--reuid=olad", "--regid=nogroup", "--clear-groups", "--",
             "olad", "--config-dir", str(conf), "--no-http", "--log-level", "3"],
            stdin=subprocess.DEVNULL, stdout=open(tmp_path / "olad.log", "wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while hosts.ola("ola_dev_info", check=False).returncode != 0 or "E1.31" not in hosts.ola("ola_dev_info", check=False).stdout:
            assert olad.poll() is None and time.monotonic() < deadline, (tmp_path / "olad.log").read_text(errors="replace")
            time.sleep(0.2)
        devices = hosts.ola("ola_dev_info").stdout
        artnet_device = next(line.split()[1].rstrip(":") for line in devices.splitlines() if line.startswith("Device") and "ArtNet" in line)
        e131_device = next(line.split()[1].rstrip(":") for line in devices.splitlines() if line.startswith("Device") and "E1.31" in line)
        # OLA's input ports take from the network, its output ports send; Art-Net universe = OLA universe's low bits.
        hosts.ola("ola_patch", "--device", e131_device, "--port", "0", "--input", "--universe", "1")
        hosts.ola("ola_patch", "--device", e131_device, "--port", "0", "--universe", "2")
        hosts.ola("ola_patch", "--device", artnet_device, "--port", "0", "--input", "--universe", "3")
        hosts.ola("ola_patch", "--device", artnet_device, "--port", "0", "--universe", "4")

        client = subprocess.Popen(
            ["ip", "netns", "exec", hosts.gateway_ns, sys.executable, "-c", CLIENT, f"ws://127.0.0.1:{port}", str(HERE), "40"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        # CLASP -> gateway -> OLA: universe 1 by sACN multicast, universe 3 by Art-Net.
        deadline = time.monotonic() + 30
        seen = {}
        while time.monotonic() < deadline:
            seen.update(record(hosts, tmp_path, [1, 3], seconds=2))
            if seen.get(1, [])[:2] == [255, 17] and seen.get(3, [])[:2] == [128, 9]:
                break
        client_output = "" if client.poll() is None else client.communicate()
        assert seen.get(1, [])[:2] == [255, 17], f"OLA universe 1 (sACN): {seen.get(1, [])[:4]}\n{client_output}\n{log.read_text()[-2000:]}"
        assert seen.get(3, [])[:2] == [128, 9], f"OLA universe 3 (Art-Net): {seen.get(3)}"

        # OLA -> gateway -> CLASP: universe 2 by sACN, 4 by Art-Net (set again while OLA learns of us).
        deadline = time.monotonic() + 30
        while client.poll() is None and time.monotonic() < deadline:
            hosts.ola("ola_set_dmx", "--universe", "2", "--dmx", "10,20")
            hosts.ola("ola_set_dmx", "--universe", "4", "--dmx", "30,40")
            time.sleep(1)
        out, err = client.communicate(timeout=45)
        levels = json.loads(out or "{}")
        assert levels.get("/dmx/2/1") == 10 and levels.get("/dmx/2/2") == 20, f"{levels} {err}"
        assert levels.get("/dmx/4/1") == 30 and levels.get("/dmx/4/2") == 40, f"{levels} {err}"
    finally:
        for process in (client, olad, gateway):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
        hosts.delete()

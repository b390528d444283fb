"""Shared by the hardware tests: a gateway with one dmx bridge, and a CLASP client's SETs."""

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "Tests" / "Interop"))

from clasp_wire import RawClient, set_payload  # noqa: E402

BIN = os.environ.get("CLASP_GATEWAY_BIN") or str(REPO / ".build" / "release" / "clasp-gateway")


class Gateway:
    def __init__(self, bridge_options):
        self.dir = tempfile.TemporaryDirectory(prefix="clasp-hwtest-")
        config = Path(self.dir.name) / "gateway.toml"
        config.write_text("[bridges.hw]\nkind = \"dmx\"\n" + "".join(f"{k} = {v}\n" for k, v in bridge_options.items()))
        self.log = Path(self.dir.name) / "gateway.log"
        self.process = subprocess.Popen(
            [BIN, "--config", str(config), "--bind", "127.0.0.1", "--port", "0", "--no-tcp",
             "--data-dir", str(Path(self.dir.name) / "data")],
            stdout=open(self.log, "wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while "bridge hw (dmx) running" not in self.log.read_text(errors="replace"):
            if time.monotonic() > deadline or self.process.poll() is not None:
                sys.exit(f"gateway did not start the bridge:\n{self.log.read_text(errors='replace')}")
            time.sleep(0.1)
        port = self.log.read_text().split("listening on ws://127.0.0.1:")[1].split()[0]
        self.url = f"ws://127.0.0.1:{port}"

    def set(self, values):
        async def send():
            client = await RawClient.connect(self.url)
            await client.hello("hwtest")
            for address, value in values.items():
                await client.send_payload(set_payload(address, value))
            await client.barrier()
            await client.close()

        asyncio.run(send())

    def stop(self):
        self.process.terminate()
        self.process.wait(10)


def check(condition, text):
    print(("ok   " if condition else "FAIL ") + text)
    return condition

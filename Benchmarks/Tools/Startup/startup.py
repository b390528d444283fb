"""Start to serving and idle memory of the gateway with every listener the defaults open
(docs/benchmarks.md, "Gateway start and idle memory").

    python3 Benchmarks/Tools/Startup/startup.py .build/release/clasp-gateway DATA_DIR

Starts the binary on 127.0.0.1 with every listener on a free port and DATA_DIR as its data
directory (a fresh one: the first start, which makes the TLS certificate; the same again: a
later start), times exec → the admin page's line (the last listener to come up), reads VmRSS,
RssAnon and RssFile from /proc 1 s later, and stops it.
"""

import os
import re
import socket
import subprocess
import sys
import time

binary, data = sys.argv[1], sys.argv[2]


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


args = [binary, "--bind", "127.0.0.1", "--data-dir", data,
        "--port", str(free_port()), "--tcp-port", str(free_port()), "--udp-port", str(free_port(socket.SOCK_DGRAM)),
        "--wss-port", str(free_port()), "--tcps-port", str(free_port()), "--admin-port", str(free_port()),
        "--discovery-port", str(free_port(socket.SOCK_DGRAM))]
started = time.monotonic()
gateway = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
listeners, serving = 0, None
try:
    deadline = started + 10
    for line in gateway.stdout:
        if re.search(r"notice clasp-gateway: (listening on|discovery responder on|admin page on)", line):
            listeners += 1
            serving = time.monotonic()
        if "admin page on" in line or time.monotonic() > deadline:
            break
    if serving is None:
        sys.exit(f"{binary} printed no listening line within 10 s")
    time.sleep(1)
    status = open(f"/proc/{gateway.pid}/status").read()
    rss = {key: int(re.search(rf"^{key}:\s+(\d+)", status, re.M).group(1)) for key in ("VmRSS", "RssAnon", "RssFile")}
finally:
    gateway.terminate()
    gateway.wait(5)
print(f"{os.path.basename(binary)}: {listeners} listener lines, the last {(serving - started) * 1000:.0f} ms after exec; "
      f"VmRSS {rss['VmRSS']} KiB (anonymous {rss['RssAnon']}, file-backed {rss['RssFile']})")

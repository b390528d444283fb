#!/usr/bin/env python3
"""Output jitter and CPU of the sACN bridge: N universes sent steadily at R Hz to a unicast
receiver on loopback, for a bounded time.

    python3 Benchmarks/Tools/SACNJitter/sacn_jitter.py .build/release/clasp-gateway [--universes 64] [--rate 44] [--seconds 20]
        [--steady false] [--prefix "chrt -f 10"]

The receiver takes the kernel's receive time of each datagram (SO_TIMESTAMPNS), so Python's own
scheduling does not count; the intervals are per universe, from one packet to the next. CPU is
the gateway process's user + system time over the measured window (/proc/<pid>/stat), as a
percentage of one core.
"""

import argparse
import os
import socket
import statistics
import struct
import subprocess
import tempfile
import time
from pathlib import Path

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("gateway")
    parser.add_argument("--universes", type=int, default=64)
    parser.add_argument("--rate", type=float, default=44)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--steady", choices=["true", "false"], default="true")
    parser.add_argument("--prefix", default="", help='run the gateway under this command, e.g. "chrt -f 10"')
    args = parser.parse_args()

    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    receiver.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(1)
    work = Path(tempfile.mkdtemp(prefix="sacn-jitter-"))
    universes = ", ".join(str(u) for u in range(1, args.universes + 1))
    (work / "gateway.toml").write_text(
        "[bridges.bench]\nkind = \"sacn\"\nbind = \"127.0.0.1\"\n"
        f"port = {free_port()}\nmulticast = false\ndiscovery = false\n"
        f"destinations = [\"127.0.0.1:{receiver.getsockname()[1]}\"]\n"
        f"output_universes = [{universes}]\nrate = {args.rate}\nsteady = {args.steady}\n")
    log = open(work / "gateway.log", "wb")
    gateway = subprocess.Popen(
        args.prefix.split() + [args.gateway, "--bind", "127.0.0.1", "--port", "0", "--tcp-port", "0", "--discovery-port", "0",
         "--data-dir", str(work / "data"), "--config", str(work / "gateway.toml")],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while "bridge bench (sacn) running" not in (work / "gateway.log").read_text(errors="replace"):
            assert gateway.poll() is None and time.monotonic() < deadline, (work / "gateway.log").read_text()
            time.sleep(0.05)
        time.sleep(1)  # settle
        arrivals = {}
        cpu_start, wall_start = cpu_seconds(gateway.pid), time.monotonic()
        # Kernel stamps are wall-clock: packets queued before the window are left out.
        window_start = time.time()
        end = wall_start + args.seconds
        while time.monotonic() < end:
            try:
                data, ancillary, _, _ = receiver.recvmsg(700, socket.CMSG_SPACE(16))
            except socket.timeout:
                continue
            stamp = None
            for level, kind, payload in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    seconds, nanoseconds = struct.unpack("qq", payload[:16])
                    stamp = seconds + nanoseconds / 1e9
            if stamp is None or stamp < window_start or len(data) < 126:
                continue
            universe = struct.unpack(">H", data[113:115])[0]
            arrivals.setdefault(universe, []).append((stamp, data[111]))
        cpu = (cpu_seconds(gateway.pid) - cpu_start) / (time.monotonic() - wall_start) * 100
    finally:
        gateway.terminate()
        gateway.wait(10)

    period = 1 / args.rate
    intervals, lost = [], 0
    for packets in arrivals.values():
        for (before, sequence_before), (after, sequence_after) in zip(packets, packets[1:]):
            intervals.append(after - before)
            lost += (sequence_after - sequence_before - 1) % 256
    deviation = [abs(interval - period) * 1000 for interval in intervals]
    frames = sum(len(packets) for packets in arrivals.values())
    print(f"universes seen: {len(arrivals)} of {args.universes}; frames: {frames} in {args.seconds:.0f} s "
          f"({frames / args.seconds / max(1, len(arrivals)):.2f} per universe per second; sequence gaps: {lost})")
    print(f"interval (ms): mean {statistics.mean(intervals) * 1000:.3f}, stdev {statistics.pstdev(intervals) * 1000:.3f}, "
          f"min {min(intervals) * 1000:.3f}, max {max(intervals) * 1000:.3f}")
    print(f"jitter |interval - {period * 1000:.3f} ms| (ms): p50 {percentile(deviation, 0.5):.3f}, "
          f"p99 {percentile(deviation, 0.99):.3f}, p99.9 {percentile(deviation, 0.999):.3f}, max {max(deviation):.3f}")
    print(f"gateway CPU: {cpu:.1f} % of one core")


if __name__ == "__main__":
    main()

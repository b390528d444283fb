#!/usr/bin/env python3
"""Markdown tables from clasp-load's JSON lines (scripts/bench-scenarios prints them at the end).

    python3 Tools/clasp-load/summarize.py .build/bench-scenarios/results.jsonl
"""

import json
import sys


def us(value):
    """A latency in µs as the tables show it: µs below 10 ms, ms above."""
    if value >= 10_000:
        return f"{value / 1000:,.0f} ms"
    if value >= 1_000:
        return f"{value / 1000:.1f} ms"
    return f"{value:.0f} µs"


def served(run):
    p = run.get("allServed") or {}
    if not p.get("count"):
        return "–"
    return " / ".join(us(p[key]) for key in ("p50", "p90", "p99", "p999", "max"))


def cpu_per_delivery(run, key="brokerCPUSeconds"):
    cpu = run.get(key)
    if cpu is None or not run["delivered"]:
        return "–"
    return f"{cpu * 1e6 / run['delivered']:.2f} µs"


def mib(kib):
    return "–" if kib is None else f"{kib / 1024:.1f}"


def joiner_times(milliseconds):
    """A few joiners one by one; a storm as p50 / p99 / max."""
    if len(milliseconds) <= 5:
        return ", ".join(f"{ms:.1f}" for ms in milliseconds)
    ordered = sorted(milliseconds)
    p50, p99 = (ordered[min(len(ordered) - 1, int(q * len(ordered)))] for q in (0.5, 0.99))
    return f"p50 {p50:.1f} / p99 {p99:.1f} / max {ordered[-1]:.1f} (n = {len(ordered)})"


def stalled_table(rows):
    print("\n| run | broker RSS: start / peak / end (MiB) | stalled sessions closed by the broker | what they read when they read again "
          "| deliveries each | broker closed descriptors at (s after the first send) |")
    print("| --- | --- | ---: | --- | --- | --- |")
    for run in rows:
        stalled = run["stalled"]
        reasons = "; ".join(f"{count} × {reason}" for reason, count in sorted(stalled["reasons"].items()))
        closed_at = stalled["brokerClosedAt"]
        when = f"{min(closed_at):.2f}–{max(closed_at):.2f}" if closed_at else "–"
        print(f"| {run['label']} | {mib(run.get('rssStartKiB'))} / {mib(run.get('rssPeakKiB'))} / {mib(run.get('rssEndKiB'))} "
              f"| {stalled['closed']} of {stalled['sessions']} | {reasons} "
              f"| {stalled['fewestDeliveries']:,}–{stalled['mostDeliveries']:,} | {when} |")


def latency(run):
    p = run.get("latency") or {}
    if not p.get("count"):
        return "–"
    return " / ".join(us(p[key]) for key in ("p50", "p90", "p99", "max"))


def bridge_table(rows):
    """Scenario F: the bridge probe's runs (JSON lines with a "bridge" key)."""
    print("| run | changes sent / seen | change → first frame showing it: p50 / p90 / p99 / max "
          "| packets (out) or SETs (in) seen/s | gateway CPU: % of a core (idle before) | per change | per packet or SET |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: |")
    for run in rows:
        cpu, window = run.get("gatewayCPUSeconds"), run["windowSeconds"]
        per = lambda count: "–" if cpu is None or not count else f"{cpu * 1e6 / count:.1f} µs"
        percent = "–" if cpu is None or not window else f"{cpu / window * 100:.1f}"
        if run.get("idleCPUPercent") is not None:
            percent += f" ({run['idleCPUPercent']:.1f})"
        print(f"| {run['label']} | {run['sent']:,} / {run['seen']:,} | {latency(run)} "
              f"| {run['observed'] / window if window else 0:,.1f} | {percent} | {per(run['sent'])} | {per(run['observed'])} |")


def main(path):
    runs = [json.loads(line) for line in open(path) if line.strip()]
    bridges = [run for run in runs if "bridge" in run]
    runs = [run for run in runs if "bridge" not in run]
    by_scenario = {}
    for run in runs:
        by_scenario.setdefault(run["label"].split()[0], []).append(run)
    for scenario, rows in by_scenario.items():
        print(f"\n#### {scenario}\n")
        print("| run | sent | delivered / expected | deliveries/s | send → every subscriber has it: p50 / p90 / p99 / p99.9 / max "
              "| ACK p50 / p99 | broker CPU per delivery | load tool CPU per delivery | broker RSS end (MiB) | closed by broker |")
        print("| --- | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: |")
        for run in rows:
            ack = run.get("ackLatency")
            ack_text = f"{us(ack['p50'])} / {us(ack['p99'])}" if ack and ack.get("count") else "–"
            print(f"| {run['label']} | {run['sent']:,} | {run['delivered']:,} / {run['expected']:,} "
                  f"| {run['deliveriesPerSecond']:,.0f} | {served(run)} | {ack_text} | {cpu_per_delivery(run)} | {cpu_per_delivery(run, 'toolCPUSeconds')} "
                  f"| {mib(run.get('rssEndKiB'))} | {run['sessionsClosedByBroker']} |")
        stressed = [run for run in rows if run.get("stalled")]
        if stressed:
            stalled_table(stressed)
        extras = [run for run in rows if run.get("lateJoinerMilliseconds")]
        if extras:
            print("\n| run | preload | broker RSS: start / after preload / all connected / end / peak (MiB) "
                  "| late joiners: connect → snapshot complete (ms) |")
            print("| --- | --- | --- | --- |")
            for run in extras:
                params = sorted(set(run.get("lateJoinerParams", [])))
                together = "all at once: " if run.get("lateJoinersAtOnce") else ""
                print(f"| {run['label']} | {run['preloadParams']:,} params in {run['preloadSeconds']:.2f} s "
                      f"| {mib(run.get('rssStartKiB'))} / {mib(run.get('rssAfterPreloadKiB'))} / "
                      f"{mib(run.get('rssConnectedKiB'))} / {mib(run.get('rssEndKiB'))} / {mib(run.get('rssPeakKiB'))} "
                      f"| {together}{joiner_times(run['lateJoinerMilliseconds'])} ({', '.join(map(str, params))} params) |")
    if bridges:
        print("\n#### F\n")
        bridge_table(bridges)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".build/bench-scenarios/results.jsonl")

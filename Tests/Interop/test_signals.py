"""Gestures, streams and timelines between two official clients (`clasp-to`) through the
gateway, over real sockets (docs/router.md "Gestures", docs/streams.md, docs/timelines.md)."""

import asyncio
import time

from conftest import async_test, wait_until
from test_python_client import barrier, close_all, collector, connect


@async_test()
async def test_a_240_hz_gesture_reaches_a_subscriber_at_most_every_16_ms_ending_on_the_latest_move(gateway):
    pen = await connect(gateway.url, "pen-240")
    watcher = await connect(gateway.url, "gesture-watcher")
    try:
        arrivals = []
        watcher.subscribe("/gesture240/**", lambda value, address: arrivals.append((time.monotonic(), value)))
        await barrier(watcher)
        await pen.gesture("/gesture240/pad", 3, "start", {"x": 0.0})
        sent = 0
        started = time.monotonic()
        while time.monotonic() - started < 1.0:
            sent += 1
            await pen.gesture("/gesture240/pad", 3, "move", {"x": float(sent)})
            await asyncio.sleep(1 / 240)
        await pen.gesture("/gesture240/pad", 3, "end", {"x": float(sent)})
        await wait_until(lambda: arrivals and arrivals[-1][1] == {"x": float(sent)} and len(arrivals) >= 2, 3, what="the end")
        await barrier(watcher)
        moves = [(t, v["x"]) for t, v in arrivals[1:-1]]
        wire = [m for m in watcher.received if m.get("type") == "PUBLISH"]
        assert [m["phase"] for m in wire][0] == "start" and wire[-1]["phase"] == "end"
        assert all(m["phase"] == "move" for m in wire[1:-1])
        # 1 s of moves at most every 16 ms: about 63, far fewer than sent, in order, the last one kept.
        assert sent > 150, f"only {sent} moves sent"
        assert 20 <= len(moves) <= 70, f"{len(moves)} moves delivered of {sent}"
        assert [x for _, x in moves] == sorted(x for _, x in moves)
        assert moves[-1][1] == float(sent)
        gaps = [b - a for (a, _), (b, _) in zip(moves, moves[1:])]
        # Arrival gaps can shrink by scheduling noise on the receiving side; the router spaces them 16 ms.
        assert sorted(gaps)[len(gaps) // 10] >= 0.012, sorted(gaps)[:10]
    finally:
        await close_all(pen, watcher)


@async_test()
async def test_a_gesture_is_cancelled_for_subscribers_when_its_client_disconnects(gateway):
    pen = await connect(gateway.url, "pen-gone")
    watcher = await connect(gateway.url, "cancel-watcher")
    try:
        seen, _ = collector(watcher, "/gesturegone/**")
        await barrier(watcher)
        await pen.gesture("/gesturegone/pad", 9, "start", {"x": 0.0})
        await pen.gesture("/gesturegone/pad", 9, "move", {"x": 1.0})
        await wait_until(lambda: len(seen) == 2, 3, what="start and move")
        await pen.close()
        await wait_until(lambda: len(seen) == 3, 3, what="the cancel")
        wire = [m for m in watcher.received if m.get("type") == "PUBLISH"]
        assert [(m["phase"], m["id"]) for m in wire] == [("start", 9), ("move", 9), ("cancel", 9)]
    finally:
        await close_all(watcher)


@async_test()
async def test_stream_options_from_the_official_client_are_honoured(gateway):
    publisher = await connect(gateway.url, "streamer")
    plain = await connect(gateway.url, "stream-plain")
    limited = await connect(gateway.url, "stream-limited")
    deadband = await connect(gateway.url, "stream-epsilon")
    try:
        got_plain, _ = collector(plain, "/streamopt/**")
        limited_times = []
        limited.subscribe("/streamopt/**", lambda value, address: limited_times.append(time.monotonic()), maxRate=20)
        got_epsilon = []
        deadband.subscribe("/streamopt/**", lambda value, address: got_epsilon.append(value), epsilon=0.5)
        for client in (plain, limited, deadband):
            await barrier(client)
        # 500 samples in about a second, a ramp of 0.1 per sample. It starts above 0: the
        # official client sends a stream value of 0.0 as no value at all.
        for index in range(500):
            await publisher.stream("/streamopt/level", (index + 1) * 0.1)
            if index % 10 == 9:
                await asyncio.sleep(0.02)
        last = 500 * 0.1
        await wait_until(lambda: got_plain and abs(got_plain[-1][1] - last) < 1e-9, 5, what="all plain samples")
        await wait_until(lambda: limited_times and len(got_epsilon) > 0, 5, what="filtered samples")
        await asyncio.sleep(0.2)  # the trailing edge of the rate-limited subscription
        await barrier(limited)
        assert len(got_plain) == 500
        # The rate-limited subscription (20 Hz) gets about one sample per 50 ms, ending on the last.
        assert 10 <= len(limited_times) <= 40, len(limited_times)
        gaps = [b - a for a, b in zip(limited_times, limited_times[1:])]
        assert sorted(gaps)[len(gaps) // 10] >= 0.035, sorted(gaps)[:5]
        # Epsilon 0.5 on a 0.1 ramp: every sixth sample.
        assert 80 <= len(got_epsilon) <= 90, len(got_epsilon)
        assert all(b - a > 0.5 for a, b in zip(got_epsilon, got_epsilon[1:]))
    finally:
        await close_all(publisher, plain, limited, deadband)


def curve_error(observed, expected):
    return max(abs(value - expected(t)) for t, value in observed)


@async_test()
async def test_a_timeline_published_over_a_live_socket_drives_a_param_along_its_curve(gateway):
    publisher = await connect(gateway.url, "timeline-publisher")
    watcher = await connect(gateway.url, "timeline-watcher")
    try:
        observed = []
        # The subscription admits every type, so the timeline definition (a map) arrives too.
        watcher.subscribe("/tl/dimmer", lambda value, address: observed.append((time.time(), value)) if isinstance(value, float) else None)
        await barrier(watcher)
        start = publisher.time() + 200_000
        await publisher._send({
            "type": "PUBLISH", "address": "/tl/dimmer", "signal": "timeline",
            "value": {"keyframes": [
                {"time": 0, "value": 0.0, "easing": "ease-in"},
                {"time": 1_000_000, "value": 1.0},
            ]},
            "timestamp": start,
        })
        await wait_until(lambda: observed and observed[-1][1] == 1.0, 5, what="the last keyframe")
        values = [v for _, v in observed]
        assert values == sorted(values), "an ease-in ramp only climbs"
        assert len(values) >= 50, f"about 100 SETs at 100 Hz expected, got {len(values)}"
        # Each observed value matches ease-in (t²) at its arrival time, within one 10 ms tick
        # plus delivery: t is the server's time minus the start, clamped to [0, 1].
        def ease_in(arrival):
            t = min(1.0, max(0.0, (arrival * 1e6 - start) / 1e6))
            return t * t
        def bound(arrival):
            later = min(1.0, max(0.0, (arrival * 1e6 - start) / 1e6))
            earlier = min(1.0, max(0.0, (arrival * 1e6 - start - 30_000) / 1e6))
            return later * later, earlier * earlier
        outside = [(t, v) for t, v in observed[1:-1] if not (bound(t)[1] - 1e-9 <= v <= bound(t)[0] + 1e-9)]
        assert len(outside) <= len(observed) // 20, f"{len(outside)} of {len(observed)} values off the curve by more than 30 ms: {outside[:3]}"
        assert abs(ease_in(observed[len(observed) // 2][0]) - observed[len(observed) // 2][1]) < 0.1
    finally:
        await close_all(publisher, watcher)


@async_test()
async def test_the_official_clients_own_timeline_call_gets_a_clear_402(gateway):
    from clasp_wire import raw_session, publish_payload
    raw = await raw_session(gateway.url, "tl-raw")
    try:
        # What clasp-to's timeline() puts on the wire: signal 4 and a timestamp, no value.
        await raw.send_payload(publish_payload("/tl/python", "timeline", timestamp=1))
        errors = [m for m in await raw.barrier() if m["type"] == "ERROR"]
        assert [e["code"] for e in errors] == [402]
        assert errors[0]["message"].startswith("invalid timeline: a timeline needs a value")
    finally:
        await raw.close()

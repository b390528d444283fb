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

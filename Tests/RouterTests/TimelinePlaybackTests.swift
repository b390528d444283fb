import CLASP
import Router
import Testing

/// Timelines played by the router into params (docs/timelines.md).
@Suite struct TimelinePlaybackTests {
    private func timeline(_ keyframes: [(UInt64, Value, String)], loop: Bool = false, start: UInt64? = nil) -> Value {
        var entries: [(key: String, value: Value)] = [
            ("keyframes", .array(keyframes.map { .map([("time", .int(Int64($0.0))), ("value", $0.1), ("easing", .string($0.2))]) })),
            ("loop", .bool(loop)),
        ]
        if let start { entries.append(("start", .int(Int64(start)))) }
        return .map(entries)
    }

    private func publish(_ value: Value?, at address: String = "/fade") -> Message {
        .publish(Publish(address: address, signal: .timeline, value: value))
    }

    private func setValues(_ peer: TestPeer) -> [Value] {
        peer.take().compactMap { if case .set(let set) = $0 { set.value } else { nil } }
    }

    @Test func aLinearTimelineDrivesItsParamAndEndsOnItsLastValue() {
        let store = RecordingStore()
        let h = Harness(store: store)
        let sender = h.session("sender")
        let watcher = h.session("watcher")
        h.subscribe(watcher, "/fade", types: [.param])
        h.send(publish(timeline([(0, .float(0), "linear"), (1_000_000, .float(1), "linear")])), qos: .confirm, from: sender)
        #expect(sender.take() == [.ack(Ack(address: "/fade"))])
        h.advance(seconds: 0)
        #expect(setValues(watcher) == [.float(0)])
        h.advance(seconds: 0.5)
        #expect(setValues(watcher) == [.float(0.5)])
        h.advance(seconds: 0.25)
        #expect(setValues(watcher) == [.float(0.75)])
        h.advance(seconds: 1)
        #expect(setValues(watcher) == [.float(1)])
        h.advance(seconds: 1)
        #expect(watcher.take().isEmpty)
        let batches = store.take()
        #expect(batches.flatMap(\.timelineUpserts).map(\.address) == ["/fade"])
        #expect(batches.flatMap(\.timelineRemovals) == ["/fade"])
        h.send(.get(Get(address: "/fade")), from: watcher)
        guard case .snapshot(let snapshot)? = watcher.take().first else {
            Issue.record("no snapshot")
            return
        }
        #expect(snapshot.params.first?.value == .float(1))
        #expect(snapshot.params.first?.writer == sender.sessionID)
    }

    @Test func timelineSubscribersGetTheDefinitionAndLateJoinersTheActiveOnes() {
        let h = Harness()
        let sender = h.session("sender")
        let early = h.session("early")
        h.subscribe(early, "/**", types: [.timeline])
        h.send(publish(timeline([(0, .int(0), "linear"), (2_000_000, .int(10), "ease-in")])), from: sender)
        let announced = early.take()
        guard case .publish(let definition)? = announced.first else {
            Issue.record("no timeline publish")
            return
        }
        #expect(definition.signal == .timeline)
        let late = h.session("late")
        h.subscribe(late, "/**", types: [.timeline])
        #expect(late.take() == announced)
        // A stop reaches timeline subscribers and ends the playback.
        h.send(publish(.map([("stop", .bool(true))])), from: sender)
        #expect(early.take().count == 1)
        let later = h.session("later")
        h.subscribe(later, "/**", types: [.timeline])
        #expect(later.take().isEmpty)
    }

    @Test func aBadTimelineIsRefusedWith402AndTheOneThatPlaysGoesOn() {
        let h = Harness()
        let sender = h.session("sender")
        let watcher = h.session("watcher")
        h.subscribe(watcher, "/fade", types: [.param])
        h.send(publish(timeline([(0, .float(0), "linear"), (1_000_000, .float(1), "linear")])), from: sender)
        h.send(publish(timeline([(500, .float(0), "linear"), (100, .float(1), "bounce")])), from: sender)
        let errors = sender.takeErrors()
        #expect(errors.map(\.code) == [402])
        #expect(errors.first?.message.hasPrefix("invalid timeline: ") == true)
        h.send(publish(nil), from: sender)
        #expect(sender.takeErrors().map(\.code) == [402])
        h.advance(seconds: 0.5)
        #expect(setValues(watcher).last == .float(0.5))
    }

    @Test func aNewTimelineReplacesTheOldOne() {
        let h = Harness()
        let sender = h.session("sender")
        let watcher = h.session("watcher")
        h.subscribe(watcher, "/fade", types: [.param])
        h.send(publish(timeline([(0, .float(0), "linear"), (1_000_000, .float(1), "linear")])), from: sender)
        h.advance(seconds: 0.2)
        h.send(publish(timeline([(0, .float(10), "step"), (1_000_000, .float(20), "linear")])), from: sender)
        _ = watcher.take()
        h.advance(seconds: 0.5)
        #expect(setValues(watcher) == [.float(10)])
        h.advance(seconds: 0.6)
        #expect(setValues(watcher) == [.float(20)])
    }

    @Test func aTimelinePastItsEndWhileStoppedIsFinishedOnRestore() throws {
        let clock = ManualClock()
        let start = clock.wallMicroseconds() - 10_000_000
        let definition = try TimelineDefinition(
            keyframes: [Keyframe(time: 0, value: .float(0)), Keyframe(time: 1_000_000, value: .float(1))], startTime: start)
        let store = RecordingStore()
        let h = Harness(clock: clock, store: store, timelines: [StoredTimeline(address: "/fade", definition: definition)])
        let peer = h.session()
        h.send(.get(Get(address: "/fade")), from: peer)
        guard case .snapshot(let snapshot)? = peer.take().first else {
            Issue.record("no snapshot")
            return
        }
        #expect(snapshot.params.first?.value == .float(1))
        h.advance(seconds: 0.1)
        #expect(store.take().flatMap(\.timelineRemovals) == ["/fade"])
    }

    @Test func aLockHeldByAnotherSessionRefusesATimeline() {
        let h = Harness()
        let holder = h.session("holder")
        let other = h.session("other")
        h.set("/fade", .float(0), lock: true, from: holder)
        h.send(publish(timeline([(0, .float(0), "linear"), (1_000_000, .float(1), "linear")])), from: other)
        #expect(other.takeErrors().map(\.code) == [401])
    }
}

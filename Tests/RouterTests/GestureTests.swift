import CLASP
import Router
import Testing

/// Gesture tracking and move coalescing (design §7).
@Suite struct GestureTests {
    private func gesture(_ phase: GesturePhase, _ x: Double = 0, id: UInt32? = 1, address: String = "/touch") -> Message {
        .publish(Publish(address: address, signal: .gesture, phase: phase, value: .float(x), id: id))
    }

    /// (phase, x, id) of each gesture PUBLISH received.
    private func seen(_ peer: TestPeer) -> [String] {
        peer.take().compactMap { message in
            guard case .publish(let p) = message else { return nil }
            let x: String
            if case .float(let v)? = p.value { x = "\(v)" } else { x = "-" }
            return "\(p.phase)\(x == "-" ? "" : " \(x)")\(p.id.map { " #\($0)" } ?? "")"
        }
    }

    private func pair(_ configure: (inout RouterConfiguration) -> Void = { _ in }) -> (Harness, TestPeer, TestPeer) {
        let h = Harness(configure)
        let sender = h.session("sender")
        let watcher = h.session("watcher")
        h.subscribe(watcher, "/**", types: [.gesture])
        _ = watcher.take()
        return (h, sender, watcher)
    }

    @Test func movesReachSubscribersAtMostOncePerIntervalLatestWins() {
        let (h, sender, watcher) = pair()
        h.send(gesture(.start), from: sender)
        h.send(gesture(.move, 1), from: sender)  // first move after quiet: at once
        for x in 2...5 {
            h.clock.advance(seconds: 0.002)
            h.send(gesture(.move, Double(x)), from: sender)
        }
        #expect(seen(watcher) == ["start 0.0 #1", "move 1.0 #1"])
        h.advance(seconds: 0.007)  // 15 ms since move 1: not yet
        #expect(seen(watcher).isEmpty)
        h.advance(seconds: 0.001)  // 16 ms: the latest pending move goes out
        #expect(seen(watcher) == ["move 5.0 #1"])
        #expect(h.wakeUps.contains(h.clock.monotonicNanoseconds()))
        h.advance(seconds: 0.1)
        #expect(seen(watcher).isEmpty)
    }

    @Test func endSendsThePendingMoveFirstAndNothingIsDropped() {
        let (h, sender, watcher) = pair()
        h.send(gesture(.start), from: sender)
        h.send(gesture(.move, 1), from: sender)
        h.send(gesture(.move, 2), from: sender)
        h.send(gesture(.end, 3), from: sender)
        #expect(seen(watcher) == ["start 0.0 #1", "move 1.0 #1", "move 2.0 #1", "end 3.0 #1"])
        h.advance(seconds: 1)
        #expect(seen(watcher).isEmpty)
        #expect(h.router.liveGestureCount == 0)
    }

    @Test func anEndedGestureLeavesNoTimerBehind() {
        let (h, sender, watcher) = pair()
        h.send(gesture(.start), from: sender)
        for x in 1...50 {
            h.send(gesture(.move, Double(x)), from: sender)
            h.advance(seconds: 0.004)  // 240 Hz: most moves are held, then sent
        }
        h.send(gesture(.end), from: sender)
        _ = seen(watcher)
        let asked = h.wakeUps.count
        for _ in 0..<40 { h.advance(seconds: 1) }
        #expect(h.wakeUps.count == asked, "woken for nothing after the gesture ended")
    }

    @Test func tenFingersStayIndependent() {
        let (h, sender, watcher) = pair()
        for finger in UInt32(0)..<10 {
            h.send(gesture(.start, id: finger), from: sender)
            h.send(gesture(.move, Double(finger), id: finger), from: sender)
        }
        #expect(seen(watcher).count == 20)
        for finger in UInt32(0)..<10 {
            h.send(gesture(.move, 100 + Double(finger), id: finger), from: sender)
        }
        #expect(seen(watcher).isEmpty)
        h.advance(seconds: 0.016)
        #expect(Set(seen(watcher)) == Set((0..<10).map { "move \(100.0 + Double($0)) #\($0)" }))
        #expect(h.router.liveGestureCount == 10)
    }

    @Test func aGestureIsCancelledWhenItsSessionEnds() {
        let (h, sender, watcher) = pair()
        h.send(gesture(.start, id: 7), from: sender)
        h.send(gesture(.move, 1, id: 7), from: sender)
        h.send(gesture(.move, 2, id: 7), from: sender)
        _ = seen(watcher)
        h.disconnect(sender)
        #expect(seen(watcher) == ["move 2.0 #7", "cancel #7"])
        #expect(h.router.liveGestureCount == 0)
    }

    @Test func aSilentGestureIsCancelledAfterTheTimeout() {
        let (h, sender, watcher) = pair { $0.gestureTimeout = 2 }
        h.send(gesture(.start, id: nil), from: sender)
        _ = seen(watcher)
        h.advance(seconds: 1.5)
        h.send(gesture(.move, 1, id: nil), from: sender)  // activity restarts the timeout
        h.advance(seconds: 1.9)
        #expect(seen(watcher) == ["move 1.0"])
        h.advance(seconds: 0.1)
        #expect(seen(watcher) == ["cancel"])
        #expect(h.router.liveGestureCount == 0)
    }

    @Test func onlyGestureSubscribersReceiveAndNeverTheSender() {
        let h = Harness()
        let sender = h.session("sender")
        let events = h.session("events")
        h.subscribe(events, "/**", types: [.event])
        h.subscribe(sender, "/**")
        _ = events.take()
        _ = sender.take()
        h.send(gesture(.start), from: sender)
        h.send(gesture(.end), from: sender)
        #expect(seen(events).isEmpty)
        #expect(seen(sender).isEmpty)
    }

    @Test func aMoveWithoutAStartIsForwardedAndTracked() {
        let (h, sender, watcher) = pair()
        h.send(gesture(.move, 1), from: sender)
        h.send(gesture(.move, 2), from: sender)
        #expect(seen(watcher) == ["move 1.0 #1"])
        h.advance(seconds: 0.016)
        #expect(seen(watcher) == ["move 2.0 #1"])
        #expect(h.router.liveGestureCount == 1)
    }

    @Test func bundledGestureMessagesAreNotHeld() {
        let (h, sender, watcher) = pair()
        h.send(.bundle(BundleMessage(messages: [gesture(.move, 1), gesture(.move, 2)])), from: sender)
        #expect(seen(watcher) == ["move 1.0 #1", "move 2.0 #1"])
    }
}

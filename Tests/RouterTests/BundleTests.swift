import CLASP
import Router
import Testing

/// Scheduled, all-or-nothing bundles (design §7).
@Suite struct BundleTests {
    private func set(_ address: String, _ value: Int64, revision: UInt64? = nil) -> Message {
        .set(SetMessage(address: address, value: .int(value), revision: revision))
    }

    private func values(_ messages: [Message]) -> [String] {
        messages.compactMap { if case .set(let set) = $0 { "\(set.address)=\(set.value)" } else { nil } }
    }

    @Test func aFutureBundleRunsAtItsTimeAndNotBefore() {
        let h = Harness()
        let sender = h.session("sender")
        let watcher = h.session("watcher")
        h.subscribe(watcher, "/**")
        let startMono = h.clock.monotonicNanoseconds()
        let due = h.clock.wallMicroseconds() + 250_000
        h.send(.bundle(BundleMessage(timestamp: due, messages: [set("/a", 1), set("/b", 2)])), qos: .confirm, from: sender)
        #expect(h.wakeUps.last == startMono + 250_000_000)
        #expect(h.router.scheduledBundleCount == 1)
        h.advance(seconds: 0.249)
        #expect(watcher.take().isEmpty)
        #expect(sender.take().isEmpty)  // the ACK comes when it runs
        h.advance(seconds: 0.001)
        #expect(values(watcher.take()) == ["/a=int(1)", "/b=int(2)"])
        #expect(sender.take() == [.ack(Ack(revision: 1))])
        #expect(h.router.scheduledBundleCount == 0)
    }

    @Test func aPastOrMissingTimestampRunsAtOnce() {
        let h = Harness()
        let sender = h.session()
        h.subscribe(sender, "/**")
        h.send(.bundle(BundleMessage(timestamp: h.clock.wallMicroseconds() - 5_000_000, messages: [set("/a", 1)])), from: sender)
        h.send(.bundle(BundleMessage(messages: [set("/b", 1)])), from: sender)
        #expect(values(sender.take()) == ["/a=int(1)", "/b=int(1)"])
    }

    @Test func bundlesDueAtOneInstantRunInArrivalOrder() {
        let h = Harness()
        let sender = h.session()
        h.subscribe(sender, "/**")
        let due = h.clock.wallMicroseconds() + 1_000_000
        for index in 0..<1_000 {
            h.send(.bundle(BundleMessage(timestamp: due, messages: [set("/cascade", Int64(index))])), from: sender)
        }
        #expect(h.router.scheduledBundleCount == 1_000)
        h.advance(seconds: 1)
        let seen = sender.take().compactMap { if case .set(let s) = $0, case .int(let v) = s.value { v } else { nil } }
        #expect(seen == (0..<1_000).map(Int64.init))
    }

    @Test func aLateArrivalDoesNotOvertakeBundlesAlreadyDue() {
        let h = Harness()
        let sender = h.session()
        h.subscribe(sender, "/**")
        let due = h.clock.wallMicroseconds() + 1_000
        h.send(.bundle(BundleMessage(timestamp: due, messages: [set("/order", 1)])), from: sender)
        h.clock.advance(seconds: 0.002)  // due, but the timer has not fired yet
        h.send(.bundle(BundleMessage(timestamp: due, messages: [set("/order", 2)])), from: sender)
        #expect(values(sender.take()) == ["/order=int(1)", "/order=int(2)"])
    }

    @Test func theHorizonAndThePerSessionCapAnswerErrors() {
        let h = Harness {
            $0.maxBundleHorizon = 60
            $0.maxScheduledBundlesPerSession = 2
        }
        let sender = h.session()
        let now = h.clock.wallMicroseconds()
        h.send(.bundle(BundleMessage(timestamp: now + 61_000_000, messages: [set("/a", 1)])), from: sender)
        for _ in 0..<3 {
            h.send(.bundle(BundleMessage(timestamp: now + 1_000_000, messages: [set("/a", 1)])), from: sender)
        }
        let errors = sender.takeErrors()
        #expect(errors.map(\.code) == [402, 429])
        #expect(errors.first?.message == "bundle time is 61 s ahead; the limit is 60 s")
        #expect(errors.last?.message == "scheduled bundle limit reached (max 2 per session)")
        #expect(h.router.scheduledBundleCount == 2)
    }

    @Test func aScheduledBundleIsCheckedAgainstTheStateAtItsTime() {
        let h = Harness()
        let sender = h.session("sender")
        let holder = h.session("holder")
        h.subscribe(sender, "/**")
        let due = h.clock.wallMicroseconds() + 100_000
        h.send(.bundle(BundleMessage(timestamp: due, messages: [set("/free", 1), set("/locked", 1)])), from: sender)
        h.set("/locked", .int(0), lock: true, from: holder)
        _ = sender.take()
        h.advance(seconds: 0.1)
        let messages = sender.take()
        #expect(values(messages).isEmpty)
        let errors = messages.compactMap { if case .error(let e) = $0 { e } else { nil } }
        #expect(errors.map(\.code) == [401])
        #expect(errors.first?.message == "bundle rejected at item 2: lock held by \(holder.sessionID)")
        #expect(errors.first?.address == "/locked")
        #expect(h.router.paramCount == 1)
    }

    @Test func staticProblemsAreRefusedOnReceiptNotAtTheTime() {
        let h = Harness()
        let sender = h.session()
        let due = h.clock.wallMicroseconds() + 100_000
        h.send(.bundle(BundleMessage(timestamp: due, messages: [set("/ok", 1), .ping])), from: sender)
        #expect(sender.takeErrors().first?.message == "bundle rejected at item 2: PING cannot be bundled; only SET and PUBLISH can")
        #expect(h.router.scheduledBundleCount == 0)
    }

    @Test func laterItemsSeeEarlierOnesAndAFailureAppliesNothing() {
        let h = Harness()
        let sender = h.session()
        h.set("/a", .int(0), from: sender)  // revision 1
        // Item 2 expects the revision item 1 produces; item 3 expects a stale one.
        h.send(.bundle(BundleMessage(messages: [set("/a", 1, revision: 1), set("/a", 2, revision: 2), set("/a", 3, revision: 2)])), from: sender)
        let errors = sender.takeErrors()
        #expect(errors.first?.message == "bundle rejected at item 3: revision conflict: expected 2, actual 3")
        h.send(.get(Get(address: "/a")), from: sender)
        guard case .snapshot(let snapshot)? = sender.take().first else {
            Issue.record("no snapshot")
            return
        }
        #expect(snapshot.params.first?.revision == 1)
    }

    @Test func aBundlesFramesAreNeverCoalesced() {
        let h = Harness()
        let peer = h.session()
        let watcher = TestPeer()
        watcher.id = h.router.connect(watcher)
        h.send(.hello(Hello(features: .allSignals, name: "w")), from: watcher)
        h.subscribe(watcher, "/**")
        _ = watcher.take()
        h.send(.bundle(BundleMessage(messages: [set("/a", 1), .publish(Publish(address: "/e", signal: .event, value: .int(1)))])), from: peer)
        #expect(watcher.frames.count == 2)
        #expect(watcher.frames.allSatisfy { $0.coalescing == nil })
        h.set("/a", .int(2), from: peer)
        #expect(watcher.frames.last?.coalescing == .param("/a"))
    }

    @Test func aDisconnectDropsTheSessionsScheduledBundles() {
        let h = Harness()
        let sender = h.session("sender")
        let watcher = h.session("watcher")
        h.subscribe(watcher, "/**")
        h.send(.bundle(BundleMessage(timestamp: h.clock.wallMicroseconds() + 100_000, messages: [set("/a", 1)])), from: sender)
        h.disconnect(sender)
        #expect(h.router.scheduledBundleCount == 0)
        h.advance(seconds: 1)
        #expect(watcher.take().isEmpty)
    }
}

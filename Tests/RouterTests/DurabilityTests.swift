import CLASP
import Router
import Testing

/// QoS commit, de-duplication and the router's side of the store (design §7).
@Suite struct DurabilityTests {
    private func acks(_ messages: [Message]) -> [Ack] {
        messages.compactMap { if case .ack(let ack) = $0 { ack } else { nil } }
    }

    @Test func aCommitIsAcknowledgedOnlyOnceTheStoreHasIt() {
        let store = RecordingStore()
        let h = Harness(store: store)
        let peer = h.session("desk")
        h.set("/a", .float(0.5), qos: .commit, from: peer)
        #expect(acks(peer.take()).isEmpty)
        let batches = store.take()
        #expect(batches.count == 1)  // handed over at once, not at the interval
        #expect(batches.first?.upserts.map(\.address) == ["/a"])
        #expect(batches.first?.upserts.first?.revision == 1)
        #expect(batches.first?.upserts.first?.writer == peer.sessionID)
        h.router.stored(through: batches.first?.sequence ?? 0)
        #expect(acks(peer.take()) == [Ack(address: "/a", revision: 1)])
    }

    @Test func laterRepliesWaitBehindACommitSoTheyKeepTheirOrder() {
        let store = RecordingStore()
        let h = Harness(store: store)
        let peer = h.session()
        h.subscribe(peer, "/**")
        h.set("/a", .int(1), qos: .commit, from: peer)
        h.set("/b", .int(1), qos: .confirm, from: peer)
        h.send(.get(Get(address: "/missing")), from: peer)
        h.send(.ping, from: peer)
        // Echoes are state and go out at once; the replies wait their turn.
        #expect(peer.take().map(\.kind) == [.set, .set])
        h.router.stored(through: 1)
        let replies = peer.take()
        #expect(replies.map(\.kind) == [.ack, .ack, .error, .pong])
        #expect(acks(replies) == [Ack(address: "/a", revision: 1), Ack(address: "/b", revision: 1)])
        // With nothing waiting, confirm is answered at once.
        h.set("/b", .int(2), qos: .confirm, from: peer)
        #expect(acks(peer.take()) == [Ack(address: "/b", revision: 2)])
    }

    @Test func otherWritesAreBatchedWithinTheFlushInterval() {
        let store = RecordingStore()
        let h = Harness(store: store) { $0.storeFlushInterval = 0.1 }
        let peer = h.session()
        for value in 0..<100 { h.set("/fader", .int(Int64(value)), from: peer) }
        h.set("/other", .int(1), from: peer)
        #expect(store.batches.isEmpty)
        #expect(h.wakeUps.last == h.clock.monotonicNanoseconds() + 100_000_000)
        h.advance(seconds: 0.1)
        let batches = store.take()
        #expect(batches.count == 1)
        let upserts = batches.first?.upserts.sorted { $0.address < $1.address } ?? []
        #expect(upserts.map(\.address) == ["/fader", "/other"])
        #expect(upserts.first?.value == .int(99))
        #expect(upserts.first?.revision == 100)
    }

    @Test func aRetransmittedCommitIsAppliedOnceEvenAfterAReconnect() {
        let store = RecordingStore()
        let h = Harness(store: store)
        let first = h.session("console-7")
        let watcher = h.session("watcher")
        h.subscribe(watcher, "/**")
        h.set("/go", .int(1), qos: .commit, timestamp: 1_000, from: first)
        h.router.stored(through: 1)
        #expect(acks(first.take()) == [Ack(address: "/go", revision: 1)])
        h.disconnect(first)
        let again = h.session("console-7")
        h.set("/go", .int(1), qos: .commit, timestamp: 1_000, from: again)  // the retransmission
        h.set("/go", .int(2), qos: .commit, timestamp: 1_001, from: again)  // a new message
        h.router.stored(through: 2)
        #expect(acks(again.take()) == [Ack(address: "/go", revision: 1), Ack(address: "/go", revision: 2)])
        #expect(watcher.take().count == 2)  // echoes of revision 1 and 2 only
        let commits = store.take().flatMap(\.commits)
        #expect(commits == [
            CommitRecord(client: "console-7", timestamp: 1_000, address: "/go", revision: 1),
            CommitRecord(client: "console-7", timestamp: 1_001, address: "/go", revision: 2),
        ])
    }

    @Test func commitIdentitiesSurviveARestart() {
        let h = Harness(
            store: RecordingStore(),
            restoring: [StoredParam(address: "/go", value: .int(1), revision: 4, writer: "old", timestamp: 1)],
            commits: [CommitRecord(client: "console-7", timestamp: 1_000, address: "/go", revision: 4)])
        let peer = h.session("console-7")
        h.set("/go", .int(1), qos: .commit, timestamp: 1_000, from: peer)
        #expect(acks(peer.take()) == [Ack(address: "/go", revision: 4)])
        #expect(h.router.paramCount == 1)
    }

    @Test func aFailedWriteAnswers500AndIsRetriedWithTheNextBatch() {
        let store = RecordingStore()
        let h = Harness(store: store)
        let peer = h.session()
        h.set("/a", .int(1), qos: .commit, from: peer)
        let failed = store.take()
        h.router.storeFailed(through: failed.first?.sequence ?? 0, reason: "disk full")
        let errors = peer.takeErrors()
        #expect(errors.map(\.code) == [500])
        #expect(errors.first?.message == "not stored: disk full; send it again")
        #expect(errors.first?.address == "/a")
        h.advance(seconds: 0.1)
        let retried = store.take()
        #expect(retried.first?.upserts.map(\.address) == ["/a"])
        #expect((retried.first?.sequence ?? 0) > (failed.first?.sequence ?? 0))
    }

    @Test func restoredStateIsServedUnlockedAndExpiredParamsAreDropped() {
        let clock = ManualClock()
        let now = clock.wallMicroseconds()
        let h = Harness(clock: clock, store: RecordingStore(), restoring: [
            StoredParam(address: "/kept", value: .string("x"), revision: 7, writer: "w", timestamp: now - 10,
                        ttl: .sliding(seconds: 60), expiresAt: now + 1_000_000),
            StoredParam(address: "/gone", value: .int(1), revision: 2, writer: "w", timestamp: now - 10,
                        ttl: .sliding(seconds: 1), expiresAt: now - 1),
        ])
        let peer = h.connect()
        h.send(.hello(Hello(features: .allSignals, name: "p")), from: peer)
        let snapshot = peer.take().compactMap { if case .snapshot(let s) = $0 { s } else { nil } }.first
        #expect(snapshot?.params.map(\.address) == ["/kept"])
        #expect(snapshot?.params.first?.revision == 7)
        h.set("/kept", .string("y"), from: peer)
        #expect(peer.takeErrors().isEmpty)
        // The restored TTL still applies (sliding: 60 s after that write).
        h.advance(seconds: 59)
        #expect(h.router.paramCount == 1)
        h.advance(seconds: 1)
        #expect(h.router.paramCount == 0)
    }

    @Test func anExpiryIsStoredAsARemoval() {
        let store = RecordingStore()
        let h = Harness(store: store)
        let peer = h.session()
        h.set("/t", .int(1), ttl: .sliding(seconds: 1), from: peer)
        h.advance(seconds: 0.1)
        #expect(store.take().first?.upserts.first?.expiresAt != nil)
        h.advance(seconds: 1)
        h.advance(seconds: 0.1)
        #expect(store.take().flatMap(\.removals) == ["/t"])
    }

    @Test func withoutAStoreCommitIsAnsweredLikeConfirm() {
        let h = Harness()
        let peer = h.session()
        h.set("/a", .int(1), qos: .commit, from: peer)
        #expect(acks(peer.take()) == [Ack(address: "/a", revision: 1)])
    }

    @Test func aCommitBundleWaitsForTheStoreAndIsDeduplicated() {
        let store = RecordingStore()
        let h = Harness(store: store)
        let peer = h.session("console")
        let bundle = Message.bundle(BundleMessage(messages: [.set(SetMessage(address: "/x", value: .int(1)))]))
        h.send(bundle, qos: .commit, timestamp: 42, from: peer)
        #expect(acks(peer.take()).isEmpty)
        h.router.stored(through: 1)
        h.send(bundle, qos: .commit, timestamp: 42, from: peer)
        #expect(acks(peer.take()) == [Ack(revision: 1), Ack(revision: 1)])
        #expect(h.router.paramCount == 1)
    }
}

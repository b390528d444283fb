import CLASP
import Router
import Testing

/// The read-only counters the admin page and `/metrics` show.
@Suite struct StatisticsTests {
    @Test func messagesErrorsAndStoreWritesAreCounted() {
        let store = RecordingStore()
        let h = Harness(store: store) { $0.storeFlushInterval = 0.1 }
        let peer = h.session()
        h.set("/a", .int(1), from: peer)
        h.set("/b", .int(2), from: peer)
        h.send(.get(Get(address: "/missing")), from: peer)
        h.send(.ping, from: peer)
        h.advance(seconds: 0.1)
        let batches = store.take()
        h.advance(seconds: 0.25)
        h.router.stored(through: batches.last?.sequence ?? 0)

        let statistics = h.router.statisticsNow
        #expect(statistics.received(.hello) == 1)
        #expect(statistics.received(.set) == 2)
        #expect(statistics.received(.get) == 1)
        #expect(statistics.received(.ping) == 1)
        #expect(statistics.errorsSent == [ErrorCode.addressNotFound.rawValue: 1])
        #expect(statistics.sessions == 1 && statistics.params == 2)
        #expect(statistics.storeWrites == 1)
        #expect(abs(statistics.storeWriteSeconds - 0.25) < 1e-9 && statistics.storeWriteMaxSeconds == statistics.storeWriteSeconds)
    }

    @Test func framesSentToSessionsAreCountedByTypeOncePerRecipient() {
        let h = Harness()
        let writer = h.session(), first = h.session(), second = h.session()
        h.send(.subscribe(Subscribe(id: 1, pattern: "/a/**")), from: first)
        h.send(.subscribe(Subscribe(id: 1, pattern: "/a/**")), from: second)
        let before = h.router.statisticsNow
        h.set("/a/x", .int(1), from: writer)
        h.send(.ping, from: writer)
        h.send(.get(Get(address: "/missing")), from: writer)

        let statistics = h.router.statisticsNow
        #expect(statistics.sent(.welcome) == 3)
        // The SET reaches each subscriber once; the writer is not subscribed.
        #expect(statistics.sent(.set) - before.sent(.set) == 2)
        #expect(statistics.sent(.pong) == 1)
        #expect(statistics.sent(.error) == 1)
    }

    @Test func paramsAreListedByPatternWithTheirWriter() throws {
        let h = Harness()
        let peer = h.session()
        h.set("/lights/2", .float(0.5), from: peer)
        h.set("/lights/1", .string("on"), from: peer)
        h.set("/sound/1", .int(3), from: peer)
        let lights = h.router.paramStates(matching: try AddressPattern("/lights/*"), limit: 10)
        #expect(lights.map(\.address) == ["/lights/1", "/lights/2"])
        #expect(lights.allSatisfy { $0.writer == peer.sessionID && $0.revision == 1 })
        #expect(h.router.paramStates(matching: nil, limit: 2).count == 2)
    }
}

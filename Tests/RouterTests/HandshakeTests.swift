import CLASP
import Router
import Testing

@Suite struct HandshakeTests {
    @Test func helloIsAnsweredWithWelcomeThenAFullSnapshot() throws {
        let harness = Harness()
        let writer = harness.session()
        harness.set("/a/x", .float(0.5), from: writer)

        let peer = harness.connect()
        harness.send(.hello(Hello(features: [.param, .event], name: "late")), from: peer)
        let messages = peer.take()
        try #require(messages.count == 2)
        guard case .welcome(let welcome) = messages[0], case .snapshot(let snapshot) = messages[1] else {
            Issue.record("expected WELCOME then SNAPSHOT, got \(messages)")
            return
        }
        #expect(welcome.name == "test-router")
        #expect(welcome.features == .allSignals)
        #expect(welcome.time == harness.clock.wallMicroseconds())
        #expect(welcome.session.count == 36)
        #expect(Array(welcome.session)[14] == "4")  // UUID version 4
        #expect(snapshot.params.map(\.address) == ["/a/x"])
        #expect(snapshot.params.first?.value == .float(0.5))
        #expect(snapshot.params.first?.revision == 1)
    }

    @Test func anEmptyStateStillSendsOneEmptySnapshot() {
        let harness = Harness()
        let peer = harness.connect()
        harness.send(.hello(Hello(features: .allSignals, name: "first")), from: peer)
        let messages = peer.take()
        #expect(messages.count == 2)
        #expect(messages.last == .snapshot(Snapshot(params: [])))
    }

    @Test func sessionIDsAreDistinct() {
        let harness = Harness()
        var ids: Swift.Set<String> = []
        for _ in 0..<50 {
            let peer = harness.connect()
            harness.send(.hello(Hello(features: [], name: "p")), from: peer)
            if case .welcome(let welcome) = peer.take().first { ids.insert(welcome.session) }
        }
        #expect(ids.count == 50)
    }

    @Test func aFirstMessageThatIsNotHelloGetsAnErrorAndAClose() {
        let harness = Harness()
        let peer = harness.connect()
        // Vector first_message_not_hello: a valid SET before HELLO.
        harness.sendRaw([UInt8](hex: "5341000e210700022f613ff0000000000000"), from: peer)
        let errors = peer.takeErrors()
        #expect(errors.map(\.code) == [101])
        #expect(errors.first?.message.contains("HELLO") == true)
        #expect(peer.isClosed)
        #expect(harness.router.connectionCount == 0)
        #expect(harness.router.paramCount == 0)
    }

    @Test func garbageBeforeHelloClosesTheConnection() {
        let harness = Harness()
        let peer = harness.connect()
        harness.sendRaw([0x54, 0x01, 0x00, 0x01, 0x41], from: peer)
        #expect(peer.takeErrors().map(\.code) == [100])
        #expect(peer.isClosed)
    }

    @Test func aSecondHelloIsRefusedAndTheSessionKept() throws {
        let harness = Harness()
        let peer = harness.session()
        harness.subscribe(peer, "/a/**")
        harness.send(.hello(Hello(features: [], name: "again")), from: peer)
        let errors = peer.takeErrors()
        #expect(errors.map(\.code) == [101])
        #expect(!peer.isClosed)
        #expect(harness.router.sessionCount == 1)
        let writer = harness.session()
        harness.set("/a/b", .int(1), from: writer)
        #expect(peer.take().count == 1)  // still subscribed, exactly one copy
    }

    @Test func noHelloWithinTheHandshakeTimeoutCloses() {
        let harness = Harness { $0.handshakeTimeout = 2 }
        let silent = harness.connect()
        let polite = harness.session()
        harness.clock.advance(seconds: 1.9)
        harness.router.tick()
        #expect(!silent.isClosed)
        harness.clock.advance(seconds: 0.2)
        harness.router.tick()
        #expect(silent.closeReason == .handshakeTimeout)
        #expect(!polite.isClosed)
    }

    @Test func anIdleSessionIsClosedAndActivityKeepsItOpen() {
        let harness = Harness { $0.idleTimeout = 10 }
        let idle = harness.session()
        let chatty = harness.session()
        for _ in 0..<4 {
            harness.clock.advance(seconds: 3)
            harness.send(.ping, from: chatty)
            harness.router.tick()
        }
        #expect(idle.closeReason == .idleTimeout)
        #expect(!chatty.isClosed)
    }

    @Test func theSessionLimitRefusesNewConnections() {
        let harness = Harness { $0.maxSessions = 2 }
        _ = harness.session()
        _ = harness.connect()
        let third = harness.connect()
        #expect(third.id == nil)
    }

    @Test func shutdownClosesEveryConnection() {
        let harness = Harness()
        let peers = [harness.session(), harness.session(), harness.connect()]
        harness.router.shutdown()
        #expect(peers.allSatisfy { $0.closeReason == .shutdown })
        #expect(harness.router.connectionCount == 0)
    }

    @Test func disconnectReleasesEverythingTheSessionHeld() {
        let harness = Harness()
        let leaving = harness.session()
        harness.subscribe(leaving, "/**")
        if let id = leaving.id { harness.router.disconnected(id) }
        #expect(harness.router.connectionCount == 0)
        #expect(harness.router.sessionCount == 0)
        let writer = harness.session()
        harness.set("/x", .null, from: writer)
        #expect(leaving.frames.isEmpty)
    }
}

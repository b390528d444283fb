import CLASP
import Router
import Testing

@Suite struct RoutingTests {
    @Test func eventsReachSubscribersButNotThePublisher() {
        let harness = Harness()
        let publisher = harness.session()
        let subscriber = harness.session()
        harness.subscribe(publisher, "/cue/*")
        harness.subscribe(subscriber, "/cue/*")
        let event = Publish(address: "/cue/go", signal: .event, value: .map([(key: "id", value: .string("intro"))]))
        harness.send(.publish(event), from: publisher)
        #expect(subscriber.take() == [.publish(event)])
        #expect(publisher.take().isEmpty)
    }

    @Test func typeMasksFilterDelivery() {
        let harness = Harness()
        let publisher = harness.session()
        let streamsOnly = harness.session()
        harness.subscribe(streamsOnly, "/**", types: .stream)
        harness.send(.publish(Publish(address: "/s", signal: .event)), from: publisher)
        harness.set("/s", .int(1), from: publisher)
        harness.send(.publish(Publish(address: "/s", signal: .stream, value: .float(1))), from: publisher)
        #expect(streamsOnly.take() == [.publish(Publish(address: "/s", signal: .stream, value: .float(1)))])
    }

    @Test func aSessionGetsEachMessageOnceWhateverNumberOfSubscriptionsMatch() {
        let harness = Harness()
        let publisher = harness.session()
        let subscriber = harness.session()
        harness.subscribe(subscriber, "/a/**", id: 1)
        harness.subscribe(subscriber, "/a/*", id: 2)
        harness.subscribe(subscriber, "/a/b", id: 3)
        harness.subscribe(subscriber, "/a/b*", id: 4)
        harness.send(.publish(Publish(address: "/a/b", signal: .event)), from: publisher)
        #expect(subscriber.take().count == 1)
    }

    @Test func aFanOutEncodesOnceAndSharesTheBytes() {
        let harness = Harness()
        let publisher = harness.session()
        let subscribers = (0..<20).map { _ in harness.session() }
        for subscriber in subscribers { harness.subscribe(subscriber, "/fan/**") }
        harness.send(.publish(Publish(address: "/fan/out", signal: .stream, value: .float(1))), from: publisher)
        let storages = Swift.Set(subscribers.compactMap { $0.frames.first?.bytes.withUnsafeBufferPointer { Int(bitPattern: $0.baseAddress) } })
        #expect(subscribers.allSatisfy { $0.frames.count == 1 })
        #expect(storages.count == 1)
    }

    @Test func subscribingSendsTheMatchingParamsOnly() {
        let harness = Harness()
        let writer = harness.session()
        harness.set("/room/1/temp", .float(20), from: writer)
        harness.set("/room/2/temp", .float(21), from: writer)
        harness.set("/hall/temp", .float(18), from: writer)
        let joiner = harness.session()
        harness.subscribe(joiner, "/room/*/temp")
        guard case .snapshot(let snapshot) = joiner.take().first else {
            Issue.record("expected a SNAPSHOT")
            return
        }
        #expect(snapshot.params.map(\.address) == ["/room/1/temp", "/room/2/temp"])
        harness.subscribe(joiner, "/nothing/**", id: 2)
        #expect(joiner.take().isEmpty)
    }

    @Test func reusingASubscriptionIDReplacesThePattern() {
        let harness = Harness()
        let writer = harness.session()
        let subscriber = harness.session()
        harness.subscribe(subscriber, "/old/**", id: 7)
        harness.subscribe(subscriber, "/new/**", id: 7)
        harness.set("/old/x", .int(1), from: writer)
        harness.set("/new/x", .int(1), from: writer)
        #expect(subscriber.take() == [.set(SetMessage(address: "/new/x", value: .int(1), revision: 1))])
    }

    @Test func unsubscribeStopsDelivery() {
        let harness = Harness()
        let writer = harness.session()
        let subscriber = harness.session()
        harness.subscribe(subscriber, "/u/**", id: 3)
        harness.set("/u/1", .int(1), from: writer)
        harness.send(.unsubscribe(Unsubscribe(id: 3)), from: subscriber)
        harness.set("/u/1", .int(2), from: writer)
        #expect(subscriber.take().count == 1)
    }

    @Test func theSubscriptionLimitAnswers429() {
        let harness = Harness { $0.maxSubscriptionsPerSession = 3 }
        let peer = harness.session()
        for id in 1...4 { harness.subscribe(peer, "/s/\(id)", id: UInt32(id)) }
        harness.subscribe(peer, "/s/again", id: 1)  // replacing does not count
        let errors = peer.takeErrors()
        #expect(errors.map(\.code) == [429])
        #expect(errors.first?.address == "/s/4")
    }

    @Test func pingPongAndSync() {
        let harness = Harness()
        let peer = harness.session()
        harness.send(.ping, from: peer)
        harness.send(.sync(Sync(t1: 5)), from: peer)
        let now = harness.clock.wallMicroseconds()
        #expect(peer.take() == [.pong, .sync(Sync(t1: 5, t2: now, t3: now))])
    }

    @Test func announcedSignalsAnswerQueries() {
        let harness = Harness()
        let peer = harness.session()
        harness.send(.announce(Announce(namespace: "/lumen", signals: [
            SignalDefinition(address: "/lumen/opacity", signal: .param, datatype: "f32", meta: SignalMeta(unit: "n")),
            SignalDefinition(address: "/lumen/cue/go", signal: .event),
            SignalDefinition(address: "/other/x", signal: .stream),
        ])), from: peer)
        harness.send(.query(Query(pattern: "/lumen/**")), from: peer)
        #expect(peer.take() == [.result(QueryResult(signals: [
            SignalDefinition(address: "/lumen/cue/go", signal: .event),
            SignalDefinition(address: "/lumen/opacity", signal: .param, datatype: "f32"),
        ]))])
    }

    @Test func p2pSignalsReachOnlyTheirTarget() throws {
        let harness = Harness()
        let sender = harness.session()
        let target = harness.connect()
        harness.send(.hello(Hello(features: [], name: "target")), from: target)
        guard case .welcome(let welcome) = target.take().first else {
            Issue.record("expected WELCOME")
            return
        }
        let bystander = harness.session()
        harness.subscribe(bystander, "/**")
        harness.send(.publish(Publish(address: "/clasp/p2p/signal/\(welcome.session)", signal: .event, value: .string("offer"))), from: sender)
        #expect(target.take().count == 1)
        #expect(bystander.take().isEmpty)
        harness.send(.publish(Publish(address: "/clasp/p2p/signal/nobody", signal: .event)), from: sender)
        #expect(sender.takeErrors().map(\.code) == [404])
    }

    @Test func replayWithoutAJournalAnswers501() {
        let harness = Harness()
        let peer = harness.session()
        harness.send(.replay(Replay(pattern: "/**")), from: peer)
        #expect(peer.takeErrors().map(\.code) == [501])
    }
}

import CLASP
import Router
import Testing

@Suite struct ParamTests {
    @Test func setIsEchoedToSubscribersIncludingTheWriterWithTheNewRevision() {
        let harness = Harness()
        let writer = harness.session()
        let watcher = harness.session()
        harness.subscribe(writer, "/mixer/**")
        harness.subscribe(watcher, "/mixer/*/gain")
        harness.set("/mixer/1/gain", .float(0.5), from: writer)
        harness.set("/mixer/1/gain", .float(0.7), from: writer)
        let expected: [Message] = [
            .set(SetMessage(address: "/mixer/1/gain", value: .float(0.5), revision: 1)),
            .set(SetMessage(address: "/mixer/1/gain", value: .float(0.7), revision: 2)),
        ]
        #expect(writer.take() == expected)
        #expect(watcher.take() == expected)
    }

    @Test func fireSetsGetNoAckConfirmAndCommitDo() {
        let harness = Harness()
        let peer = harness.session()
        harness.set("/a", .int(1), qos: .fire, from: peer)
        #expect(peer.take().isEmpty)
        harness.set("/a", .int(2), qos: .confirm, from: peer)
        #expect(peer.take() == [.ack(Ack(address: "/a", revision: 2))])
        harness.set("/a", .int(3), qos: .commit, from: peer)
        #expect(peer.take() == [.ack(Ack(address: "/a", revision: 3))])
    }

    @Test func acksCanBeForcedForClientsThatExpectThemAlways() {
        let harness = Harness { $0.ackOnlyWhenAsked = false }
        let peer = harness.session()
        harness.set("/a", .int(1), qos: .fire, from: peer)
        #expect(peer.take() == [.ack(Ack(address: "/a", revision: 1))])
    }

    @Test func aStaleExpectedRevisionIsRefusedWith400() {
        let harness = Harness()
        let peer = harness.session()
        harness.set("/a", .int(1), from: peer)
        harness.set("/a", .int(2), revision: 1, from: peer)
        harness.set("/a", .int(3), revision: 1, from: peer)
        let errors = peer.takeErrors()
        #expect(errors.map(\.code) == [400])
        #expect(errors.first?.message == "revision conflict: expected 1, actual 2")
        #expect(errors.first?.address == "/a")
    }

    @Test func getAnswersWithASnapshotOrError201() {
        let harness = Harness()
        let peer = harness.session()
        harness.set("/known", .string("hi"), from: peer)
        harness.send(.get(Get(address: "/known")), from: peer)
        harness.send(.get(Get(address: "/unknown")), from: peer)
        let messages = peer.take()
        #expect(messages.count == 2)
        guard case .snapshot(let snapshot) = messages.first else {
            Issue.record("expected SNAPSHOT, got \(messages)")
            return
        }
        #expect(snapshot.params.map(\.value) == [.string("hi")])
        #expect(snapshot.params.first?.writer?.count == 36)
        #expect(snapshot.params.first?.timestamp == harness.clock.wallMicroseconds())
        guard case .error(let error) = messages.last else {
            Issue.record("expected ERROR, got \(messages)")
            return
        }
        #expect(error.code == 201)
        #expect(error.address == "/unknown")
    }

    @Test func theParamLimitRefusesNewAddressesButNotUpdates() {
        let harness = Harness { $0.maxParams = 2 }
        let peer = harness.session()
        harness.set("/a", .int(1), from: peer)
        harness.set("/b", .int(1), from: peer)
        harness.set("/c", .int(1), from: peer)
        harness.set("/a", .int(2), from: peer)
        #expect(peer.takeErrors().map(\.code) == [400])
        #expect(harness.router.paramCount == 2)
    }

    @Test func aValueThatCouldNotBeSentBackIsRefusedWith402() {
        let harness = Harness()
        let peer = harness.session()
        // The largest string a param can hold is 65,472 bytes minus the address length
        // (docs/router.md): one byte more fits in a SET but not in a snapshot entry.
        let address = "/big"
        let largest = 65_472 - address.utf8.count
        harness.set(address, .string(String(repeating: "x", count: largest + 1)), from: peer)
        #expect(peer.takeErrors().map(\.code) == [402])
        #expect(harness.router.paramCount == 0)
        harness.set(address, .string(String(repeating: "x", count: largest)), from: peer)
        harness.send(.get(Get(address: address)), from: peer)
        let replies = peer.take()
        #expect(replies.count == 1)
        guard case .snapshot(let snapshot) = replies.last else {
            Issue.record("expected a SNAPSHOT, got \(replies)")
            return
        }
        #expect(snapshot.params.first?.value == .string(String(repeating: "x", count: largest)))
    }

    @Test func lateJoinerSnapshotsAreChunkedBySizeAndComplete() throws {
        let harness = Harness()
        let writer = harness.session()
        for index in 0..<3_000 {
            harness.set("/lumen/scene/0/layer/\(padded4(index))/opacity", .float(Double(index)), from: writer)
        }
        let late = harness.connect()
        harness.send(.hello(Hello(features: .allSignals, name: "late")), from: late)
        let frames = late.frames.dropFirst()  // WELCOME
        #expect(frames.count > 1)
        var seen = 0
        for frame in frames {
            #expect(frame.bytes.count - 4 <= CodecLimits.maxPayloadLength)
            guard case .snapshot(let snapshot) = try FrameCodec.decode(frame.bytes).message else {
                Issue.record("expected SNAPSHOT")
                return
            }
            seen += snapshot.params.count
        }
        #expect(seen == 3_000)
    }

    @Test func bundlesApplyEveryItemInOrder() {
        let harness = Harness()
        let peer = harness.session()
        let watcher = harness.session()
        harness.subscribe(watcher, "/**")
        harness.send(.bundle(BundleMessage(messages: [
            .set(SetMessage(address: "/b/1", value: .int(1))),
            .publish(Publish(address: "/b/go", signal: .event)),
            .set(SetMessage(address: "/b/1", value: .int(2), revision: 1)),
        ])), qos: .commit, from: peer)
        #expect(peer.take() == [.ack(Ack(revision: 2))])
        let seen = watcher.take()
        #expect(seen == [
            .set(SetMessage(address: "/b/1", value: .int(1), revision: 1)),
            .publish(Publish(address: "/b/go", signal: .event)),
            .set(SetMessage(address: "/b/1", value: .int(2), revision: 2)),
        ])
    }

    @Test func aBundleWithOneBadItemAppliesNothing() {
        let harness = Harness()
        let peer = harness.session()
        harness.send(.bundle(BundleMessage(messages: [
            .set(SetMessage(address: "/ok", value: .int(1))),
            .set(SetMessage(address: "bad", value: .int(2))),
        ])), from: peer)
        let errors = peer.takeErrors()
        #expect(errors.map(\.code) == [200])
        #expect(errors.first?.message.hasPrefix("bundle rejected at item 2") == true)
        #expect(harness.router.paramCount == 0)
    }
}

/// Zero-padded to four digits.
func padded4(_ value: Int) -> String {
    let digits = "\(value)"
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}

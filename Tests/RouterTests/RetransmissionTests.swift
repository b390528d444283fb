import CLASP
import Router
import Testing

/// QoS confirm messages with a frame timestamp are de-duplicated like commits (docs/router.md,
/// "De-duplication"): a datagram transport's client resends until its ACK arrives.
@Suite struct RetransmissionTests {
    private func acks(_ messages: [Message]) -> [Ack] {
        messages.compactMap { if case .ack(let ack) = $0 { ack } else { nil } }
    }

    @Test func aRetransmittedConfirmSetIsAppliedOnceAndAcknowledgedAgain() {
        let h = Harness()
        let writer = h.session("udp-console")
        let watcher = h.session("watcher")
        h.subscribe(watcher, "/**")
        _ = watcher.take()
        h.set("/fader", .int(1), qos: .confirm, timestamp: 5_000, from: writer)
        h.set("/fader", .int(1), qos: .confirm, timestamp: 5_000, from: writer)  // the ACK was lost
        h.set("/fader", .int(2), qos: .confirm, timestamp: 5_001, from: writer)
        #expect(acks(writer.take()) == [
            Ack(address: "/fader", revision: 1), Ack(address: "/fader", revision: 1), Ack(address: "/fader", revision: 2),
        ])
        let echoes = watcher.take().compactMap { if case .set(let set) = $0 { set.revision } else { nil } }
        #expect(echoes == [1, 2])
    }

    @Test func withoutATimestampOrAtQoSFireEveryCopyIsApplied() {
        let h = Harness()
        let writer = h.session("writer")
        h.set("/a", .int(1), qos: .confirm, from: writer)
        h.set("/a", .int(1), qos: .confirm, from: writer)
        h.set("/b", .int(1), qos: .fire, timestamp: 7, from: writer)
        h.set("/b", .int(1), qos: .fire, timestamp: 7, from: writer)
        #expect(acks(writer.take()).map(\.revision) == [1, 2])
        h.send(.get(Get(address: "/b")), from: writer)
        let revisions = writer.take().compactMap { if case .snapshot(let s) = $0 { s.params.first?.revision } else { nil } }
        #expect(revisions == [2])
    }

    @Test func aRetransmittedConfirmEventIsDeliveredOnce() {
        let h = Harness()
        let publisher = h.session("udp-pad")
        let listener = h.session("listener")
        h.subscribe(listener, "/cue/**")
        _ = listener.take()
        let go = Message.publish(Publish(address: "/cue/go", signal: .event))
        h.send(go, qos: .confirm, timestamp: 9_000, from: publisher)
        h.send(go, qos: .confirm, timestamp: 9_000, from: publisher)
        h.send(go, qos: .confirm, timestamp: 9_001, from: publisher)
        #expect(acks(publisher.take()) == Array(repeating: Ack(address: "/cue/go"), count: 3))
        #expect(listener.take().count == 2)
    }

    @Test func identitiesAreTheClientNamesSoAnotherClientIsNotConfused() {
        let h = Harness()
        let a = h.session("a")
        let b = h.session("b")
        h.set("/x", .int(1), qos: .confirm, timestamp: 1, from: a)
        h.set("/x", .int(2), qos: .confirm, timestamp: 1, from: b)
        #expect(acks(b.take()).map(\.revision) == [2])
    }

    @Test func snapshotsAreCutToTheTransportsFrameBudget() throws {
        let h = Harness()
        let writer = h.session("writer")
        for index in 0..<30 {
            h.set("/p/\(index)", .string(String(repeating: "v", count: 100)), from: writer)
        }
        let small = SmallFramePeer()
        let id = try #require(h.router.connect(small))
        let hello = try Message.hello(Hello(features: .allSignals, name: "datagram")).encodedFrame()
        hello.withUnsafeBytes { h.router.receive($0, from: id) }
        let snapshots = small.frames.filter { (try? FrameCodec.decode($0.bytes).message).map { if case .snapshot = $0 { true } else { false } } ?? false }
        #expect(snapshots.count > 1)
        #expect(snapshots.allSatisfy { $0.bytes.count <= small.maxFrameBytes })
        let entries = snapshots.compactMap { try? FrameCodec.decode($0.bytes).message }.reduce(0) { count, message in
            if case .snapshot(let snapshot) = message { count + snapshot.params.count } else { count }
        }
        #expect(entries == 30)
    }
}

/// A peer whose transport carries frames of at most 600 bytes.
final class SmallFramePeer: SessionConnection {
    private(set) var frames: [OutboundFrame] = []
    let maxFrameBytes = 600

    func send(_ frame: OutboundFrame) { frames.append(frame) }
    func close(_ reason: CloseReason) {}
}

import Testing
import CLASP
import Router
import Synchronization

/// A clock the test moves by hand.
final class ManualClock: RouterClock {
    private let state = Mutex<(wall: UInt64, monotonic: UInt64)>((1_704_067_200_000_000, 1_000_000_000))

    func wallMicroseconds() -> UInt64 { state.withLock { $0.wall } }
    func monotonicNanoseconds() -> UInt64 { state.withLock { $0.monotonic } }

    func advance(seconds: Double) {
        state.withLock {
            $0.monotonic += UInt64(seconds * 1e9)
            $0.wall += UInt64(seconds * 1e6)
        }
    }
}


/// A peer of the router in memory: records what the router sends it.
final class TestPeer: SessionConnection {
    private(set) var frames: [OutboundFrame] = []
    private(set) var closeReason: CloseReason?
    var id: ConnectionID?
    var sessionID = ""

    func send(_ frame: OutboundFrame) { frames.append(frame) }
    func close(_ reason: CloseReason) { closeReason = reason }

    var isClosed: Bool { closeReason != nil }

    /// Decoded messages received so far, and forgets them.
    func take() -> [Message] {
        defer { frames.removeAll() }
        return frames.compactMap { try? FrameCodec.decode($0.bytes).message }
    }

    func takeErrors() -> [ErrorMessage] {
        take().compactMap { if case .error(let error) = $0 { error } else { nil } }
    }
}

/// A store in memory that records the batches it is given; the test says when they are
/// written.
final class RecordingStore: StateStore, @unchecked Sendable {
    private(set) var batches: [StoreBatch] = []

    func write(_ batch: StoreBatch) { batches.append(batch) }

    func take() -> [StoreBatch] {
        defer { batches.removeAll() }
        return batches
    }
}

/// A router with a manual clock and helpers to drive it.
final class Harness {
    let clock: ManualClock
    let router: RouterCore
    /// Times (monotonic ns) the router asked to be woken at.
    private(set) var wakeUps: [UInt64] = []

    init(
        clock: ManualClock = ManualClock(),
        store: RecordingStore? = nil,
        restoring: [StoredParam] = [],
        commits: [CommitRecord] = [],
        timelines: [StoredTimeline] = [],
        _ configure: (inout RouterConfiguration) -> Void = { _ in }
    ) {
        var configuration = RouterConfiguration()
        configuration.name = "test-router"
        configure(&configuration)
        self.clock = clock
        router = RouterCore(
            configuration: configuration, clock: clock, store: store, restoring: restoring, commits: commits,
            timelines: timelines)
        router.wakeUpHandler = { [unowned self] in self.wakeUps.append($0) }
    }

    /// Moves the clock and runs what came due, as the host's timer would — again while the
    /// router asks to be woken at once (it has more due work).
    func advance(seconds: Double) {
        clock.advance(seconds: seconds)
        var rounds = 0
        repeat {
            let asked = wakeUps.count
            router.runTimers()
            rounds += 1
            guard wakeUps.count > asked, let last = wakeUps.last, last <= clock.monotonicNanoseconds() else { break }
        } while rounds < 10_000
    }

    /// Connects a peer without saying HELLO.
    func connect() -> TestPeer {
        let peer = TestPeer()
        peer.id = router.connect(peer)
        return peer
    }

    /// Connects a peer and completes the handshake; forgets WELCOME and the snapshot but
    /// keeps the session id.
    func session(_ name: String = "peer") -> TestPeer {
        let peer = connect()
        send(.hello(Hello(features: .allSignals, name: name)), from: peer)
        for message in peer.take() {
            if case .welcome(let welcome) = message { peer.sessionID = welcome.session }
        }
        return peer
    }

    func send(_ message: Message, qos: QoS = .fire, timestamp: UInt64? = nil, from peer: TestPeer) {
        guard let bytes = try? message.encodedFrame(qos: qos, timestamp: timestamp) else {
            Issue.record("could not encode \(message)")
            return
        }
        sendRaw(bytes, from: peer)
    }

    func sendRaw(_ bytes: [UInt8], from peer: TestPeer) {
        guard let id = peer.id else { return }
        bytes.withUnsafeBytes { router.receive($0, from: id) }
    }

    func subscribe(_ peer: TestPeer, _ pattern: String, id: UInt32 = 1, types: SignalTypeMask = .all) {
        send(.subscribe(Subscribe(id: id, pattern: pattern, types: types)), from: peer)
    }

    func set(
        _ address: String, _ value: Value, qos: QoS = .fire, revision: UInt64? = nil, lock: Bool = false,
        unlock: Bool = false, ttl: TTL? = nil, timestamp: UInt64? = nil, from peer: TestPeer
    ) {
        let set = SetMessage(address: address, value: value, revision: revision, lock: lock, unlock: unlock, ttl: ttl)
        send(.set(set), qos: qos, timestamp: timestamp, from: peer)
    }

    func disconnect(_ peer: TestPeer) {
        if let id = peer.id { router.disconnected(id) }
    }
}

extension Array where Element == UInt8 {
    init(hex: String) {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex, let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) {
            bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        self = bytes
    }
}

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

/// A router with a manual clock and helpers to drive it.
final class Harness {
    let clock = ManualClock()
    let router: RouterCore

    init(_ configure: (inout RouterConfiguration) -> Void = { _ in }) {
        var configuration = RouterConfiguration()
        configuration.name = "test-router"
        configure(&configuration)
        router = RouterCore(configuration: configuration, clock: clock)
    }

    /// Connects a peer without saying HELLO.
    func connect() -> TestPeer {
        let peer = TestPeer()
        peer.id = router.connect(peer)
        return peer
    }

    /// Connects a peer and completes the handshake; forgets WELCOME and the snapshot.
    func session(_ name: String = "peer") -> TestPeer {
        let peer = connect()
        send(.hello(Hello(features: .allSignals, name: name)), from: peer)
        _ = peer.take()
        return peer
    }

    func send(_ message: Message, qos: QoS = .fire, from peer: TestPeer) {
        guard let bytes = try? message.encodedFrame(qos: qos) else {
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

    func set(_ address: String, _ value: Value, qos: QoS = .fire, revision: UInt64? = nil, from peer: TestPeer) {
        send(.set(SetMessage(address: address, value: value, revision: revision)), qos: qos, from: peer)
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

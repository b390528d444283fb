import CLASP
import Dispatch
import Glibc
import Synchronization

/// How far a publisher has got, for a sampler on another thread.
final class PumpProgress: Sendable {
    private let published = Atomic<Int>(0)

    func record(_ count: Int) { published.store(count, ordering: .relaxed) }
    var count: Int { published.load(ordering: .relaxed) }
}

/// What a pump did.
struct PumpResult: Sendable {
    /// Messages sent: `message(0)` … `message(sent − 1)`.
    let sent: Int
    /// Wall µs before the first write and after the last one.
    let started: UInt64
    let ended: UInt64
    /// Wall µs when the PONG after the last message arrived: the router had applied them all.
    let applied: UInt64
}

/// A publisher on a `RawWebSocket` that sends as fast as the router takes frames: many
/// frames per write, TCP back-pressure the only brake. Its blocking calls run on a thread of
/// its own, not on the cooperative pool the subscribers' inboxes need.
final class RawPublisher: Sendable {
    let name: String
    private let socket: Mutex<RawWebSocket>
    private let queue: DispatchQueue

    private init(name: String, socket: sending RawWebSocket, queue: DispatchQueue) {
        self.name = name
        self.socket = Mutex(socket)
        self.queue = queue
    }

    /// Connects, sends HELLO, and returns once the router has answered a PING.
    static func connect(port: Int, name: String) async throws -> RawPublisher {
        let queue = DispatchQueue(label: "clasp-bench.\(name)")
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result {
                    let socket = try RawWebSocket(port: port, name: name)
                    try socket.send(.ping)
                    try socket.readUntilPong(timeout: .seconds(10), who: name)
                    return RawPublisher(name: name, socket: socket, queue: queue)
                })
            }
        }
    }

    /// Sends `message(0)`, `message(1)`, … `batch` frames per write until `limit` messages
    /// are sent or `duration` has passed — flat out, or at most `perSecond` on average. Then
    /// a PING: its PONG means the router has applied every message, so their echoes are all
    /// queued for the subscribers.
    func pump(
        limit: Int, duration: Duration, perSecond: Int? = nil, batch: Int = 64, progress: PumpProgress? = nil,
        message: @escaping @Sendable (Int) -> Message
    ) async throws -> PumpResult {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result {
                    try self.socket.withLock { socket in
                        try Self.pump(
                            socket, who: self.name, limit: limit, duration: duration, perSecond: perSecond, batch: batch,
                            progress: progress, message: message)
                    }
                })
            }
        }
    }

    private static func pump(
        _ socket: RawWebSocket, who: String, limit: Int, duration: Duration, perSecond: Int?, batch: Int,
        progress: PumpProgress?, message: (Int) -> Message
    ) throws -> PumpResult {
        let started = wallMicroseconds()
        let end = started + UInt64(duration.components.seconds) * 1_000_000
            + UInt64(duration.components.attoseconds / 1_000_000_000_000)
        var sent = 0
        var frames: [[UInt8]] = []
        frames.reserveCapacity(batch)
        while sent < limit, wallMicroseconds() < end {
            frames.removeAll(keepingCapacity: true)
            for sequence in sent..<min(sent + batch, limit) {
                // QoS fire, stated: a SET's default QoS is confirm, which would ask for an ACK each.
                frames.append(try message(sequence).encodedFrame(qos: .fire))
            }
            try socket.sendFrames(frames)
            sent += frames.count
            progress?.record(sent)
            if let perSecond {
                // Paced: wait until the time the next batch is due.
                let due = started + UInt64(sent) * 1_000_000 / UInt64(perSecond)
                let now = wallMicroseconds()
                if due > now { usleep(UInt32(min(due - now, 1_000_000))) }
            }
        }
        let ended = wallMicroseconds()
        try socket.send(.ping)
        try socket.readUntilPong(timeout: .seconds(60), who: "\(who), after \(sent) messages")
        return PumpResult(sent: sent, started: started, ended: ended, applied: wallMicroseconds())
    }

    /// Closes the connection (TCP shutdown; the router sees the peer go away).
    func close() {
        socket.withLock { $0.shutdown() }
    }
}

/// What a `RawSubscriber` received: SET echoes whose integer value is the sequence number the
/// publisher sent to that address.
struct RawCollection: Sendable {
    var updates = 0
    var outOfOrder = 0
    var misplaced = 0
    var errors: [String] = []
    /// Addresses holding their final value.
    var final = 0
    /// Wall µs when the frame completing the collection was parsed.
    var lastAt: UInt64 = 0
}

/// A subscriber on a `RawWebSocket` read by a thread of its own: the end-to-end figure then
/// shows what the router delivers, not what `CLASPClient`'s async sequence and a decoding
/// task can take (that is measured separately).
final class RawSubscriber: Sendable {
    let name: String
    private let socket: Mutex<RawWebSocket>
    private let queue: DispatchQueue

    private init(name: String, socket: sending RawWebSocket, queue: DispatchQueue) {
        self.name = name
        self.socket = Mutex(socket)
        self.queue = queue
    }

    /// Connects, subscribes to `pattern`, and returns once the subscription is in place.
    static func connect(port: Int, name: String, pattern: String) async throws -> RawSubscriber {
        let queue = DispatchQueue(label: "clasp-bench.\(name)")
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result {
                    let socket = try RawWebSocket(port: port, name: name)
                    try socket.send(.subscribe(Subscribe(id: 1, pattern: pattern)))
                    try socket.send(.ping)
                    try socket.readUntilPong(timeout: .seconds(10), who: name)
                    return RawSubscriber(name: name, socket: socket, queue: queue)
                })
            }
        }
    }

    /// Reads SET echoes until every address `address(n)` of the sequence 0..<`total` holds
    /// its last value (sequence numbers are sent to `address(n)`), or `timeout` passes.
    /// Checks each value arrives at its own address and each address's values only grow.
    func collect(total: Int, addresses: Int, timeout: Duration, address: @escaping @Sendable (Int) -> String) async throws -> RawCollection {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result {
                    try self.socket.withLock { socket in
                        try Self.collect(socket, total: total, addresses: addresses, timeout: timeout, address: address)
                    }
                })
            }
        }
    }

    private static func collect(
        _ socket: RawWebSocket, total: Int, addresses: Int, timeout: Duration, address: (Int) -> String
    ) throws -> RawCollection {
        var collection = RawCollection()
        var latest: [String: Int64] = [:]
        let goal = min(total, addresses)
        let deadline = wallMicroseconds() + UInt64(timeout.components.seconds) * 1_000_000
        while collection.final < goal {
            guard let message = try socket.receive(before: deadline) else {
                throw BenchmarkFailure("raw subscriber: \(collection.final) of \(goal) addresses final after \(timeout) (\(collection.updates) updates)")
            }
            guard case .binary(let bytes) = message else { throw BenchmarkFailure("raw subscriber: connection ended: \(message)") }
            switch try FrameCodec.decode(bytes).message {
            case .set(let set):
                guard case .int(let value) = set.value, value >= 0, value < total else {
                    collection.errors.append("unexpected value \(set.value) at \(set.address)")
                    continue
                }
                collection.updates += 1
                if address(Int(value)) != set.address { collection.misplaced += 1 }
                if let previous = latest[set.address], value <= previous { collection.outOfOrder += 1 }
                latest[set.address] = value
                // The last sequence number sent to this address: nothing later will come.
                if Int(value) + addresses >= total {
                    collection.final += 1
                    collection.lastAt = wallMicroseconds()
                }
            case .error(let error):
                collection.errors.append("ERROR \(error.code) \(error.message)")
            default:
                continue
            }
        }
        return collection
    }
}

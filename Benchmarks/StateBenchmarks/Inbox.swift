import CLASP
import Synchronization
import Transports

/// What a client's inbox makes of the frames it receives, one at a time, in order.
protocol Tally: Sendable, CustomStringConvertible {
    mutating func add(_ frame: InboundFrame)
}

/// Consumes one client's `frames` in a task of its own, folds each frame into a `Tally`, and
/// lets the benchmark wait — with a deadline — until the tally satisfies a condition. The
/// times that matter are the frames' own `receivedAt` (stamped by the client's channel
/// handler), so how soon this task runs does not enter the figures.
final class Inbox<T: Tally>: Sendable {
    private struct Waiter {
        let condition: @Sendable (T) -> Bool
        let continuation: CheckedContinuation<T, any Error>
        let what: String
        let acceptsClose: Bool
    }

    private struct State {
        var tally: T
        var finished = false
        var waiters: [Int: Waiter] = [:]
        var nextWaiter = 0
    }

    private let state: Mutex<State>

    private init(_ tally: T) {
        state = Mutex(State(tally: tally))
    }

    /// Starts consuming `client.frames` (which may be iterated only once).
    static func start(_ client: CLASPClient, _ tally: T) -> Inbox<T> {
        let inbox = Inbox(tally)
        Task {
            for await frame in client.frames { inbox.add(frame) }
            inbox.finish()
        }
        return inbox
    }

    /// The tally so far.
    var tally: T { state.withLock { $0.tally } }

    /// The connection has ended (no more frames will come).
    var isClosed: Bool { state.withLock { $0.finished } }

    /// Starts the tally afresh (between iterations).
    func reset(_ tally: T) {
        state.withLock { $0.tally = tally }
    }

    /// Returns the tally once `condition` holds — or, with `orClose`, once the connection has
    /// ended; throws when `timeout` passes first or (without `orClose`) the connection ends,
    /// saying what was awaited and what had arrived.
    func wait(
        _ what: String, timeout: Duration, orClose: Bool = false, until condition: @escaping @Sendable (T) -> Bool
    ) async throws -> T {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        let timer = Task {
            try await Task.sleep(for: timeout)
            self.expire(id)
        }
        defer { timer.cancel() }
        return try await withCheckedThrowingContinuation { continuation in
            let settled: Result<T, any Error>? = state.withLock { state in
                if condition(state.tally) || (orClose && state.finished) { return .success(state.tally) }
                if state.finished {
                    return .failure(BenchmarkFailure("connection closed while waiting for \(what); received: \(state.tally)"))
                }
                state.waiters[id] = Waiter(condition: condition, continuation: continuation, what: what, acceptsClose: orClose)
                return nil
            }
            if let settled { continuation.resume(with: settled) }
        }
    }

    private func add(_ frame: InboundFrame) {
        let ready = state.withLock { state -> [(CheckedContinuation<T, any Error>, T)] in
            state.tally.add(frame)
            guard !state.waiters.isEmpty else { return [] }
            var ready: [(CheckedContinuation<T, any Error>, T)] = []
            for (id, waiter) in state.waiters where waiter.condition(state.tally) {
                ready.append((waiter.continuation, state.tally))
                state.waiters[id] = nil
            }
            return ready
        }
        for (continuation, tally) in ready { continuation.resume(returning: tally) }
    }

    private func finish() {
        let waiters = state.withLock { state -> [(Waiter, T)] in
            state.finished = true
            defer { state.waiters = [:] }
            return state.waiters.values.map { ($0, state.tally) }
        }
        for (waiter, tally) in waiters {
            if waiter.acceptsClose {
                waiter.continuation.resume(returning: tally)
            } else {
                waiter.continuation.resume(throwing: BenchmarkFailure("connection closed while waiting for \(waiter.what); received: \(tally)"))
            }
        }
    }

    /// A timer passed: the waiter, if still there (it may have been served meanwhile), fails.
    private func expire(_ id: Int) {
        let expired = state.withLock { state -> (Waiter, String)? in
            guard let waiter = state.waiters.removeValue(forKey: id) else { return nil }
            return (waiter, state.tally.description)
        }
        guard let (waiter, tally) = expired else { return }
        waiter.continuation.resume(throwing: BenchmarkFailure("timed out waiting for \(waiter.what); received: \(tally)"))
    }
}

// MARK: - Frame peeking

/// The router sends frames without the timestamp flag: 4 header bytes, then the payload,
/// whose first byte is the message type. Enough to count without decoding.
enum FramePeek {
    static func kind(_ bytes: [UInt8]) -> MessageKind? {
        guard bytes.count > CodecLimits.headerLength else { return nil }
        return MessageKind(rawValue: bytes[CodecLimits.headerLength])
    }

    /// Entries in a SNAPSHOT frame (the u16 after the type byte).
    static func snapshotCount(_ bytes: [UInt8]) -> Int {
        let at = CodecLimits.headerLength + 1
        guard bytes.count >= at + 2 else { return 0 }
        return Int(bytes[at]) << 8 | Int(bytes[at + 1])
    }
}

// MARK: - Tallies

/// SNAPSHOT frames kept raw and counted by entries (decoded only when verified, outside the
/// measurement); PONGs counted; anything else is kept apart as unexpected.
struct SnapshotTally: Tally {
    var frames: [InboundFrame] = []
    var entries = 0
    var unexpected: [InboundFrame] = []
    /// PONGs (barriers), counted apart.
    var pongs = 0
    /// When the entry count first reached each cumulative total (one per frame).
    var reachedAt: [(entries: Int, at: UInt64)] = []

    mutating func add(_ frame: InboundFrame) {
        switch FramePeek.kind(frame.bytes) {
        case .snapshot?: break
        case .pong?:
            pongs += 1
            return
        default:
            unexpected.append(frame)
            return
        }
        frames.append(frame)
        entries += FramePeek.snapshotCount(frame.bytes)
        reachedAt.append((entries, frame.receivedAt))
    }

    /// When the count reached `entries` (the frame completing it arrived).
    func time(reaching entries: Int) -> UInt64? {
        reachedAt.first { $0.entries >= entries }?.at
    }

    var description: String {
        "\(frames.count) SNAPSHOT frames with \(entries) entries, \(unexpected.count) other frames\(unexpectedSummary)"
    }

    private var unexpectedSummary: String {
        guard let first = unexpected.first else { return "" }
        return " (first: \((try? first.decoded().message).map { "\($0)" } ?? "undecodable"))"
    }
}

/// Every frame decoded and kept with its arrival time, sorted by kind. For low-volume clients.
struct Received: Tally {
    var sets: [(set: SetMessage, at: UInt64)] = []
    var acks: [(ack: Ack, at: UInt64)] = []
    var errors: [ErrorMessage] = []
    var snapshots: [(snapshot: Snapshot, at: UInt64)] = []
    var pongs: [UInt64] = []
    var publishes: [(publish: Publish, at: UInt64)] = []
    var other: [String] = []

    mutating func add(_ frame: InboundFrame) {
        let message: Message
        do {
            message = try frame.decoded().message
        } catch {
            other.append("undecodable frame: \(error)")
            return
        }
        switch message {
        case .set(let set): sets.append((set, frame.receivedAt))
        case .ack(let ack): acks.append((ack, frame.receivedAt))
        case .error(let error): errors.append(error)
        case .snapshot(let snapshot): snapshots.append((snapshot, frame.receivedAt))
        case .pong: pongs.append(frame.receivedAt)
        case .publish(let publish): publishes.append((publish, frame.receivedAt))
        default: other.append(message.kind.name)
        }
    }

    var description: String {
        "\(sets.count) SET, \(acks.count) ACK, \(errors.count) ERROR\(errors.first.map { " (\($0.code) \($0.message))" } ?? ""), "
            + "\(snapshots.count) SNAPSHOT, \(pongs.count) PONG, \(publishes.count) PUBLISH, other: \(other.prefix(5))"
    }
}

/// The sequence number a benchmark publisher put in a value: the value itself, or the first
/// element of `[sequence, padding]`.
func sequenceNumber(_ value: Value?) -> Int64? {
    switch value {
    case .int(let number)?: return number
    case .array(let items)?: if case .int(let number)? = items.first { return number } else { return nil }
    default: return nil
    }
}

/// High-volume updates folded as they come: per address the latest sequence number, checking
/// that values only grow (each address's updates arrive in the order written; coalescing may
/// skip values, never reorder them). Counts SET echoes and event PUBLISHes alike.
struct UpdateTally: Tally {
    var updates = 0
    var latest: [String: Int64] = [:]
    /// The highest value received at any address.
    var highest: Int64 = -1
    var outOfOrder = 0
    var firstOutOfOrder: String?
    var lastAt: UInt64 = 0
    var errors: [ErrorMessage] = []
    /// Frames of other kinds (the initial SNAPSHOT, PONGs) — counted, not checked.
    var other = 0
    var pongs = 0

    mutating func add(_ frame: InboundFrame) {
        let message: Message
        do {
            message = try frame.decoded().message
        } catch {
            errors.append(ErrorMessage(code: 0, message: "undecodable frame: \(error)"))
            return
        }
        switch message {
        case .set(let set):
            guard let value = sequenceNumber(set.value) else { return record(problem: "no sequence number at \(set.address)") }
            update(set.address, value, at: frame.receivedAt)
        case .publish(let publish):
            guard let value = sequenceNumber(publish.value) else { return record(problem: "no sequence number at \(publish.address)") }
            update(publish.address, value, at: frame.receivedAt)
        case .error(let error):
            errors.append(error)
        case .pong:
            pongs += 1
        default:
            other += 1
        }
    }

    private mutating func update(_ address: String, _ value: Int64, at: UInt64) {
        updates += 1
        lastAt = at
        if let previous = latest[address], value <= previous {
            record(problem: "\(address): \(value) after \(previous)")
        }
        latest[address] = value
        highest = max(highest, value)
    }

    private mutating func record(problem: String) {
        outOfOrder += 1
        if firstOutOfOrder == nil { firstOutOfOrder = problem }
    }


    /// Whether the router told this client it was too slow.
    var got503: Bool { errors.contains { $0.code == 503 } }

    var description: String {
        "\(updates) updates over \(latest.count) addresses, highest \(highest), \(outOfOrder) out of order"
            + "\(firstOutOfOrder.map { " (first: \($0))" } ?? ""), \(errors.count) ERROR, \(other) other frames"
    }
}

public import CLASP

/// Read-only counters for metrics and the admin page. Bumped on the router's executor;
/// read there too (the host copies them out).
public struct RouterStatistics: Sendable, Equatable {
    /// Messages decoded from sessions, by kind (indexed by `MessageKind.rawValue`).
    public internal(set) var received = [UInt64](repeating: 0, count: 256)
    /// Frames handed to sessions, by kind (indexed by `MessageKind.rawValue`): one per
    /// recipient of a fan-out.
    public internal(set) var sent = [UInt64](repeating: 0, count: 256)
    /// ERROR messages sent, by code.
    public internal(set) var errorsSent: [UInt16: UInt64] = [:]
    public internal(set) var sessions = 0
    public internal(set) var connections = 0
    public internal(set) var params = 0
    /// State-store batches written, and their summed and longest time from hand-over to on disk.
    public internal(set) var storeWrites: UInt64 = 0
    public internal(set) var storeWriteSeconds: Double = 0
    public internal(set) var storeWriteMaxSeconds: Double = 0

    public init() {}

    public func received(_ kind: MessageKind) -> UInt64 { received[Int(kind.rawValue)] }
    public func sent(_ kind: MessageKind) -> UInt64 { sent[Int(kind.rawValue)] }

    /// Counts one outbound frame by the type byte after its header (4 bytes, 12 with a timestamp).
    @inline(__always)
    mutating func countSent(_ bytes: [UInt8]) {
        guard bytes.count > 4 else { return }
        let offset = bytes[1] & 0x20 != 0 ? 12 : 4
        guard offset < bytes.count else { return }
        sent[Int(bytes[offset])] &+= 1
    }

    mutating func countError(_ code: UInt16) {
        errorsSent[code, default: 0] &+= 1
    }

    mutating func countStoreWrite(nanoseconds: UInt64) {
        let seconds = Double(nanoseconds) / 1e9
        storeWrites &+= 1
        storeWriteSeconds += seconds
        storeWriteMaxSeconds = max(storeWriteMaxSeconds, seconds)
    }
}

extension RouterCore {
    /// The counters with the current session, connection and param counts.
    public var statisticsNow: RouterStatistics {
        var now = statistics
        now.sessions = sessionCount
        now.connections = connectionCount
        now.params = paramCount
        return now
    }
}

extension RouterCore {
    /// The params matching `pattern` (all when nil) with value, revision and last writer,
    /// sorted by address, at most `limit` of them. Read-only, for the admin page.
    public func paramStates(matching pattern: AddressPattern?, limit: Int) -> [ParamState] {
        Array(params.states(matching: pattern).prefix(limit))
    }
}

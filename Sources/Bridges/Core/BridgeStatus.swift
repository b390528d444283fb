import Synchronization

/// A bridge's own view of its health, plus its counters.
public struct BridgeStatus: Sendable, Equatable {
    public enum Health: Sendable, Equatable {
        case ok
        /// Running but not doing its whole job (device unplugged, no source): the reason.
        case degraded(String)
    }

    public var health: Health
    public var counters: [BridgeCounter]

    public init(health: Health = .ok, counters: [BridgeCounter] = []) {
        self.health = health
        self.counters = counters
    }
}

public struct BridgeCounter: Sendable, Equatable {
    /// snake_case, as exported to metrics (`frames_out`).
    public let name: String
    public let value: UInt64

    public init(name: String, value: UInt64) {
        self.name = name
        self.value = value
    }
}

/// A fixed set of named counters, safe to bump from any thread.
public final class BridgeCounters: Sendable {
    private let names: [String]
    private let values: Mutex<[String: UInt64]>

    public init(_ names: [String]) {
        self.names = names
        values = Mutex(Dictionary(uniqueKeysWithValues: names.map { ($0, 0) }))
    }

    public func add(_ name: String, _ amount: UInt64 = 1) {
        values.withLock { $0[name, default: 0] &+= amount }
    }

    /// The counters in the order they were declared.
    public var snapshot: [BridgeCounter] {
        values.withLock { values in names.map { BridgeCounter(name: $0, value: values[$0] ?? 0) } }
    }
}

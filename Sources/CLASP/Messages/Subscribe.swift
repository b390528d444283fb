/// SUBSCRIBE (0x10).
public struct Subscribe: Sendable, Equatable {
    public var id: UInt32
    public var pattern: String
    /// Empty means all types.
    public var types: SignalTypeMask
    public var options: SubscribeOptions?

    public init(id: UInt32, pattern: String, types: SignalTypeMask = .all, options: SubscribeOptions? = nil) {
        self.id = id
        self.pattern = pattern
        self.types = types
        self.options = options
    }
}

/// Optional SUBSCRIBE options; `nil` fields are absent on the wire.
/// A `SubscribeOptions` with every field `nil` is written as option flags `0x00`.
public struct SubscribeOptions: Sendable, Equatable {
    /// Hz.
    public var maxRate: UInt32?
    public var epsilon: Double?
    public var history: UInt32?
    /// ms.
    public var window: UInt32?

    public init(maxRate: UInt32? = nil, epsilon: Double? = nil, history: UInt32? = nil, window: UInt32? = nil) {
        self.maxRate = maxRate
        self.epsilon = epsilon
        self.history = history
        self.window = window
    }
}

/// UNSUBSCRIBE (0x11).
public struct Unsubscribe: Sendable, Equatable {
    public var id: UInt32
    public init(id: UInt32) { self.id = id }
}

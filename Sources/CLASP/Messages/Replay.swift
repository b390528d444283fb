/// REPLAY (0x24): ask for journalled messages.
public struct Replay: Sendable, Equatable {
    public var pattern: String
    public var from: UInt64?
    public var to: UInt64?
    public var limit: UInt32?
    public var types: SignalTypeMask

    public init(pattern: String, from: UInt64? = nil, to: UInt64? = nil, limit: UInt32? = nil, types: SignalTypeMask = .all) {
        self.pattern = pattern
        self.from = from
        self.to = to
        self.limit = limit
        self.types = types
    }
}

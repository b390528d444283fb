/// SNAPSHOT (0x23): current param values.
public struct Snapshot: Sendable, Equatable {
    public var params: [ParamState]
    public init(params: [ParamState]) { self.params = params }
}

/// One param in a SNAPSHOT.
public struct ParamState: Sendable, Equatable {
    public var address: String
    public var value: Value
    public var revision: UInt64
    /// Session id of the last writer.
    public var writer: String?
    /// Time of the last write, µs since the epoch.
    public var timestamp: UInt64?

    public init(address: String, value: Value, revision: UInt64, writer: String? = nil, timestamp: UInt64? = nil) {
        self.address = address
        self.value = value
        self.revision = revision
        self.writer = writer
        self.timestamp = timestamp
    }
}

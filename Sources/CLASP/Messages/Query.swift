/// QUERY (0x60): ask for announced signal definitions matching a pattern.
public struct Query: Sendable, Equatable {
    public var pattern: String
    public init(pattern: String) { self.pattern = pattern }
}

/// RESULT (0x61): the answer to QUERY (named so it does not shadow `Swift.Result`). Definitions are written without meta.
public struct QueryResult: Sendable, Equatable {
    public var signals: [SignalDefinition]
    public init(signals: [SignalDefinition]) { self.signals = signals }
}

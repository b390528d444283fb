/// BUNDLE (0x30): messages applied together, optionally at a server time. (Named so it does not clash with `Foundation.Bundle`.)
public struct BundleMessage: Sendable, Equatable {
    /// µs since the epoch; `nil` means now.
    public var timestamp: UInt64?
    public var messages: [Message]

    public init(timestamp: UInt64? = nil, messages: [Message]) {
        self.timestamp = timestamp
        self.messages = messages
    }
}

/// ACK (0x50).
public struct Ack: Sendable, Equatable {
    public var address: String?
    public var revision: UInt64?
    public var locked: Bool?
    public var holder: String?
    public var correlationID: UInt32?

    public init(address: String? = nil, revision: UInt64? = nil, locked: Bool? = nil, holder: String? = nil, correlationID: UInt32? = nil) {
        self.address = address
        self.revision = revision
        self.locked = locked
        self.holder = holder
        self.correlationID = correlationID
    }
}

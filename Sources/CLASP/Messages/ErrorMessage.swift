/// ERROR (0x51).
public struct ErrorMessage: Sendable, Equatable {
    public var code: UInt16
    public var message: String
    public var address: String?
    public var correlationID: UInt32?

    public init(code: UInt16, message: String, address: String? = nil, correlationID: UInt32? = nil) {
        self.code = code
        self.message = message
        self.address = address
        self.correlationID = correlationID
    }
}

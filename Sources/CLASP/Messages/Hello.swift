/// HELLO (0x01): the client's first message.
public struct Hello: Sendable, Equatable {
    public var version: UInt8
    public var features: Features
    public var name: String
    /// `nil` is written as the empty string.
    public var token: String?

    public init(version: UInt8 = 1, features: Features, name: String, token: String? = nil) {
        self.version = version
        self.features = features
        self.name = name
        self.token = token
    }
}

/// WELCOME (0x02): the router's answer to HELLO.
public struct Welcome: Sendable, Equatable {
    public var version: UInt8
    public var features: Features
    /// Server clock, µs since the Unix epoch.
    public var time: UInt64
    public var session: String
    public var name: String
    public var token: String?

    public init(version: UInt8 = 1, features: Features, time: UInt64, session: String, name: String, token: String? = nil) {
        self.version = version
        self.features = features
        self.time = time
        self.session = session
        self.name = name
        self.token = token
    }
}

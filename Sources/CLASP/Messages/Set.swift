/// SET (0x21): write a param. (Named `SetMessage` so it does not shadow `Swift.Set`.)
public struct SetMessage: Sendable, Equatable {
    public var address: String
    public var value: Value
    /// On input: the revision the writer expects to replace. On output: the new revision.
    public var revision: UInt64?
    public var lock: Bool
    public var unlock: Bool
    public var ttl: TTL?

    public init(address: String, value: Value, revision: UInt64? = nil, lock: Bool = false, unlock: Bool = false, ttl: TTL? = nil) {
        self.address = address
        self.value = value
        self.revision = revision
        self.lock = lock
        self.unlock = unlock
        self.ttl = ttl
    }
}

/// GET (0x22).
public struct Get: Sendable, Equatable {
    public var address: String
    public init(address: String) { self.address = address }
}

/// SYNC (0x40): clock synchronisation (wire-format §4.11).
public struct Sync: Sendable, Equatable {
    public var t1: UInt64
    public var t2: UInt64?
    public var t3: UInt64?

    public init(t1: UInt64, t2: UInt64? = nil, t3: UInt64? = nil) {
        self.t1 = t1
        self.t2 = t2
        self.t3 = t3
    }
}

/// An encoded frame on its way to one or more sessions.
public struct OutboundFrame: Sendable {
    /// The complete CLASP frame (header included).
    public let bytes: [UInt8]
    /// Frames with the same key may replace each other in a congested queue (latest wins).
    /// `nil`: never dropped or replaced (events, gesture start/end/cancel, replies).
    public let coalescing: CoalescingKey?

    public init(bytes: [UInt8], coalescing: CoalescingKey? = nil) {
        self.bytes = bytes
        self.coalescing = coalescing
    }
}

/// What a queued frame may be coalesced with (design §2, "Bounded everything").
public enum CoalescingKey: Hashable, Sendable {
    /// A param's latest value (SET echo) for an address.
    case param(String)
    /// A stream sample for an address.
    case stream(String)
    /// A gesture move for (address, gesture id).
    case gestureMove(String, UInt32)
}

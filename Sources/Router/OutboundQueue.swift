/// A session's bounded outbound queue with the slow-consumer policy (design §2, "Bounded
/// everything").
///
/// Transports put frames here when the peer cannot take them right now, and drain it in order
/// when it can again. Under pressure, a frame with a `CoalescingKey` replaces the queued frame
/// with the same key (latest wins, the older frame's position is kept). Frames without a key
/// are never dropped or replaced, and nothing moves across them: a keyed frame queued before
/// one without a key is never replaced by a frame queued after it. So an event is never
/// overtaken by a later value, and a bundle's items (sent without keys) arrive back to back
/// with nothing older or newer folded into them. When the queue is at its limit and the new frame cannot be
/// coalesced, `push` answers `.overflow`: the transport then sends ERROR 503 and closes the
/// connection. Nothing is ever dropped silently.
///
/// Pure value type, no I/O, O(1) push, pop and coalescing lookup.
public struct OutboundQueue: Sendable {
    public enum PushResult: Sendable, Equatable {
        /// Appended at the back.
        case queued
        /// Replaced an older queued frame with the same key, in that frame's position.
        case coalesced
        /// The queue is full and the frame could not be coalesced; it was not queued.
        case overflow
    }

    /// Most frames held at once.
    public let maxFrames: Int
    /// Most bytes (sum of `frame.bytes.count`) held at once. A single frame larger than this
    /// is still accepted into an empty queue, so one big frame never overflows by itself.
    public let maxBytes: Int

    /// Frames held.
    public private(set) var count = 0
    /// Bytes held.
    public private(set) var byteCount = 0

    /// Ring storage; `nil` marks free slots.
    private var slots: [OutboundFrame?]
    /// Slot index of the oldest frame.
    private var head = 0
    /// Sequence number of the frame at `head`; sequence numbers only grow, so a key's entry
    /// in `keyed` stays valid while its frame is queued.
    private var headSequence: UInt64 = 0
    /// Coalescing key → sequence number of the queued frame carrying it.
    private var keyed: [CoalescingKey: UInt64] = [:]
    /// Frames with a lower sequence number sit before a frame without a key and cannot be
    /// replaced any more.
    private var barrier: UInt64 = 0

    public init(maxFrames: Int, maxBytes: Int) {
        self.maxFrames = max(1, maxFrames)
        self.maxBytes = max(1, maxBytes)
        self.slots = Array(repeating: nil, count: min(16, self.maxFrames))
    }

    public var isEmpty: Bool { count == 0 }

    /// Queue `frame` under the slow-consumer policy.
    public mutating func push(_ frame: OutboundFrame) -> PushResult {
        let size = frame.bytes.count
        if let key = frame.coalescing, let sequence = keyed[key], sequence >= barrier {
            let slot = slotIndex(ofSequence: sequence)
            let oldSize = slots[slot]?.bytes.count ?? 0
            guard byteCount - oldSize + size <= maxBytes else { return .overflow }
            slots[slot] = frame
            byteCount += size - oldSize
            return .coalesced
        }
        if count > 0 {
            guard count < maxFrames, byteCount + size <= maxBytes else { return .overflow }
        }
        if count == slots.count { grow() }
        let slot = (head + count) % slots.count
        slots[slot] = frame
        let sequence = headSequence &+ UInt64(count)
        if let key = frame.coalescing {
            keyed[key] = sequence
        } else {
            barrier = sequence &+ 1
        }
        count += 1
        byteCount += size
        return .queued
    }

    /// The oldest frame, removed from the queue.
    public mutating func popFirst() -> OutboundFrame? {
        guard count > 0, let frame = slots[head] else { return nil }
        slots[head] = nil
        if let key = frame.coalescing, keyed[key] == headSequence {
            keyed[key] = nil
        }
        head = (head + 1) % slots.count
        headSequence &+= 1
        count -= 1
        byteCount -= frame.bytes.count
        if count == 0 { head = 0 }
        return frame
    }

    /// The oldest frame, left in place.
    public var first: OutboundFrame? { count > 0 ? slots[head] : nil }

    /// Forget everything queued.
    public mutating func removeAll() {
        slots = Array(repeating: nil, count: min(16, maxFrames))
        head = 0
        headSequence = 0
        barrier = 0
        count = 0
        byteCount = 0
        keyed = [:]
    }

    private func slotIndex(ofSequence sequence: UInt64) -> Int {
        (head + Int(sequence &- headSequence)) % slots.count
    }

    /// Doubles the ring (capped at `maxFrames`), unrolling it so the oldest frame is at 0.
    private mutating func grow() {
        let newCapacity = min(max(slots.count * 2, 16), maxFrames)
        var newSlots: [OutboundFrame?] = []
        newSlots.reserveCapacity(newCapacity)
        for offset in 0..<count {
            newSlots.append(slots[(head + offset) % slots.count])
        }
        newSlots.append(contentsOf: repeatElement(nil, count: newCapacity - count))
        slots = newSlots
        head = 0
    }
}

/// One DMX512 universe: 512 slots of 0–255, slot 1 first. Always exactly 512 slots, so a
/// frame read from a device or the network that is shorter leaves the rest at 0.
public struct DMXFrame: Sendable, Equatable {
    public static let slotCount = 512
    /// The channels a universe has, as operators number them.
    public static let channels: ClosedRange<Int> = 1...slotCount

    public private(set) var slots: [UInt8]

    /// All slots at 0 (blackout).
    public init() {
        slots = [UInt8](repeating: 0, count: Self.slotCount)
    }

    /// The first `min(values.count, 512)` slots from `values`, the rest 0.
    public init(_ values: some Collection<UInt8>) {
        self.init()
        replace(from: 1, with: values)
    }

    /// The value of a channel (1–512).
    public subscript(channel: Int) -> UInt8 {
        get { slots[channel - 1] }
        set { slots[channel - 1] = newValue }
    }

    /// Writes `values` from `channel` on; what would fall past slot 512 is dropped.
    public mutating func replace(from channel: Int, with values: some Collection<UInt8>) {
        var index = channel - 1
        for value in values where index < Self.slotCount {
            slots[index] = value
            index += 1
        }
    }

    /// Channels (1–512) whose value differs from `other`, in order.
    public func changedChannels(since other: DMXFrame) -> [Int] {
        var changed: [Int] = []
        for index in 0..<Self.slotCount where slots[index] != other.slots[index] {
            changed.append(index + 1)
        }
        return changed
    }
}

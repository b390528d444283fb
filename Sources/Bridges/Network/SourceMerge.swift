/// How sources of equal priority sending one universe are combined.
public enum MergeMode: String, Sendable, CaseIterable {
    /// Highest takes precedence: each slot is the highest level any source sends.
    case htp
    /// Latest takes precedence, per slot: each slot follows the source that last changed it.
    case ltp
}

/// The network sources of one input universe and what they merge to. Only the sources at the
/// highest priority present take part (sACN priority; Art-Net sources are all equal); among
/// them `mode` decides. Sources that fall silent for the timeout are dropped.
struct SourceMerge: Sendable {
    typealias Instant = ContinuousClock.Instant

    struct Source: Sendable {
        var priority: UInt8
        var frame: DMXFrame
        var lastSequence: UInt8?
        var lastSeen: Instant
        var changedAt: Instant
    }

    enum Outcome: Equatable {
        case accepted
        /// Dropped by the sequence rule: older than the last packet taken from this source.
        case outOfOrder
    }

    let mode: MergeMode
    private(set) var sources: [String: Source] = [:]
    /// LTP: the source that last changed each slot (nil: none since it joined or left).
    private var slotOwners = [String?](repeating: nil, count: DMXFrame.slotCount)

    init(mode: MergeMode) {
        self.mode = mode
    }

    /// A frame from `source`. `sequence` is nil when the protocol or sender does not number packets.
    mutating func take(
        _ frame: DMXFrame, priority: UInt8, sequence: UInt8?, from source: String, at now: Instant
    ) -> Outcome {
        if let sequence, let last = sources[source]?.lastSequence, Self.isOutOfOrder(sequence, after: last) {
            return .outOfOrder
        }
        let previous = sources[source]
        let changed = previous.map { $0.frame != frame || $0.priority != priority } ?? true
        let changedAt = changed ? now : previous?.changedAt ?? now
        if mode == .ltp {
            // A new source takes every slot it sends; a known one the slots it changed.
            for index in frame.slots.indices where previous.map({ $0.frame.slots[index] != frame.slots[index] }) ?? true {
                slotOwners[index] = source
            }
        }
        sources[source] = Source(priority: priority, frame: frame, lastSequence: sequence, lastSeen: now, changedAt: changedAt)
        return .accepted
    }

    /// E1.31 §6.7.2: a packet whose sequence number is 0 to 19 behind the last one taken (mod 256)
    /// is out of order; a larger jump back is taken as the source restarting.
    static func isOutOfOrder(_ sequence: UInt8, after last: UInt8) -> Bool {
        let difference = Int8(bitPattern: sequence &- last)
        return difference <= 0 && difference > -20
    }

    /// Forgets a source (it said it stopped). Returns whether it was known.
    mutating func remove(_ source: String) -> Bool {
        sources.removeValue(forKey: source) != nil
    }

    /// Drops the sources silent since before `deadline`; returns them.
    mutating func expire(silentSince deadline: Instant) -> [String] {
        let silent = sources.filter { $0.value.lastSeen < deadline }.map(\.key).sorted()
        for source in silent { sources[source] = nil }
        return silent
    }

    /// The sources at the highest priority present, which the merged frame comes from.
    var winners: [Source] {
        guard let top = sources.values.map(\.priority).max() else { return [] }
        return sources.values.filter { $0.priority == top }
    }

    /// The merged frame; nil when no source is left.
    var merged: DMXFrame? {
        let winners = winners
        guard var result = winners.first?.frame else { return nil }
        switch mode {
        case .ltp:
            // Slots no winning source has changed since it joined follow the one that changed last.
            guard let latest = winners.max(by: { $0.changedAt < $1.changedAt }) else { return nil }
            let top = latest.priority
            var slots = latest.frame.slots
            for (index, owner) in slotOwners.enumerated() {
                if let owner, let source = sources[owner], source.priority == top { slots[index] = source.frame.slots[index] }
            }
            result = DMXFrame(slots)
        case .htp:
            var slots = result.slots
            for source in winners.dropFirst() {
                for (index, level) in source.frame.slots.enumerated() where level > slots[index] { slots[index] = level }
            }
            result = DMXFrame(slots)
        }
        return result
    }
}

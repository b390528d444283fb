public import CLASP

/// A change a tick asks the host to make.
public struct TimelineUpdate: Sendable, Equatable {
    public let address: String
    /// The param's new value, to be sent as an ordinary SET. `nil` only for a finished
    /// timeline whose last value was already sent.
    public let value: Value?
    /// The timeline ended (not looping, past its duration) and was removed: the param keeps
    /// `value`, and the store can forget the timeline.
    public let finished: Bool

    public init(address: String, value: Value?, finished: Bool) {
        self.address = address
        self.value = value
        self.finished = finished
    }
}

/// Plays timelines, one per address. Deterministic: it keeps no clock; the host passes the
/// server time (µs since the epoch) to `tick(now:)` at its tick rate, and sends the returned
/// values as SETs.
///
/// A tick evaluates each started timeline once (a binary search over its keyframe times and
/// the segment's precomputed blend) and skips timelines resting on a held value, so a
/// thousand timelines cost microseconds; nothing is allocated but the result (and the
/// arrays of vector values).
public struct TimelineEngine: Sendable {
    private struct Playing: Sendable {
        let address: String
        let definition: TimelineDefinition
        let timeline: CompiledTimeline
        /// What the param was last given (or held when the timeline began).
        var lastValue: Value?
        /// Sampled by a tick since it was played.
        var sampled = false
        /// Server times over which the output stays as last sampled (a held value); empty
        /// while it moves. A tick inside it skips the timeline.
        var steady: Range<UInt64> = 0 ..< 0
    }

    private var playing: [Playing] = []
    private var indices: [ExactText: Int] = [:]

    public init() {}

    public var count: Int { playing.count }
    public var isEmpty: Bool { playing.isEmpty }

    /// Starts `definition` at `address`, replacing the timeline playing there. `currentValue`
    /// is what the param holds now, so that a first value equal to it is not sent again.
    public mutating func play(_ definition: TimelineDefinition, at address: String, currentValue: Value? = nil) {
        let entry = Playing(address: address, definition: definition, timeline: CompiledTimeline(definition),
                            lastValue: currentValue)
        if let index = indices[ExactText(address)] {
            playing[index] = entry
        } else {
            indices[ExactText(address)] = playing.count
            playing.append(entry)
        }
    }

    /// Stops the timeline at `address`; the param keeps its value. False when none plays there.
    @discardableResult
    public mutating func stop(_ address: String) -> Bool {
        guard let index = indices[ExactText(address)] else { return false }
        remove(at: index)
        return true
    }

    public func definition(at address: String) -> TimelineDefinition? {
        indices[ExactText(address)].map { playing[$0].definition }
    }

    /// Every timeline not yet ended, started or waiting for its start, ordered by address
    /// (byte order): what late joiners receive and the store keeps.
    public var definitions: [(address: String, definition: TimelineDefinition)] {
        playing
            .sorted { $0.address.utf8.lexicographicallyPrecedes($1.address.utf8) }
            .map { ($0.address, $0.definition) }
    }

    /// The values the timelines have at `now` (server µs), for those that changed since
    /// the value last sent; timelines that have not started give nothing. A non-looping
    /// timeline past its end gives its last keyframe's value once, marked finished, and is
    /// removed.
    public mutating func tick(now: UInt64) -> [TimelineUpdate] {
        var updates: [TimelineUpdate] = []
        var index = 0
        while index < playing.count {
            if now < playing[index].timeline.start || playing[index].steady.contains(now) {
                index += 1
                continue
            }
            let sample = playing[index].timeline.sample(at: now)
            let changed = sample.value != playing[index].lastValue
            if sample.finished {
                updates.append(TimelineUpdate(address: playing[index].address, value: changed ? sample.value : nil, finished: true))
                // The last entry moves into this slot; it is looked at next.
                remove(at: index)
                continue
            }
            if changed {
                updates.append(TimelineUpdate(address: playing[index].address, value: sample.value, finished: false))
                playing[index].lastValue = sample.value
            }
            playing[index].sampled = true
            playing[index].steady = sample.steady
            index += 1
        }
        return updates
    }

    /// When the host should call `tick` next (server µs, never before `now`): `now` when
    /// something is due at once (a timeline just played, a held value that ran out), else the
    /// earliest start or end of a held value, and `now + tickInterval` while any timeline
    /// moves. `nil`: nothing plays, the host can sleep until the next `play`.
    public func nextDeadline(now: UInt64, tickInterval: UInt64) -> UInt64? {
        var next: UInt64?
        for entry in playing {
            let due: UInt64
            if !entry.sampled {
                due = entry.timeline.start
            } else if !entry.steady.isEmpty {
                due = entry.steady.upperBound
            } else {
                due = now.saturatingAdd(tickInterval)
            }
            next = Swift.min(next ?? .max, Swift.max(due, now))
        }
        return next
    }

    /// Starts the timelines the store kept, then ticks once at `now`: a timeline whose end
    /// passed while the gateway was down comes back finished, with its last value (unless
    /// the param holds it already, as `currentValue` tells).
    public mutating func restore(_ timelines: [StoredTimeline], now: UInt64, currentValue: (String) -> Value?) -> [TimelineUpdate] {
        for stored in timelines {
            play(stored.definition, at: stored.address, currentValue: currentValue(stored.address))
        }
        return tick(now: now)
    }

    private mutating func remove(at index: Int) {
        indices[ExactText(playing[index].address)] = nil
        let last = playing.removeLast()
        guard index < playing.count else { return }
        playing[index] = last
        indices[ExactText(last.address)] = index
    }
}

import CLASP

/// A definition prepared for playback: keyframe times in one array for the search, and
/// each segment's easing and blend worked out ahead.
struct CompiledTimeline: Sendable {
    /// What the timeline gives at one instant.
    struct Sample {
        var value: Value
        /// Server times (µs) over which the value stays as it is now; empty while it moves.
        var steady: Range<UInt64>
        /// A non-looping timeline past its end: `value` is its last keyframe's.
        var finished: Bool
    }

    private struct Segment: Sendable {
        let curve: EasingCurve
        let blend: Blend
    }

    private let times: [UInt64]
    /// `segments[i]` runs from keyframe i to keyframe i + 1.
    private let segments: [Segment]
    private let first: Value
    private let last: Value
    let start: UInt64
    private let length: UInt64
    private let loop: Bool

    init(_ definition: TimelineDefinition) {
        let keyframes = definition.keyframes
        times = keyframes.map(\.time)
        segments = zip(keyframes, keyframes.dropFirst()).map { a, b in
            Segment(curve: EasingCurve(a.easing), blend: Blend(from: a.value, to: b.value, easing: a.easing))
        }
        first = keyframes[0].value
        last = keyframes[keyframes.count - 1].value
        start = definition.startTime
        length = definition.length
        loop = definition.loop
    }

    /// The sample at server time `now` (µs), which is at or after `start`.
    func sample(at now: UInt64) -> Sample {
        let elapsed = now - start
        if !loop, elapsed >= length {
            return Sample(value: last, steady: now ..< now, finished: true)
        }
        // A loop's length is above 0 (checked when the definition was made).
        let position = loop ? elapsed % length : elapsed
        let cycleStart = now - position
        func steady(_ from: UInt64, _ to: UInt64) -> Range<UInt64> {
            cycleStart.saturatingAdd(from) ..< cycleStart.saturatingAdd(to)
        }
        // The last keyframe at or before the position; equal times: the later one.
        var low = 0
        var high = times.count
        while low < high {
            let middle = (low + high) / 2
            if times[middle] <= position { low = middle + 1 } else { high = middle }
        }
        let index = low - 1
        if index < 0 {
            // Before the first keyframe: its value holds.
            return Sample(value: first, steady: steady(0, times[0]), finished: false)
        }
        if index == times.count - 1 {
            // After the last keyframe: its value holds to the end of the pass.
            return Sample(value: last, steady: steady(times[index], length), finished: false)
        }
        let segment = segments[index]
        let from = times[index]
        let to = times[index + 1]
        if segment.blend.isConstant {
            return Sample(value: segment.blend.value(at: 0), steady: steady(from, to), finished: false)
        }
        let t = Double(position - from) / Double(to - from)
        return Sample(value: segment.blend.value(at: segment.curve(t)), steady: now ..< now, finished: false)
    }
}

extension UInt64 {
    func saturatingAdd(_ other: UInt64) -> UInt64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }
}

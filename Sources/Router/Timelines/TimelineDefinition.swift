public import CLASP

/// One point of a timeline: the value the param has `time` µs after the timeline's start,
/// and how it moves on to the next keyframe.
public struct Keyframe: Sendable, Equatable {
    /// µs from the timeline's start.
    public let time: UInt64
    public let value: Value
    /// Used for the segment from this keyframe to the next; the last keyframe's is unused.
    public let easing: Easing

    public init(time: UInt64, value: Value, easing: Easing = .linear) {
        self.time = time
        self.value = value
        self.easing = easing
    }
}

/// A timeline as published (docs/timelines.md): keyframes played into the param at the
/// timeline's address from `startTime` on. Immutable; only a valid one can be made.
public struct TimelineDefinition: Sendable, Equatable {
    /// At most this many keyframes.
    public static let maxKeyframes = 1_024

    /// In time order (equal times allowed: the later one wins from that instant).
    public let keyframes: [Keyframe]
    /// Wrap the position modulo the duration instead of ending.
    public let loop: Bool
    /// Server time, µs since the epoch, at which keyframe time 0 falls.
    public let startTime: UInt64
    /// As given; `nil`: the last keyframe's time (see `length`).
    public let duration: UInt64?

    /// Checks everything `docs/timelines.md` lists: keyframes present, at most
    /// `maxKeyframes`, in time order; cubic-bezier x1/x2 within [0, 1]; numbers finite;
    /// consecutive numeric values of one shape; the duration not before the last keyframe
    /// and above 0 for a loop; times and the start below 2^63 µs (they travel as i64).
    public init(keyframes: [Keyframe], loop: Bool = false, startTime: UInt64, duration: UInt64? = nil) throws(TimelineError) {
        guard let last = keyframes.last else { throw .noKeyframes }
        guard keyframes.count <= Self.maxKeyframes else { throw .tooManyKeyframes(keyframes.count) }
        guard startTime <= UInt64(Int64.max) else { throw .startTooLate(startTime) }
        for (index, keyframe) in keyframes.enumerated() {
            try Self.check(keyframe, number: index + 1, previous: index > 0 ? keyframes[index - 1] : nil)
        }
        if let duration {
            guard duration <= UInt64(Int64.max) else { throw .durationTooLong(duration) }
            guard duration >= last.time else { throw .durationBeforeLastKeyframe(duration: duration, last: last.time) }
        }
        guard !loop || (duration ?? last.time) > 0 else { throw .loopWithoutDuration }
        self.keyframes = keyframes
        self.loop = loop
        self.startTime = startTime
        self.duration = duration
    }

    /// Length of one pass, µs: the duration, or the last keyframe's time.
    public var length: UInt64 { duration ?? keyframes[keyframes.count - 1].time }

    /// `number` counts from 1, as in the messages.
    private static func check(_ keyframe: Keyframe, number: Int, previous: Keyframe?) throws(TimelineError) {
        guard keyframe.time <= UInt64(Int64.max) else { throw .timeTooLate(keyframe: number, keyframe.time) }
        if let previous, keyframe.time < previous.time {
            throw .timeBeforePrevious(keyframe: number, time: keyframe.time, previous: previous.time)
        }
        if case let .cubicBezier(x1, y1, x2, y2) = keyframe.easing {
            guard x1.isFinite, y1.isFinite, x2.isFinite, y2.isFinite else { throw .bezierNotFinite(keyframe: number) }
            // x outside [0, 1] would make the curve go back in time.
            if !(0 ... 1).contains(x1) { throw .bezierXOutOfRange(keyframe: number, name: "x1", x1) }
            if !(0 ... 1).contains(x2) { throw .bezierXOutOfRange(keyframe: number, name: "x2", x2) }
        }
        let shape = ValueShape(keyframe.value)
        if shape == .nonFinite { throw .valueNotFinite(keyframe: number) }
        if let previous, !shape.interpolates(with: ValueShape(previous.value)) {
            throw .shapeMismatch(keyframe: number, shape.description, ValueShape(previous.value).description)
        }
    }
}

/// What a timeline PUBLISH asks for.
public enum TimelineCommand: Sendable, Equatable {
    /// Play this timeline at the address, replacing any other there.
    case play(TimelineDefinition)
    /// Stop the address's timeline; the param keeps the value it has.
    case stop
}

/// How a keyframe value takes part in interpolation: a number, an array of numbers (a
/// vector, a colour) with its length, or anything else (switched, not blended).
enum ValueShape: Equatable, CustomStringConvertible {
    case number
    case vector(Int)
    case other
    /// A float that is NaN or infinite, alone or in an array: it cannot be interpolated.
    case nonFinite

    init(_ value: Value) {
        switch value {
        case .int: self = .number
        case .float(let f): self = f.isFinite ? .number : .nonFinite
        case .array(let items):
            var numeric = true
            for item in items {
                switch item {
                case .int: continue
                case .float(let f) where !f.isFinite: self = .nonFinite; return
                case .float: continue
                default: numeric = false
                }
            }
            self = numeric ? .vector(items.count) : .other
        default: self = .other
        }
    }

    /// Numbers blend with numbers and vectors with vectors of their length; anything else
    /// switches halfway. A number next to a vector, or vectors of two lengths, is a mistake.
    func interpolates(with other: ValueShape) -> Bool {
        switch (self, other) {
        case (.number, .vector), (.vector, .number): false
        case let (.vector(a), .vector(b)): a == b
        default: true
        }
    }

    var description: String {
        switch self {
        case .number: "a number"
        case .vector(let count): "an array of \(count) number\(count == 1 ? "" : "s")"
        case .other: "not numeric"
        case .nonFinite: "not finite"
        }
    }
}

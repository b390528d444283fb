/// Why a timeline PUBLISH is refused (the router answers ERROR 402 with the description).
/// Keyframes are counted from 1.
public enum TimelineError: Error, Sendable, Equatable, CustomStringConvertible {
    case missingValue
    case notAMap(got: String)
    case unknownKey(String)
    case stopNotTrue
    case stopWithOtherKey(String)
    case missingKeyframes
    case keyframesNotAnArray(got: String)
    case noKeyframes
    case tooManyKeyframes(Int)
    case keyframeNotAMap(keyframe: Int, got: String)
    case keyframeUnknownKey(keyframe: Int, String)
    case keyframeMissing(keyframe: Int, field: String)
    /// `field` is how the message names it: `keyframe 3: time`, `"start"`, `"duration"`.
    case notWholeMicroseconds(field: String, got: String)
    case timeTooLate(keyframe: Int, UInt64)
    case timeBeforePrevious(keyframe: Int, time: UInt64, previous: UInt64)
    case easingNotAString(keyframe: Int, got: String)
    case unknownEasing(keyframe: Int, String)
    case bezierMissing(keyframe: Int)
    case bezierWithoutCubicBezier(keyframe: Int)
    case bezierNotFourNumbers(keyframe: Int)
    case bezierNotFinite(keyframe: Int)
    case bezierXOutOfRange(keyframe: Int, name: String, Double)
    case valueNotFinite(keyframe: Int)
    /// The keyframe's value shape and the previous keyframe's, as words.
    case shapeMismatch(keyframe: Int, String, String)
    case loopNotABool(got: String)
    case startTooLate(UInt64)
    case durationTooLong(UInt64)
    case durationBeforeLastKeyframe(duration: UInt64, last: UInt64)
    case loopWithoutDuration

    public var description: String {
        switch self {
        case .missingValue:
            return #"a timeline needs a value: a map with "keyframes", or {"stop": true} to stop the timeline"#
        case .notAMap(let got):
            return #"the value must be a map with "keyframes" (or {"stop": true}), got "# + got
        case .unknownKey(let key):
            return #"unknown key "\#(key)" (expected keyframes, loop, start, duration or stop)"#
        case .stopNotTrue:
            return #""stop" must be true"#
        case .stopWithOtherKey(let key):
            return #"a stop takes no other key, got "\#(key)""#
        case .missingKeyframes:
            return #""keyframes" is missing"#
        case .keyframesNotAnArray(let got):
            return #""keyframes" must be an array of maps, got "# + got
        case .noKeyframes:
            return "keyframes must not be empty"
        case .tooManyKeyframes(let count):
            return "too many keyframes: \(count) (at most \(TimelineDefinition.maxKeyframes))"
        case let .keyframeNotAMap(keyframe, got):
            return "keyframe \(keyframe): must be a map, got \(got)"
        case let .keyframeUnknownKey(keyframe, key):
            return #"keyframe \#(keyframe): unknown key "\#(key)" (expected time, value, easing or bezier)"#
        case let .keyframeMissing(keyframe, field):
            return #"keyframe \#(keyframe): "\#(field)" is missing"#
        case let .notWholeMicroseconds(field, got):
            return "\(field) must be a whole number of µs from 0 up, got \(got)"
        case let .timeTooLate(keyframe, time):
            return "keyframe \(keyframe): time \(time) must be below 2^63 µs"
        case let .timeBeforePrevious(keyframe, time, previous):
            return "keyframe \(keyframe): time \(time) is before keyframe \(keyframe - 1)'s time \(previous)"
        case let .easingNotAString(keyframe, got):
            return "keyframe \(keyframe): easing must be a string, got \(got)"
        case let .unknownEasing(keyframe, name):
            let names = Easing.wireNames.dropLast().joined(separator: ", ") + " or " + (Easing.wireNames.last ?? "")
            return #"keyframe \#(keyframe): unknown easing "\#(name)" (expected \#(names))"#
        case .bezierMissing(let keyframe):
            return #"keyframe \#(keyframe): easing "cubic-bezier" needs "bezier": [x1, y1, x2, y2]"#
        case .bezierWithoutCubicBezier(let keyframe):
            return #"keyframe \#(keyframe): "bezier" is only used with easing "cubic-bezier""#
        case .bezierNotFourNumbers(let keyframe):
            return #"keyframe \#(keyframe): "bezier" must be an array of 4 numbers [x1, y1, x2, y2]"#
        case .bezierNotFinite(let keyframe):
            return "keyframe \(keyframe): bezier control points must be finite numbers"
        case let .bezierXOutOfRange(keyframe, name, coordinate):
            return "keyframe \(keyframe): bezier \(name) = \(coordinate.plainText) is outside [0, 1]"
        case .valueNotFinite(let keyframe):
            return "keyframe \(keyframe): value holds a NaN or infinite number, which cannot be interpolated"
        case let .shapeMismatch(keyframe, shape, previous):
            return "keyframe \(keyframe): value is \(shape) but keyframe \(keyframe - 1)'s is \(previous); "
                + "numbers interpolate with numbers, arrays of numbers with arrays of the same length"
        case .loopNotABool(let got):
            return #""loop" must be a bool, got "# + got
        case .startTooLate(let start):
            return "start \(start) must be below 2^63 µs"
        case .durationTooLong(let duration):
            return "duration \(duration) must be below 2^63 µs"
        case let .durationBeforeLastKeyframe(duration, last):
            return "duration \(duration) is before the last keyframe's time \(last)"
        case .loopWithoutDuration:
            return "a looping timeline needs a duration above 0 (give \"duration\", or a last keyframe after time 0)"
        }
    }
}

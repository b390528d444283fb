public import CLASP

// The timeline payload: the map a timeline PUBLISH carries as its value (docs/timelines.md).
//
//   {"keyframes": [{"time": µs, "value": v, "easing": name?, "bezier": [x1, y1, x2, y2]?}, …],
//    "loop": bool?, "start": µs since the epoch?, "duration": µs?}
//   {"stop": true}

extension TimelineDefinition {
    private static let keys: Set<String> = ["keyframes", "loop", "start", "duration", "stop"]
    private static let keyframeKeys: Set<String> = ["time", "value", "easing", "bezier"]

    /// Reads a timeline PUBLISH's value. The start is `"start"` when given, else the
    /// PUBLISH's message-level timestamp, else `now` (server time, µs since the epoch).
    /// Unknown keys are refused, so that a misspelt `"duraton"` does not pass unnoticed; an
    /// optional key holding null counts as absent.
    public static func parse(_ value: Value?, messageTimestamp: UInt64?, now: UInt64) throws(TimelineError) -> TimelineCommand {
        guard let value, value != .null else { throw .missingValue }
        guard case .map(let entries) = value else { throw .notAMap(got: ValueKind.name(of: value)) }
        if let unknown = entries.first(where: { !keys.contains($0.key) }) { throw .unknownKey(unknown.key) }

        if let stop = value.field("stop") {
            guard stop == .bool(true) else { throw .stopNotTrue }
            if let other = entries.first(where: { $0.key != "stop" && $0.value != .null }) { throw .stopWithOtherKey(other.key) }
            return .stop
        }
        guard let list = value.field("keyframes") else { throw .missingKeyframes }
        guard case .array(let items) = list else { throw .keyframesNotAnArray(got: ValueKind.name(of: list)) }
        // Checked before reading them, so a huge list costs nothing.
        guard items.count <= maxKeyframes else { throw .tooManyKeyframes(items.count) }
        var keyframes: [Keyframe] = []
        keyframes.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            keyframes.append(try keyframe(item, number: index + 1))
        }

        var loop = false
        if let flag = value.field("loop") {
            guard case .bool(let bool) = flag else { throw .loopNotABool(got: flag.plainText) }
            loop = bool
        }
        var start = messageTimestamp ?? now
        if let given = value.field("start") { start = try microseconds(given, field: #""start""#) }
        var duration: UInt64?
        if let given = value.field("duration") { duration = try microseconds(given, field: #""duration""#) }
        return .play(try TimelineDefinition(keyframes: keyframes, loop: loop, startTime: start, duration: duration))
    }

    /// The payload map that `parse` reads back as this definition, with the start always
    /// written out: what late joiners receive and what the store keeps. Easing is left out
    /// when linear, `duration` when it was not given.
    public var encodedValue: Value {
        // Start and duration are below 2^63 µs (checked when the definition was made): the
        // conversions cannot trap.
        var entries: [(key: String, value: Value)] = [
            ("keyframes", .array(keyframes.map(\.encodedValue))),
            ("loop", .bool(loop)),
            ("start", .int(Int64(startTime))),
        ]
        if let duration { entries.append(("duration", .int(Int64(duration)))) }
        return .map(entries)
    }

    /// The timeline PUBLISH a late joiner receives: the encoded definition, with the start
    /// as message timestamp too.
    public func publish(at address: String) -> Publish {
        Publish(address: address, signal: .timeline, value: encodedValue, timestamp: startTime)
    }

    private static func keyframe(_ item: Value, number: Int) throws(TimelineError) -> Keyframe {
        guard case .map(let entries) = item else { throw .keyframeNotAMap(keyframe: number, got: ValueKind.name(of: item)) }
        if let unknown = entries.first(where: { !keyframeKeys.contains($0.key) }) {
            throw .keyframeUnknownKey(keyframe: number, unknown.key)
        }
        guard let timeValue = item.field("time") else { throw .keyframeMissing(keyframe: number, field: "time") }
        let time = try microseconds(timeValue, field: "keyframe \(number): time")
        // Null is a value here (it switches like a string would), not a missing key.
        guard let value = item["value"] else { throw .keyframeMissing(keyframe: number, field: "value") }

        var easing = Easing.linear
        if let name = item.field("easing") {
            guard case .string(let text) = name else { throw .easingNotAString(keyframe: number, got: ValueKind.name(of: name)) }
            easing = try Self.easing(named: text, bezier: item.field("bezier"), number: number)
        } else if item.field("bezier") != nil {
            throw .bezierWithoutCubicBezier(keyframe: number)
        }
        return Keyframe(time: time, value: value, easing: easing)
    }

    private static func easing(named name: String, bezier: Value?, number: Int) throws(TimelineError) -> Easing {
        let easing: Easing
        switch name {
        case "linear": easing = .linear
        case "ease-in": easing = .easeIn
        case "ease-out": easing = .easeOut
        case "ease-in-out": easing = .easeInOut
        case "step": easing = .step
        case "cubic-bezier":
            guard let bezier else { throw .bezierMissing(keyframe: number) }
            guard case .array(let items) = bezier, items.count == 4 else { throw .bezierNotFourNumbers(keyframe: number) }
            var points: [Double] = []
            for item in items {
                guard let point = item.numericValue else { throw .bezierNotFourNumbers(keyframe: number) }
                points.append(point)
            }
            return .cubicBezier(x1: points[0], y1: points[1], x2: points[2], y2: points[3])
        default:
            throw .unknownEasing(keyframe: number, name)
        }
        guard bezier == nil else { throw .bezierWithoutCubicBezier(keyframe: number) }
        return easing
    }

    /// A time in µs: an int from 0 up, or a float holding a whole number (JavaScript clients
    /// send every number as a float).
    private static func microseconds(_ value: Value, field: String) throws(TimelineError) -> UInt64 {
        switch value {
        case .int(let i) where i >= 0:
            return UInt64(i)
        case .float(let f) where f >= 0 && f < 0x1p63 && f == f.rounded():
            return UInt64(f)
        default:
            throw .notWholeMicroseconds(field: field, got: value.plainText)
        }
    }
}

extension Keyframe {
    fileprivate var encodedValue: Value {
        var entries: [(key: String, value: Value)] = [("time", .int(Int64(time))), ("value", value)]
        switch easing {
        case .linear:
            break
        case let .cubicBezier(x1, y1, x2, y2):
            entries.append(("easing", .string(easing.wireName)))
            entries.append(("bezier", .array([.float(x1), .float(y1), .float(x2), .float(y2)])))
        default:
            entries.append(("easing", .string(easing.wireName)))
        }
        return .map(entries)
    }
}

extension Value {
    /// A map entry, with null taken as absent: clients building the map from optional
    /// variables (Python's None, JavaScript's null) need not leave keys out.
    fileprivate func field(_ key: String) -> Value? {
        guard let value = self[key], value != .null else { return nil }
        return value
    }
}

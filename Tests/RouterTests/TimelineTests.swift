import CLASP
@testable import Router
import Testing

// MARK: - Helpers

private let start: UInt64 = 1_704_067_200_000_000

/// A keyframe map as a client builds it.
private func keyframe(_ time: Value, _ value: Value, easing: String? = nil, bezier: Value? = nil) -> Value {
    var entries: [(key: String, value: Value)] = [("time", time), ("value", value)]
    if let easing { entries.append(("easing", .string(easing))) }
    if let bezier { entries.append(("bezier", bezier)) }
    return .map(entries)
}

private func payload(_ keyframes: [Value], _ extra: [(key: String, value: Value)] = []) -> Value {
    .map([("keyframes", .array(keyframes))] + extra)
}

private func timeline(
    _ keyframes: [(UInt64, Value, Easing)], loop: Bool = false, start: UInt64 = start, duration: UInt64? = nil
) throws -> TimelineDefinition {
    try TimelineDefinition(
        keyframes: keyframes.map { Keyframe(time: $0.0, value: $0.1, easing: $0.2) },
        loop: loop, startTime: start, duration: duration)
}

/// The value an engine playing `definition` alone gives at `offset` µs after `start`.
private func valueAt(_ definition: TimelineDefinition, _ offset: UInt64) -> Value? {
    var engine = TimelineEngine()
    engine.play(definition, at: "/x")
    return engine.tick(now: start + offset).first?.value
}

/// The message `parse` refuses `value` with, or nil when it accepts it.
private func refusal(_ value: Value?, messageTimestamp: UInt64? = nil) -> String? {
    do {
        _ = try TimelineDefinition.parse(value, messageTimestamp: messageTimestamp, now: start)
        return nil
    } catch {
        return error.description
    }
}

private func expectClose(_ actual: Double, _ expected: Double, _ tolerance: Double = 1e-9,
                         sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(abs(actual - expected) <= tolerance, "\(actual) is not \(expected)", sourceLocation: sourceLocation)
}

// MARK: - Easing

@Suite struct EasingTests {
    static let points = [0, 0.25, 0.5, 0.75, 1]

    @Test(arguments: [
        (Easing.linear, [0, 0.25, 0.5, 0.75, 1]),
        (.easeIn, [0, 0.0625, 0.25, 0.5625, 1]),
        (.easeOut, [0, 0.4375, 0.75, 0.9375, 1]),
        (.easeInOut, [0, 0.125, 0.5, 0.875, 1]),
        (.step, [0, 0, 0, 0, 1]),
        (.cubicBezier(x1: 0, y1: 0, x2: 1, y2: 1), [0, 0.25, 0.5, 0.75, 1]),
    ])
    func shape(_ easing: Easing, _ expected: [Double]) {
        for (t, value) in zip(Self.points, expected) {
            expectClose(easing(t), value)
        }
    }

    /// Reference values: the CSS curves solved by bisection to double precision.
    @Test(arguments: [
        ((0.25, 0.1, 0.25, 1.0), [0.4085105914, 0.8024033876, 0.9604589783]),  // ease
        ((0.42, 0.0, 1.0, 1.0), [0.0934646507, 0.3153568126, 0.6218618692]),  // ease-in
        ((0.0, 0.0, 0.58, 1.0), [0.3781381308, 0.6846431874, 0.9065353493]),  // ease-out
        ((0.42, 0.0, 0.58, 1.0), [0.1291619310, 0.5, 0.8708380690]),  // ease-in-out
        ((0.68, -0.55, 0.265, 1.55), [-0.0828071088, 0.6066798972, 1.0891657748]),  // overshoots both ways
    ])
    func cubicBezierMatchesCSS(_ points: (Double, Double, Double, Double), _ expected: [Double]) {
        let easing = Easing.cubicBezier(x1: points.0, y1: points.1, x2: points.2, y2: points.3)
        expectClose(easing(0), 0)
        for (x, y) in zip([0.25, 0.5, 0.75], expected) {
            expectClose(easing(x), y, 1e-8)
        }
        expectClose(easing(1), 1)
    }

    /// x1 = 1, x2 = 0: the curve's slope in x vanishes at the middle, where Newton's method
    /// cannot go; bisection must still find the point.
    @Test func cubicBezierWithAFlatMiddleIsSolved() {
        let easing = Easing.cubicBezier(x1: 1, y1: 0, x2: 0, y2: 1)
        expectClose(easing(0.25), 0.0297246055, 1e-8)
        expectClose(easing(0.5), 0.5, 1e-4)
        expectClose(easing(0.75), 0.9702753945, 1e-8)
        var previous = -1.0
        for step in 0 ... 1000 {
            let y = easing(Double(step) / 1000)
            #expect(y >= previous - 1e-9, "not monotonic at \(step)")
            previous = y
        }
    }

    @Test func wireNames() {
        let easings: [Easing] = [.linear, .easeIn, .easeOut, .easeInOut, .step, .cubicBezier(x1: 0, y1: 0, x2: 1, y2: 1)]
        #expect(easings.map(\.wireName) == Easing.wireNames)
    }
}

// MARK: - Interpolation

@Suite struct InterpolationTests {
    @Test func floatsMoveLinearlyAlongTheEasedProgress() throws {
        let linear = try timeline([(0, .float(0), .linear), (1000, .float(2), .linear)])
        #expect(valueAt(linear, 0) == .float(0))
        #expect(valueAt(linear, 250) == .float(0.5))
        #expect(valueAt(linear, 750) == .float(1.5))
        let easeIn = try timeline([(0, .float(0), .easeIn), (1000, .float(2), .linear)])
        #expect(valueAt(easeIn, 500) == .float(0.5))
    }

    @Test func integersStepByTheTruncatedDifference() throws {
        let up = try timeline([(0, .int(0), .linear), (1000, .int(10), .linear)])
        #expect(valueAt(up, 250) == .int(2))  // 2.5
        #expect(valueAt(up, 999) == .int(9))  // 9.99
        let down = try timeline([(0, .int(5), .linear), (1000, .int(-5), .linear)])
        #expect(valueAt(down, 750) == .int(-2))  // 5 + trunc(-7.5): toward zero
        #expect(valueAt(down, 50) == .int(5))  // 5 + trunc(-0.5)
    }

    @Test func integerBlendsSaturateInsteadOfOverflowing() {
        #expect(Blend.int(from: .max - 1, to: .max, at: 5) == .max)
        #expect(Blend.int(from: 0, to: .max, at: 2) == .max)
        #expect(Blend.int(from: 0, to: .min, at: 2) == .min)
        #expect(Blend.int(from: .min, to: .min + 10, at: -3) == .min)
        // b − a overflows Int64 here; the result is right up to Double's precision.
        #expect(abs(Blend.int(from: .min, to: .max, at: 0.5)) <= 1)
        #expect(Blend.int(from: .max, to: .min, at: 1) == .min)
    }

    @Test func anIntAndAFloatBlendAsFloats() throws {
        let mixed = try timeline([(0, .int(0), .linear), (1000, .float(1), .linear)])
        #expect(valueAt(mixed, 0) == .float(0))
        #expect(valueAt(mixed, 500) == .float(0.5))
    }

    @Test func arraysOfNumbersBlendElementByElement() throws {
        let colour = try timeline([
            (0, .array([.int(0), .int(0), .float(0)]), .linear),
            (1000, .array([.int(255), .float(128), .int(1)]), .linear),
        ])
        #expect(valueAt(colour, 500) == .array([.int(127), .float(64), .float(0.5)]))
        #expect(valueAt(colour, 0) == .array([.int(0), .float(0), .float(0)]))
    }

    @Test func otherValuesSwitchHalfwayThroughTheEasedProgress() throws {
        let names = try timeline([(0, .string("a"), .linear), (1000, .string("b"), .linear)])
        #expect(valueAt(names, 499) == .string("a"))
        #expect(valueAt(names, 500) == .string("b"))
        // ease-in reaches 0.5 at t = √0.5 ≈ 0.7071.
        let late = try timeline([(0, .bool(false), .easeIn), (1000, .bool(true), .linear)])
        #expect(valueAt(late, 707) == .bool(false))
        #expect(valueAt(late, 708) == .bool(true))
        // Arrays with other than numbers switch too.
        let lists = try timeline([(0, .array([.string("x")]), .linear), (1000, .array([.string("y")]), .linear)])
        #expect(valueAt(lists, 600) == .array([.string("y")]))
    }

    @Test func aStepHoldsTheEarlierValueUntilTheNextKeyframe() throws {
        let steps = try timeline([(0, .int(1), .step), (1000, .int(2), .step), (2000, .int(3), .linear)])
        #expect(valueAt(steps, 999) == .int(1))
        #expect(valueAt(steps, 1000) == .int(2))
        #expect(valueAt(steps, 1999) == .int(2))
    }

    @Test func aCubicBezierCanOvershoot() throws {
        let back = try timeline([
            (0, .float(0), .cubicBezier(x1: 0.68, y1: -0.55, x2: 0.265, y2: 1.55)), (1000, .float(1), .linear),
        ])
        guard case .float(let low)? = valueAt(back, 250), case .float(let high)? = valueAt(back, 750) else {
            Issue.record("expected floats")
            return
        }
        expectClose(low, -0.0828071088, 1e-8)
        expectClose(high, 1.0891657748, 1e-8)
    }

    @Test func equalKeyframeTimesJumpToTheLaterKeyframe() throws {
        let jump = try timeline([(0, .float(0), .linear), (500, .float(1), .linear), (500, .float(5), .linear), (1000, .float(6), .linear)])
        #expect(valueAt(jump, 499) == .float(0.998))
        #expect(valueAt(jump, 500) == .float(5))
        #expect(valueAt(jump, 750) == .float(5.5))
    }

    @Test func theFirstKeyframesValueHoldsUntilItsTime() throws {
        let late = try timeline([(500, .float(1), .linear), (1000, .float(2), .linear)])
        #expect(valueAt(late, 0) == .float(1))
        #expect(valueAt(late, 499) == .float(1))
        #expect(valueAt(late, 750) == .float(1.5))
    }
}

// MARK: - Engine

@Suite struct TimelineEngineTests {
    @Test func nothingHappensBeforeTheStart() throws {
        var engine = TimelineEngine()
        engine.play(try timeline([(0, .float(0), .linear), (1000, .float(1), .linear)], start: start + 5000), at: "/a")
        var updates = engine.tick(now: start + 4999)
        #expect(updates.isEmpty)
        #expect(engine.nextDeadline(now: start, tickInterval: 10_000) == start + 5000)
        #expect(engine.definitions.map(\.address) == ["/a"])
        updates = engine.tick(now: start + 5000)
        #expect(updates == [TimelineUpdate(address: "/a", value: .float(0), finished: false)])
    }

    @Test func aNonLoopingTimelineEndsOnItsLastValueAndIsRemoved() throws {
        var engine = TimelineEngine()
        engine.play(try timeline([(0, .float(0), .linear), (1000, .float(1), .linear)]), at: "/a")
        var updates = engine.tick(now: start + 500)
        #expect(updates == [TimelineUpdate(address: "/a", value: .float(0.5), finished: false)])
        updates = engine.tick(now: start + 1000)
        #expect(updates == [TimelineUpdate(address: "/a", value: .float(1), finished: true)])
        #expect(engine.isEmpty)
        #expect(engine.definitions.isEmpty)
        updates = engine.tick(now: start + 2000)
        #expect(updates.isEmpty)
        #expect(engine.nextDeadline(now: start + 2000, tickInterval: 10_000) == nil)
    }

    @Test func anEndWhoseValueWasAlreadySentCarriesNoValue() throws {
        var engine = TimelineEngine()
        engine.play(try timeline([(0, .float(0), .linear), (500, .float(1), .linear), (1000, .float(1), .linear)]), at: "/a")
        var updates = engine.tick(now: start + 600)
        #expect(updates == [TimelineUpdate(address: "/a", value: .float(1), finished: false)])
        updates = engine.tick(now: start + 1000)
        #expect(updates == [TimelineUpdate(address: "/a", value: nil, finished: true)])
        #expect(engine.isEmpty)
    }

    @Test func theDurationExtendsTheLastValueBeforeTheEnd() throws {
        var engine = TimelineEngine()
        engine.play(try timeline([(0, .int(0), .linear), (1000, .int(10), .linear)], duration: 3000), at: "/a")
        var updates = engine.tick(now: start + 1500)
        #expect(updates == [TimelineUpdate(address: "/a", value: .int(10), finished: false)])
        updates = engine.tick(now: start + 2999)
        #expect(updates.isEmpty)
        updates = engine.tick(now: start + 3000)
        #expect(updates == [TimelineUpdate(address: "/a", value: nil, finished: true)])
    }

    @Test func aLoopWrapsModuloTheDuration() throws {
        var engine = TimelineEngine()
        engine.play(try timeline([(0, .float(0), .linear), (1000, .float(1), .linear)], loop: true), at: "/a")
        var updates = engine.tick(now: start + 250)
        #expect(updates.first?.value == .float(0.25))
        updates = engine.tick(now: start + 1000)
        #expect(updates.first?.value == .float(0))
        updates = engine.tick(now: start + 2750)
        #expect(updates.first?.value == .float(0.75))
        updates = engine.tick(now: start + 1_000_000_500)
        #expect(updates == [TimelineUpdate(address: "/a", value: .float(0.5), finished: false)])
        #expect(engine.count == 1)

        var paused = TimelineEngine()
        paused.play(try timeline([(0, .float(0), .linear), (1000, .float(1), .linear)], loop: true, duration: 2000), at: "/b")
        updates = paused.tick(now: start + 1500)
        #expect(updates.first?.value == .float(1))
        updates = paused.tick(now: start + 1999)
        #expect(updates.isEmpty)
        updates = paused.tick(now: start + 2000)
        #expect(updates.first?.value == .float(0))
    }

    @Test func aNewTimelineReplacesTheOneAtItsAddress() throws {
        var engine = TimelineEngine()
        let first = try timeline([(0, .float(0), .linear), (1000, .float(1), .linear)])
        let second = try timeline([(0, .float(10), .linear), (1000, .float(20), .linear)], loop: true)
        engine.play(first, at: "/a")
        var updates = engine.tick(now: start + 500)
        #expect(updates.first?.value == .float(0.5))
        engine.play(second, at: "/a")
        #expect(engine.count == 1)
        #expect(engine.definition(at: "/a") == second)
        updates = engine.tick(now: start + 600)
        #expect(updates == [TimelineUpdate(address: "/a", value: .float(16), finished: false)])
    }

    @Test func stopRemovesTheTimeline() throws {
        var engine = TimelineEngine()
        engine.play(try timeline([(0, .float(0), .linear), (1000, .float(1), .linear)]), at: "/a")
        engine.play(try timeline([(0, .float(0), .linear), (1000, .float(1), .linear)]), at: "/b")
        let stops = [engine.stop("/a"), engine.stop("/a"), engine.stop("/never")]
        #expect(stops == [true, false, false])
        let updates = engine.tick(now: start + 500)
        #expect(updates.map(\.address) == ["/b"])
        #expect(engine.definitions.map(\.address) == ["/b"])
    }

    @Test func addressesAreComparedByteForByte() throws {
        var engine = TimelineEngine()
        let composed = "/caf\u{E9}"
        let decomposed = "/cafe\u{301}"
        engine.play(try timeline([(0, .int(1), .linear)]), at: composed)
        engine.play(try timeline([(0, .int(2), .linear)]), at: decomposed)
        #expect(engine.count == 2)
        let stopped = engine.stop(decomposed)
        #expect(stopped)
        #expect(engine.definition(at: composed) != nil)
    }

    @Test func unchangedValuesAreNotSentAgain() throws {
        var engine = TimelineEngine()
        // An int creeping from 0 to 2 over 1 s changes twice; a step holds for its segment.
        engine.play(try timeline([(0, .int(0), .linear), (1000, .int(2), .step), (2000, .int(7), .linear)]), at: "/a")
        var sent: [Value?] = []
        for now in stride(from: start, through: start + 2000, by: 10) {
            sent += engine.tick(now: now).map(\.value)
        }
        #expect(sent == [.int(0), .int(1), .int(2), .int(7)])
    }

    @Test func theParamsCurrentValueIsNotSentAgain() throws {
        var engine = TimelineEngine()
        engine.play(try timeline([(0, .float(0.5), .step), (1000, .float(1), .linear)]), at: "/a", currentValue: .float(0.5))
        var updates = engine.tick(now: start)
        #expect(updates.isEmpty)
        updates = engine.tick(now: start + 1000)
        #expect(updates == [TimelineUpdate(address: "/a", value: .float(1), finished: true)])
    }

    @Test func theNextDeadlineFollowsWhatThetimelinesDo() throws {
        var engine = TimelineEngine()
        #expect(engine.nextDeadline(now: start, tickInterval: 10_000) == nil)
        engine.play(try timeline([(0, .int(1), .step), (50_000, .float(0), .linear), (100_000, .float(1), .linear)]), at: "/a")
        // Just played: due at once.
        #expect(engine.nextDeadline(now: start + 7, tickInterval: 10_000) == start + 7)
        _ = engine.tick(now: start + 7)
        // A step holds: nothing to do until the next keyframe.
        #expect(engine.nextDeadline(now: start + 7, tickInterval: 10_000) == start + 50_000)
        _ = engine.tick(now: start + 50_000)
        // Moving: every tick.
        #expect(engine.nextDeadline(now: start + 50_000, tickInterval: 10_000) == start + 60_000)
        // A held value that ran out while the host slept: due at once.
        var other = TimelineEngine()
        other.play(try timeline([(0, .int(1), .step), (10, .int(2), .linear)]), at: "/b")
        _ = other.tick(now: start + 1)
        #expect(other.nextDeadline(now: start + 5, tickInterval: 10_000) == start + 10)
        #expect(other.nextDeadline(now: start + 20, tickInterval: 10_000) == start + 20)
    }

    @Test func aHeldValueIsNotEvaluatedAgainButTheClockGoingBackIsFollowed() throws {
        var engine = TimelineEngine()
        engine.play(try timeline([(0, .int(1), .step), (1000, .int(2), .step), (2000, .int(3), .linear)]), at: "/a")
        var updates = engine.tick(now: start + 1500)
        #expect(updates.first?.value == .int(2))
        updates = engine.tick(now: start + 1600)
        #expect(updates.isEmpty)
        // The wall clock was set back into the first segment.
        updates = engine.tick(now: start + 500)
        #expect(updates.first?.value == .int(1))
    }

    @Test func definitionsAreOrderedByAddress() throws {
        var engine = TimelineEngine()
        let definition = try timeline([(0, .int(1), .linear)], start: start + 10)
        for address in ["/c", "/a", "/b/z", "/b"] { engine.play(definition, at: address) }
        #expect(engine.definitions.map(\.address) == ["/a", "/b", "/b/z", "/c"])
    }

    @Test func restoringFinishesTimelinesThatEndedWhileTheGatewayWasDown() throws {
        var engine = TimelineEngine()
        let ended = try timeline([(0, .float(0), .linear), (1000, .float(1), .linear)])
        let endedAndStored = try timeline([(0, .float(0), .linear), (1000, .float(2), .linear)])
        let running = try timeline([(0, .float(0), .linear), (1000, .float(1), .linear)], loop: true)
        let params: [String: Value] = ["/ended": .float(0.4), "/stored": .float(2), "/running": .float(0.3)]
        let updates = engine.restore(
            [StoredTimeline(address: "/ended", definition: ended),
             StoredTimeline(address: "/stored", definition: endedAndStored),
             StoredTimeline(address: "/running", definition: running)],
            now: start + 10_500, currentValue: { params[$0] })
        #expect(Set(updates.map(\.address)) == ["/ended", "/stored", "/running"])
        #expect(updates.first { $0.address == "/ended" } == TimelineUpdate(address: "/ended", value: .float(1), finished: true))
        #expect(updates.first { $0.address == "/stored" } == TimelineUpdate(address: "/stored", value: nil, finished: true))
        #expect(updates.first { $0.address == "/running" } == TimelineUpdate(address: "/running", value: .float(0.5), finished: false))
        #expect(engine.definitions.map(\.address) == ["/running"])
    }

    @Test func aThousandTimelinesTickTogether() throws {
        var engine = TimelineEngine()
        for index in 0 ..< 1000 {
            let definition = try timeline(
                [(0, .float(0), .easeInOut), (1_000_000, .float(1), .linear)],
                loop: index % 2 == 0, start: start + UInt64(index))
            engine.play(definition, at: "/t/\(index)")
        }
        var updates = 0
        for tick in 1 ... 100 {
            let now = start + UInt64(tick) * 10_000
            let changed = engine.tick(now: now)
            #expect(changed.count == 1000)
            updates += changed.count
        }
        #expect(updates == 100_000)
        #expect(engine.count == 1000)
        let later = engine.tick(now: start + 1_000_999)
        #expect(later.filter(\.finished).count == 500)
        #expect(engine.count == 500)
    }
}

// MARK: - Payload

@Suite struct TimelinePayloadTests {
    @Test func aCompletePayloadIsRead() throws {
        let value = payload([
            keyframe(.int(0), .float(0), easing: "ease-in"),
            keyframe(.float(500_000), .float(1), easing: "cubic-bezier", bezier: .array([.float(0.25), .float(0.1), .int(0), .int(1)])),
            keyframe(.int(1_000_000), .float(0.5), easing: "step"),
        ], [("loop", .bool(true)), ("start", .int(1_800_000_000_000_000)), ("duration", .int(2_000_000))])
        let command = try TimelineDefinition.parse(value, messageTimestamp: 5, now: 6)
        let expected = try TimelineDefinition(
            keyframes: [
                Keyframe(time: 0, value: .float(0), easing: .easeIn),
                Keyframe(time: 500_000, value: .float(1), easing: .cubicBezier(x1: 0.25, y1: 0.1, x2: 0, y2: 1)),
                Keyframe(time: 1_000_000, value: .float(0.5), easing: .step),
            ],
            loop: true, startTime: 1_800_000_000_000_000, duration: 2_000_000)
        #expect(command == .play(expected))
        #expect(expected.length == 2_000_000)
    }

    @Test func theStartIsGivenOrTheMessageTimestampOrNow() throws {
        let keyframes = [keyframe(.int(0), .int(1))]
        let given = payload(keyframes, [("start", .int(42))])
        #expect(try TimelineDefinition.parse(given, messageTimestamp: 7, now: 9) == .play(try timeline([(0, .int(1), .linear)], start: 42)))
        #expect(try TimelineDefinition.parse(payload(keyframes), messageTimestamp: 7, now: 9) == .play(try timeline([(0, .int(1), .linear)], start: 7)))
        #expect(try TimelineDefinition.parse(payload(keyframes), messageTimestamp: nil, now: 9) == .play(try timeline([(0, .int(1), .linear)], start: 9)))
    }

    @Test func optionalKeysHoldingNullCountAsAbsent() throws {
        let value = payload([keyframe(.int(0), .null), keyframe(.int(10), .int(1))],
                            [("loop", .null), ("start", .null), ("duration", .null)])
        let expected = try timeline([(0, .null, .linear), (10, .int(1), .linear)], start: 3)
        #expect(try TimelineDefinition.parse(value, messageTimestamp: 3, now: 9) == .play(expected))
        let nullEasing = payload([.map([("time", .int(0)), ("value", .int(1)), ("easing", .null), ("bezier", .null)])])
        #expect(refusal(nullEasing) == nil)
    }

    @Test func stopIsAMapWithStopTrue() throws {
        #expect(try TimelineDefinition.parse(.map([("stop", .bool(true))]), messageTimestamp: nil, now: 0) == .stop)
        #expect(refusal(.map([("stop", .bool(false))])) == #""stop" must be true"#)
        #expect(refusal(.map([("stop", .bool(true)), ("keyframes", .array([]))])) == #"a stop takes no other key, got "keyframes""#)
    }

    @Test func theEncodedMapIsReadBackAsTheSameDefinition() throws {
        let definitions = [
            try timeline([
                (0, .float(0.25), .linear), (10, .int(-3), .easeIn), (10, .int(4), .easeOut),
                (20, .float(1e-300), .easeInOut), (30, .float(2), .cubicBezier(x1: 0.1, y1: -2, x2: 1, y2: 3)),
                (40, .float(2), .step), (50, .string("on"), .linear), (60, .null, .linear),
                (70, .array([.int(1), .float(2)]), .linear), (80, .array([.int(3), .float(-0.0)]), .linear),
            ], loop: true, start: 0, duration: 90),
            try timeline([(7, .map([("k", .bytes([1, 2]))]), .step)], start: UInt64(Int64.max)),
            try timeline([(0, .bool(true), .linear)]),
        ]
        for definition in definitions {
            let encoded = definition.encodedValue
            #expect(try TimelineDefinition.parse(encoded, messageTimestamp: 1, now: 2) == .play(definition))
            // And through the wire encoding, as the store and late joiners see it.
            let decoded = try Value(decoding: encoded.encodedBytes())
            #expect(try TimelineDefinition.parse(decoded, messageTimestamp: 1, now: 2) == .play(definition))
        }
    }

    @Test func theEncodedMapHasThePayloadShape() throws {
        let definition = try timeline([(0, .float(0), .easeIn), (1000, .float(1), .linear)], start: 99)
        #expect(definition.encodedValue == .map([
            ("keyframes", .array([
                .map([("time", .int(0)), ("value", .float(0)), ("easing", .string("ease-in"))]),
                .map([("time", .int(1000)), ("value", .float(1))]),
            ])),
            ("loop", .bool(false)),
            ("start", .int(99)),
        ]))
        let publish = definition.publish(at: "/x")
        #expect(publish == Publish(address: "/x", signal: .timeline, value: definition.encodedValue, timestamp: 99))
    }

    @Test(arguments: [
        (nil, #"a timeline needs a value: a map with "keyframes", or {"stop": true} to stop the timeline"#),
        (.null, #"a timeline needs a value: a map with "keyframes", or {"stop": true} to stop the timeline"#),
        (.array([]), #"the value must be a map with "keyframes" (or {"stop": true}), got array"#),
        (.map([("keyframes", .array([]))]), "keyframes must not be empty"),
        (.map([]), #""keyframes" is missing"#),
        (.map([("keyframes", .int(1))]), #""keyframes" must be an array of maps, got int"#),
        (payload([keyframe(.int(0), .int(1))], [("duraton", .int(5))]),
         #"unknown key "duraton" (expected keyframes, loop, start, duration or stop)"#),
        (payload([keyframe(.int(0), .int(0)), .int(3)]), "keyframe 2: must be a map, got int"),
        (payload([.map([("time", .int(0)), ("value", .int(0)), ("tiem", .int(1))])]),
         #"keyframe 1: unknown key "tiem" (expected time, value, easing or bezier)"#),
        (payload([.map([("value", .int(0))])]), #"keyframe 1: "time" is missing"#),
        (payload([.map([("time", .int(0))])]), #"keyframe 1: "value" is missing"#),
        (payload([keyframe(.int(-5), .int(0))]), "keyframe 1: time must be a whole number of µs from 0 up, got -5"),
        (payload([keyframe(.float(1.5), .int(0))]), "keyframe 1: time must be a whole number of µs from 0 up, got 1.5"),
        (payload([keyframe(.string("0"), .int(0))]), "keyframe 1: time must be a whole number of µs from 0 up, got string"),
        (payload([keyframe(.int(0), .int(0)), keyframe(.int(900), .int(1)), keyframe(.int(500), .int(2))]),
         "keyframe 3: time 500 is before keyframe 2's time 900"),
        (payload([keyframe(.int(0), .int(0), easing: "bounce")]),
         #"keyframe 1: unknown easing "bounce" (expected linear, ease-in, ease-out, ease-in-out, step or cubic-bezier)"#),
        (payload([.map([("time", .int(0)), ("value", .int(0)), ("easing", .int(1))])]), "keyframe 1: easing must be a string, got int"),
        (payload([keyframe(.int(0), .int(0), easing: "cubic-bezier")]),
         #"keyframe 1: easing "cubic-bezier" needs "bezier": [x1, y1, x2, y2]"#),
        (payload([keyframe(.int(0), .int(0), easing: "cubic-bezier", bezier: .array([.int(0), .int(0), .int(1)]))]),
         #"keyframe 1: "bezier" must be an array of 4 numbers [x1, y1, x2, y2]"#),
        (payload([keyframe(.int(0), .int(0), easing: "cubic-bezier", bezier: .array([.int(0), .int(0), .int(1), .string("1")]))]),
         #"keyframe 1: "bezier" must be an array of 4 numbers [x1, y1, x2, y2]"#),
        (payload([keyframe(.int(0), .int(0), easing: "cubic-bezier", bezier: .array([.float(1.5), .int(0), .int(1), .int(1)]))]),
         "keyframe 1: bezier x1 = 1.5 is outside [0, 1]"),
        (payload([keyframe(.int(0), .int(0), easing: "cubic-bezier", bezier: .array([.int(0), .int(0), .float(-0.1), .int(1)]))]),
         "keyframe 1: bezier x2 = -0.1 is outside [0, 1]"),
        (payload([keyframe(.int(0), .int(0), easing: "cubic-bezier", bezier: .array([.int(0), .float(.nan), .int(1), .int(1)]))]),
         "keyframe 1: bezier control points must be finite numbers"),
        (payload([keyframe(.int(0), .int(0), easing: "linear", bezier: .array([.int(0), .int(0), .int(1), .int(1)]))]),
         #"keyframe 1: "bezier" is only used with easing "cubic-bezier""#),
        (payload([keyframe(.int(0), .int(0), bezier: .array([.int(0), .int(0), .int(1), .int(1)]))]),
         #"keyframe 1: "bezier" is only used with easing "cubic-bezier""#),
        (payload([keyframe(.int(0), .float(.infinity))]),
         "keyframe 1: value holds a NaN or infinite number, which cannot be interpolated"),
        (payload([keyframe(.int(0), .array([.int(1), .float(.nan)]))]),
         "keyframe 1: value holds a NaN or infinite number, which cannot be interpolated"),
        (payload([keyframe(.int(0), .array([.int(1), .int(2), .int(3)])), keyframe(.int(10), .array([.int(1), .int(2), .int(3), .int(4)]))]),
         "keyframe 2: value is an array of 4 numbers but keyframe 1's is an array of 3 numbers; "
            + "numbers interpolate with numbers, arrays of numbers with arrays of the same length"),
        (payload([keyframe(.int(0), .array([.int(1)])), keyframe(.int(10), .float(1))]),
         "keyframe 2: value is a number but keyframe 1's is an array of 1 number; "
            + "numbers interpolate with numbers, arrays of numbers with arrays of the same length"),
        (payload([keyframe(.int(0), .int(0))], [("loop", .int(1))]), #""loop" must be a bool, got 1"#),
        (payload([keyframe(.int(0), .int(0))], [("start", .int(-1))]), #""start" must be a whole number of µs from 0 up, got -1"#),
        (payload([keyframe(.int(0), .int(0))], [("duration", .float(0.5))]),
         #""duration" must be a whole number of µs from 0 up, got 0.5"#),
        (payload([keyframe(.int(0), .int(0)), keyframe(.int(900), .int(1))], [("duration", .int(500))]),
         "duration 500 is before the last keyframe's time 900"),
        (payload([keyframe(.int(0), .int(0))], [("loop", .bool(true))]),
         #"a looping timeline needs a duration above 0 (give "duration", or a last keyframe after time 0)"#),
    ] as [(Value?, String)])
    func refusals(_ value: Value?, _ message: String) {
        #expect(refusal(value) == message)
    }

    @Test func atMost1024Keyframes() {
        let many = (0 ..< 1025).map { keyframe(.int(Int64($0)), .int(0)) }
        #expect(refusal(payload(many)) == "too many keyframes: 1025 (at most 1024)")
        #expect(refusal(payload(Array(many.dropLast()))) == nil)
    }

    @Test func aMessageTimestampOf2To63OrMoreIsRefused() {
        #expect(refusal(payload([keyframe(.int(0), .int(0))]), messageTimestamp: 1 << 63)
                == "start 9223372036854775808 must be below 2^63 µs")
    }

    /// The frame the official Python client (clasp-to 4.2.0) sends for the example in
    /// docs/timelines.md: `client._send({"type": "PUBLISH", "signal": "timeline", "value": {…},
    /// "timestamp": …})`, with `"duration": None`.
    @Test func thePythonClientsRawPublishIsRead() throws {
        let hex = [
            "53010134209000102f6c69676874732f312f64696d6d6572010b000300096b65796672616d65730a00040b0003000474",
            "696d65050000000000000000000576616c75650700000000000000000006656173696e6708000b656173652d696e2d6f",
            "75740b0004000474696d650500000000001e8480000576616c7565073ff00000000000000006656173696e6708000c63",
            "756269632d62657a696572000662657a6965720a0004073fd0000000000000073fb999999999999a073fd00000000000",
            "00073ff00000000000000b0003000474696d650500000000003d0900000576616c7565073fe000000000000000066561",
            "73696e67080004737465700b0002000474696d650500000000005b8d80000576616c756507000000000000000000046c",
            "6f6f70010100086475726174696f6e00000644594169e120",
        ].joined()
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(try #require(UInt8(hex[index ..< next], radix: 16)))
            index = next
        }
        guard case .publish(let publish) = try FrameCodec.decode(bytes).message else {
            Issue.record("expected a PUBLISH")
            return
        }
        #expect(publish.signal == .timeline)
        let command = try TimelineDefinition.parse(publish.value, messageTimestamp: publish.timestamp, now: 0)
        let expected = try TimelineDefinition(
            keyframes: [
                Keyframe(time: 0, value: .float(0), easing: .easeInOut),
                Keyframe(time: 2_000_000, value: .float(1), easing: .cubicBezier(x1: 0.25, y1: 0.1, x2: 0.25, y2: 1)),
                Keyframe(time: 4_000_000, value: .float(0.5), easing: .step),
                Keyframe(time: 6_000_000, value: .float(0)),
            ],
            loop: true, startTime: 1_764_000_000_500_000)
        #expect(command == .play(expected))
    }

    @Test func aSingleKeyframeAtZeroIsAScheduledSet() throws {
        var engine = TimelineEngine()
        engine.play(try timeline([(0, .string("go"), .linear)], start: start + 100), at: "/cue")
        var updates = engine.tick(now: start + 99)
        #expect(updates.isEmpty)
        updates = engine.tick(now: start + 100)
        #expect(updates == [TimelineUpdate(address: "/cue", value: .string("go"), finished: true)])
    }
}


import CLASP
import Router

// 1,000 looping timelines with mixed easings and shapes, ticked at 100 Hz: the engine alone,
// and through `RouterCore` with the SETs going out to one subscriber per param
// (docs/timelines.md).

enum TimelineScenario {
    static let count = 1_000
    /// 100 Hz, the default `timelines.tick_rate`.
    static let tickMicroseconds: UInt64 = 10_000

    static func address(_ index: Int) -> String { "/show/fixture/\(index)/level" }

    /// Four kinds in turn: a float along cubic-bezier curves, a float along ease-in-out, a
    /// float along a line, and an RGB triple (array of 3 floats). Loop lengths of 2–4 s and
    /// starts 1 ms apart keep them out of step, so every tick sees values at every phase.
    static func definition(_ index: Int, now: UInt64) throws -> TimelineDefinition {
        let length = 2_000_000 + UInt64(index % 9) * 250_000
        let cssEase = Easing.cubicBezier(x1: 0.25, y1: 0.1, x2: 0.25, y2: 1)
        let overshoot = Easing.cubicBezier(x1: 0.34, y1: 1.56, x2: 0.64, y2: 1)
        func rgb(_ r: Double, _ g: Double, _ b: Double) -> Value { .array([.float(r), .float(g), .float(b)]) }
        let keyframes: [Keyframe]
        switch index % 4 {
        case 0:
            keyframes = [
                Keyframe(time: 0, value: .float(0), easing: cssEase),
                Keyframe(time: length / 2, value: .float(1), easing: overshoot),
                Keyframe(time: length, value: .float(0.2)),
            ]
        case 1:
            keyframes = [
                Keyframe(time: 0, value: .float(0), easing: .easeInOut),
                Keyframe(time: length / 3, value: .float(1), easing: .easeInOut),
                Keyframe(time: 2 * length / 3, value: .float(0.3), easing: .easeInOut),
                Keyframe(time: length, value: .float(0.9)),
            ]
        case 2:
            keyframes = [
                Keyframe(time: 0, value: .float(0)),
                Keyframe(time: length, value: .float(1)),
            ]
        default:
            keyframes = [
                Keyframe(time: 0, value: rgb(0, 0, 0), easing: .easeInOut),
                Keyframe(time: length / 2, value: rgb(1, 0.5, 0.25), easing: cssEase),
                Keyframe(time: length, value: rgb(0.2, 1, 0.6)),
            ]
        }
        return try TimelineDefinition(keyframes: keyframes, loop: true, startTime: now - UInt64(index) * 1_000)
    }

    /// An engine playing the 1,000 timelines, sampled once (their first values are out).
    static func engine(now: UInt64) throws -> TimelineEngine {
        var engine = TimelineEngine()
        for index in 0..<count {
            engine.play(try definition(index, now: now), at: address(index))
        }
        let first = engine.tick(now: now)
        guard first.count == count else { throw BenchmarkFailure("first tick gave \(first.count) values") }
        return engine
    }

    /// A router where one session published the 1,000 timelines and 1,000 sessions each
    /// subscribe to one of the params; the first tick has run.
    static func router() throws -> (lab: Lab, subscribers: [Peer]) {
        let lab = Lab { $0.maxSessions = count + 10 }
        let publisher = try lab.session("publisher")
        var subscribers: [Peer] = []
        for index in 0..<count {
            let peer = try lab.session("subscriber-\(index)")
            try lab.subscribe(peer, address(index), types: .param)
            subscribers.append(peer)
        }
        publisher.recording = true
        let now = lab.clock.wallMicroseconds()
        for index in 0..<count {
            let publish = try definition(index, now: now).publish(at: address(index))
            try lab.send(.publish(publish), from: publisher)
        }
        try lab.expectNoErrors(publisher)
        // The timelines have started, so the router asks for a tick at once.
        guard let first = lab.armed, first <= lab.clock.now else { throw BenchmarkFailure("no tick armed after the timelines were published") }
        lab.advance(to: lab.clock.now)
        for (index, peer) in subscribers.enumerated() where peer.paramEchoes != 1 {
            throw BenchmarkFailure("subscriber \(index) got \(peer.paramEchoes) SETs from the first tick")
        }
        return (lab, subscribers)
    }
}

import CLASP
import Router

// One publisher at 5 kHz for 1 s to 100 stream subscribers, a quarter each with no options,
// maxRate 60, epsilon 0.5 and window 50 ms (docs/streams.md); the host timer simulated. The
// same without any options is the reference: then the router takes its plain fan-out path.

enum StreamKind: Int, CaseIterable {
    case plain, maxRate, epsilon, window

    var options: SubscribeOptions? {
        switch self {
        case .plain: nil
        case .maxRate: SubscribeOptions(maxRate: 60)
        case .epsilon: SubscribeOptions(epsilon: StreamScenario.epsilon)
        case .window: SubscribeOptions(window: 50)
        }
    }
}

struct StreamOutcome {
    var cpu: UInt64 = 0
    var wall: UInt64 = 0
    /// Frames received by all subscribers together.
    var framesDelivered = 0
    /// Frames one subscriber of each kind received (all of a kind are checked to be equal).
    var frames: [StreamKind: Int] = [:]
    /// Samples inside the window subscriber's batches.
    var windowSamples = 0
}

enum StreamScenario {
    static let address = "/sensor/x"
    static let samples = 5_000
    static let subscribers = 100
    /// 5 kHz.
    static let period: UInt64 = 200_000
    static let epsilon = 0.5

    /// A ramp of 0.1 per sample: epsilon 0.5 keeps about one in six.
    static func value(_ index: Int) -> Double { Double(index) * 0.1 }

    /// What epsilon promises, worked out here independently of the router: a sample goes
    /// when it is more than epsilon away from the last one sent; the first always goes.
    static var epsilonExpected: Int {
        var last = value(0)
        var sent = 1
        for index in 1..<samples where abs(value(index) - last) > epsilon {
            last = value(index)
            sent += 1
        }
        return sent
    }

    static func run(mixed: Bool) throws -> StreamOutcome {
        let lab = Lab()
        let publisher = try lab.session("publisher")
        var peers: [(peer: Peer, kind: StreamKind)] = []
        for index in 0..<subscribers {
            let kind = mixed ? StreamKind(rawValue: index % StreamKind.allCases.count) ?? .plain : .plain
            let peer = try lab.session("subscriber-\(index)")
            try lab.subscribe(peer, address, types: .stream, options: kind.options)
            // The filtered ones are few frames; the plain ones (5,000 each) are only counted.
            peer.recording = kind != .plain
            peers.append((peer, kind))
        }
        let frames = try (0..<samples).map {
            try Message.publish(Publish(address: address, signal: .stream, value: .float(value($0)))).encodedFrame()
        }
        let t0 = lab.clock.now + 1_000_000
        let last = t0 + UInt64(samples - 1) * period

        let stopwatch = Stopwatch()
        for index in 0..<samples {
            lab.advance(to: t0 + UInt64(index) * period)
            lab.receive(frames[index], from: publisher)
        }
        // Long enough for the last held sample (1/60 s) and the last window (50 ms).
        lab.advance(to: last + 100_000_000)
        let (cpu, wall) = stopwatch.read()

        var outcome = StreamOutcome(cpu: cpu, wall: wall)
        outcome.framesDelivered = peers.reduce(0) { $0 + $1.peer.frames }
        for (peer, kind) in peers {
            if let first = outcome.frames[kind], first != peer.frames {
                throw BenchmarkFailure("\(kind) subscribers got \(first) and \(peer.frames) frames")
            }
            outcome.frames[kind] = peer.frames
        }
        for kind in StreamKind.allCases.dropFirst() {
            guard let peer = peers.first(where: { $0.kind == kind })?.peer else { continue }
            try check(kind, peer, t0: t0, into: &outcome)
        }
        guard outcome.frames[.plain] == samples else {
            throw BenchmarkFailure("no options: \(outcome.frames[.plain] ?? 0) of \(samples) samples")
        }
        guard publisher.frames == 0 else { throw BenchmarkFailure("the publisher received \(publisher.frames) frames") }
        return outcome
    }

    /// Each option against its promise (docs/streams.md).
    private static func check(_ kind: StreamKind, _ peer: Peer, t0: UInt64, into outcome: inout StreamOutcome) throws {
        let lastValue = value(samples - 1)
        var values: [Double] = []
        var times: [UInt64] = []
        for (at, message) in try peer.messages() {
            guard case .publish(let publish) = message, publish.signal == .stream else {
                throw BenchmarkFailure("\(kind): unexpected message \(message)")
            }
            if case .float(let number)? = publish.value {
                values.append(number)
            } else if let batch = publish.samples {
                values += batch
            } else {
                throw BenchmarkFailure("\(kind): a sample without a number")
            }
            times.append(at)
        }
        guard values == values.sorted() else { throw BenchmarkFailure("\(kind): samples out of order") }
        switch kind {
        case .plain:
            break
        case .maxRate:
            // 60 per second plus the trailing one, never two closer than 1/60 s.
            let interval: UInt64 = (1_000_000_000 + 59) / 60
            guard (60...61).contains(values.count), values.last == lastValue else {
                throw BenchmarkFailure("maxRate 60: \(values.count) samples, last \(values.last ?? -1)")
            }
            for (earlier, later) in zip(times, times.dropFirst()) where later - earlier < interval {
                throw BenchmarkFailure("maxRate 60: two samples \(later - earlier) ns apart")
            }
        case .epsilon:
            guard values.count == epsilonExpected, abs((values.last ?? 0) - lastValue) <= epsilon else {
                throw BenchmarkFailure("epsilon: \(values.count) samples, expected \(epsilonExpected)")
            }
        case .window:
            // 1 s of samples in 50 ms windows: 20 batches holding every sample.
            guard (19...21).contains(times.count), values.count == samples else {
                throw BenchmarkFailure("window 50 ms: \(times.count) batches with \(values.count) samples")
            }
            for (earlier, later) in zip(times, times.dropFirst()) where later - earlier < 50_000_000 {
                throw BenchmarkFailure("window 50 ms: two batches \(later - earlier) ns apart")
            }
            outcome.windowSamples = values.count
        }
    }
}

import CLASP
import Router

// One gesture (start, 10 s of moves at `rate` Hz, end) from one sender to `subscribers`
// gesture subscribers, with the host timer simulated exactly (docs/router.md, "Gestures").

struct GestureOutcome {
    var movesSent = 0
    /// Moves one subscriber received (every subscriber is checked to get the same number).
    var movesDelivered = 0
    /// The largest time from a move's arrival at the router to the delivery of a move at
    /// least as new, ns.
    var maxDelay: UInt64 = 0
    /// Router work for the whole gesture (receives and timer runs), ns.
    var cpu: UInt64 = 0
    var wall: UInt64 = 0
    /// Timer wake-ups from the start to the end of the gesture.
    var wakeUps = 0
    /// Timer wake-ups in the 31 s after the end, when no gesture is live.
    var wakeUpsAfterEnd = 0
}

enum GestureScenario {
    static let address = "/touch/pad"
    static let gestureID: UInt32 = 7
    static let seconds = 10
    /// The router's move interval (`gestures.move_interval`, default).
    static let interval: UInt64 = 16_000_000

    /// A move's x is its index, so a delivery tells which move it is.
    static func frame(_ phase: GesturePhase, index: Int = 0) throws -> [UInt8] {
        let value: Value? = phase == .move ? .array([.float(Double(index)), .float(0.5)]) : nil
        return try Message.publish(Publish(address: address, signal: .gesture, phase: phase, value: value, id: gestureID)).encodedFrame()
    }

    static func run(rate: Int, subscribers count: Int) throws -> GestureOutcome {
        let lab = Lab()
        let sender = try lab.session("sender")
        var subscribers: [Peer] = []
        for index in 0..<count {
            let peer = try lab.session("subscriber-\(index)")
            try lab.subscribe(peer, address, types: .gesture)
            subscribers.append(peer)
        }
        subscribers[0].recording = true

        // Encoded before the clock starts: the client's work, not the router's.
        let moves = rate * seconds
        let start = try frame(.start)
        let frames = try (0..<moves).map { try frame(.move, index: $0) }
        let end = try frame(.end)
        let t0 = lab.clock.now + 1_000_000
        // Move i arrives (i + 1)/rate s after the start; the end one period after the last move.
        let arrivals = (0..<moves).map { t0 + UInt64($0 + 1) * 1_000_000_000 / UInt64(rate) }
        let endTime = t0 + UInt64(moves + 1) * 1_000_000_000 / UInt64(rate)

        let stopwatch = Stopwatch()
        lab.advance(to: t0)
        lab.receive(start, from: sender)
        for index in 0..<moves {
            lab.advance(to: arrivals[index])
            lab.receive(frames[index], from: sender)
        }
        lab.advance(to: endTime)
        lab.receive(end, from: sender)
        lab.advance(to: endTime)
        let (cpu, wall) = stopwatch.read()

        var outcome = GestureOutcome(movesSent: moves, cpu: cpu, wall: wall, wakeUps: lab.wakeUps)
        lab.advance(to: endTime + 31_000_000_000)
        outcome.wakeUpsAfterEnd = lab.wakeUps - outcome.wakeUps
        try check(subscribers, arrivals: arrivals, into: &outcome)
        guard lab.router.liveGestureCount == 0 else { throw BenchmarkFailure("\(lab.router.liveGestureCount) gestures still live after the end") }
        guard sender.frames == 0 else { throw BenchmarkFailure("the sender received \(sender.frames) frames") }
        return outcome
    }

    /// Start first, moves in order, the last move, then the end; the delay bound.
    private static func check(_ subscribers: [Peer], arrivals: [UInt64], into outcome: inout GestureOutcome) throws {
        let received = try subscribers[0].messages()
        var delivered: [(at: UInt64, index: Int)] = []
        for (position, (at, message)) in received.enumerated() {
            guard case .publish(let publish) = message, publish.signal == .gesture, publish.id == gestureID else {
                throw BenchmarkFailure("unexpected message \(message)")
            }
            let expected: GesturePhase = position == 0 ? .start : position == received.count - 1 ? .end : .move
            guard publish.phase == expected else {
                throw BenchmarkFailure("message \(position) is a \(publish.phase), expected \(expected)")
            }
            if publish.phase == .move, case .array(let items)? = publish.value, case .float(let x)? = items.first {
                if let previous = delivered.last, Int(x) <= previous.index {
                    throw BenchmarkFailure("move \(Int(x)) delivered after move \(previous.index)")
                }
                delivered.append((at, Int(x)))
            }
        }
        guard delivered.last?.index == arrivals.count - 1 else {
            throw BenchmarkFailure("the last move (\(arrivals.count - 1)) was not delivered; last: \(delivered.last?.index ?? -1)")
        }
        // Deliveries are in time and index order, so one pass finds, for each move, the
        // first delivery at least as new.
        var next = 0
        for (index, arrival) in arrivals.enumerated() {
            while delivered[next].index < index { next += 1 }
            outcome.maxDelay = max(outcome.maxDelay, delivered[next].at - arrival)
        }
        guard outcome.maxDelay <= interval else {
            throw BenchmarkFailure("a move waited \(outcome.maxDelay) ns for a newer one, more than the 16 ms interval")
        }
        outcome.movesDelivered = delivered.count
        for (index, peer) in subscribers.enumerated() where peer.gestureMoves != delivered.count || peer.frames != received.count {
            throw BenchmarkFailure("subscriber \(index) got \(peer.gestureMoves) moves, subscriber 0 \(delivered.count)")
        }
    }
}

import CLASP
import Router
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// A `RouterCore` in memory: a clock moved by hand, peers that count what they receive, and
// the host's wake-up timer simulated exactly. Nothing waits on real time or sockets, so the
// figures are the router's own work and every run delivers the same frames.

/// A clock the benchmark moves. Atomic rather than a lock: the router reads it several times
/// per message, and a lock would add cost the real (vDSO) clock does not have.
final class ManualClock: RouterClock {
    static let wallAtStart: UInt64 = 1_764_000_000_000_000
    static let monotonicAtStart: UInt64 = 1_000_000_000
    private let elapsed = Atomic<UInt64>(0)

    func wallMicroseconds() -> UInt64 { Self.wallAtStart + elapsed.load(ordering: .relaxed) / 1_000 }
    func monotonicNanoseconds() -> UInt64 { Self.monotonicAtStart + elapsed.load(ordering: .relaxed) }

    /// Monotonic ns, as the router sees it.
    var now: UInt64 { monotonicNanoseconds() }

    func move(to monotonic: UInt64) {
        elapsed.store(monotonic - Self.monotonicAtStart, ordering: .relaxed)
    }
}

/// SplitMix64: session ids come from it, so runs are identical.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64 = 0x5EED

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A peer in memory. Counting is all it does by default; `recording` keeps the frames (with
/// the time they were handed over) for checks after the measured part, where they are decoded.
final class Peer: SessionConnection {
    struct Delivery {
        let at: UInt64
        let frame: OutboundFrame
    }

    let clock: ManualClock
    var id = ConnectionID(rawValue: 0)
    var recording = false
    private(set) var frames = 0
    private(set) var gestureMoves = 0
    private(set) var paramEchoes = 0
    private(set) var log: [Delivery] = []
    private(set) var closed: CloseReason?

    init(clock: ManualClock) { self.clock = clock }

    func send(_ frame: OutboundFrame) {
        frames += 1
        // The coalescing key tells the kind without decoding.
        switch frame.coalescing {
        case .gestureMove?: gestureMoves += 1
        case .param?: paramEchoes += 1
        default: break
        }
        if recording { log.append(Delivery(at: clock.now, frame: frame)) }
    }

    func close(_ reason: CloseReason) { closed = reason }

    func reset() {
        frames = 0
        gestureMoves = 0
        paramEchoes = 0
        log.removeAll()
    }

    /// The recorded frames, decoded.
    func messages() throws -> [(at: UInt64, message: Message)] {
        try log.map { ($0.at, try FrameCodec.decode($0.frame.bytes).message) }
    }
}

struct BenchmarkFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A router with a manual clock and the host's one-shot timer (`RouterHost.arm`): one timer,
/// replaced only by an earlier deadline, cleared when it fires, then `runTimers()`. The host's
/// 100 ms `tick()` is left out, so a wake-up the router forgets to ask for shows as a delay.
final class Lab {
    let clock = ManualClock()
    let router: RouterCore
    private(set) var armed: UInt64?
    /// `runTimers()` calls made by the simulated timer.
    private(set) var wakeUps = 0

    init(_ configure: (inout RouterConfiguration) -> Void = { _ in }) {
        var configuration = RouterConfiguration()
        configuration.name = "signal-benchmarks"
        configure(&configuration)
        router = RouterCore(configuration: configuration, clock: clock, random: SeededGenerator())
        router.wakeUpHandler = { [unowned self] deadline in
            if let armed = self.armed, armed <= deadline { return }
            self.armed = deadline
        }
    }

    /// Moves the clock to `time` (monotonic ns), firing the timer at each deadline on the way.
    func advance(to time: UInt64) {
        while let deadline = armed, deadline <= time {
            armed = nil
            if deadline > clock.now { clock.move(to: deadline) }
            wakeUps += 1
            router.runTimers()
        }
        if time > clock.now { clock.move(to: time) }
    }

    /// A connected peer after HELLO; WELCOME and the snapshot are forgotten.
    func session(_ name: String) throws -> Peer {
        let peer = Peer(clock: clock)
        guard let id = router.connect(peer) else { throw BenchmarkFailure("the router refused connection \(name)") }
        peer.id = id
        try send(.hello(Hello(features: .allSignals, name: name)), from: peer)
        peer.reset()
        return peer
    }

    func send(_ message: Message, from peer: Peer) throws {
        receive(try message.encodedFrame(), from: peer)
    }

    func receive(_ frame: [UInt8], from peer: Peer) {
        frame.withUnsafeBytes { router.receive($0, from: peer.id) }
    }

    /// Subscribes and checks the router accepted (no ERROR came back).
    func subscribe(_ peer: Peer, _ pattern: String, types: SignalTypeMask, options: SubscribeOptions? = nil) throws {
        peer.recording = true
        try send(.subscribe(Subscribe(id: 1, pattern: pattern, types: types, options: options)), from: peer)
        try expectNoErrors(peer)
        peer.recording = false
        peer.reset()
    }

    func expectNoErrors(_ peer: Peer) throws {
        for (_, message) in try peer.messages() {
            if case .error(let error) = message {
                throw BenchmarkFailure("ERROR \(error.code) from the router: \(error.message)")
            }
        }
    }
}

/// CPU time of the calling thread, ns: the router's work without the time the machine's
/// other jobs take the core away (it is shared).
func threadCPUNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Real time, ns.
func wallNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// CPU and wall time of one measured stretch.
struct Stopwatch {
    private let cpu = threadCPUNanoseconds()
    private let wall = wallNanoseconds()

    func read() -> (cpu: UInt64, wall: UInt64) {
        (threadCPUNanoseconds() - cpu, wallNanoseconds() - wall)
    }
}

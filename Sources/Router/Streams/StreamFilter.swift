import CLASP

/// What a `StreamFilter` decides for one offered stream sample.
enum StreamDecision {
    /// Send the shared encoded frame now.
    case deliver
    /// Kept: `due(at:)` sends it later, at the end of its rate interval or in its window.
    case hold
    /// Not sent: within epsilon of the last value accepted. It also cancels a held sample,
    /// which it supersedes.
    case drop
    /// Send these frames now, in this order, instead of the shared frame: what fell due at
    /// this address since the last `due(at:)` (a late wake-up) or the window this sample did
    /// not fit in, then the sample itself when it goes out now. The sample may also be held.
    case send([OutboundFrame])
}

/// One subscription's stream options (SUBSCRIBE `maxRate`, `epsilon`, `window`) applied to
/// the stream samples (PUBLISH, signal stream) it matches, address by address.
///
/// The router's fan-out encodes a PUBLISH once and offers the shared bytes to the filter of
/// each subscriber that has one (`offer`); it sends them only on `.deliver`. Held samples
/// and closed windows come out of `due(at:)`, to be called when `nextDeadline` arrives (an
/// early or late call is harmless). Times are the caller's monotonic clock in ns; nothing
/// here reads a clock, so the filter is deterministic.
///
/// Per address:
/// - **maxRate** (Hz; 0 = unlimited): at most one sample is accepted per interval
///   (1/maxRate s, rounded up to whole ns). A sample that comes when the interval since the
///   last accepted one is over is accepted at once. One that comes earlier is held, replacing
///   any held one (latest wins), and is accepted when the interval ends (trailing edge). So
///   the last sample of a burst always goes out, at most one interval late, and two accepted
///   samples are never closer than the interval.
/// - **epsilon**: a number (int or float), a numeric array or a sample batch is accepted
///   only if it differs from the last accepted value by more than epsilon (element by
///   element for arrays and batches; another length or kind counts as a change). Numbers
///   are compared as f64; NaN equals NaN and differs from everything else. Any other value
///   passes, and so does the first sample. The test is made when a sample arrives: one that
///   fails it is dropped and cancels the held sample too, since the newest value is then
///   within epsilon of what the subscriber has.
/// - **window** (ms; 0 = none): accepted samples are collected from the first one for the
///   window's length, then sent together: each run of consecutive numbers (ints exact in
///   f64, floats, sample batches) becomes one PUBLISH with a sample batch (value indicator 2:
///   stream signal, the address, the message timestamp of the run's first sample, f64s in
///   arrival order); any other sample goes as its own frame in its place. A window of
///   numbers therefore arrives as exactly one message. A window holds at most
///   `StreamWindow.maxSamples` samples and `StreamWindow.maxFrameBytes` bytes of other
///   frames: a sample that does not fit sends the window at once and opens the next.
///
/// Combined, epsilon decides first, then maxRate decides when a sample is accepted, then the
/// window collects what was accepted: maxRate + window gives batches of samples at least one
/// interval apart, epsilon + window leaves out samples within epsilon of the previous one.
///
/// Only stream samples are filtered; any other PUBLISH offered is `.deliver`ed and leaves
/// no state. Frames the filter makes or holds carry the coalescing key `.stream(address)`.
///
/// Bounded: state is kept for at most `maxAddresses` addresses. A new address beyond that
/// first makes the filter forget every idle address (nothing held, interval over: only its
/// epsilon reference is lost, so its next sample passes); when none is idle, the new
/// address's samples pass unfiltered until one is. Held data per address: one sample, and
/// one window (see above).
struct StreamFilter {
    /// Longest window accepted, ms.
    static let maxWindowMilliseconds: UInt32 = 60_000
    /// Largest history a subscription may ask for.
    static let maxHistory: UInt32 = 1_000
    static let defaultMaxAddresses = 1_024

    let rules: StreamRules
    let maxAddresses: Int
    private var lanes: [ExactText: StreamLane] = [:]
    private var wakeUps = DeadlineQueue<WakeUp>()
    /// No address can be idle before this time (saves scanning on every new address at the cap).
    private var noIdleBefore: UInt64 = 0

    private struct WakeUp {
        let key: ExactText
        let at: UInt64
    }

    /// `nil` when the options change nothing in live delivery (none, or only `history`).
    /// The options should have passed `validate`.
    init?(_ options: SubscribeOptions, maxAddresses: Int = defaultMaxAddresses) {
        let rate = UInt64(options.maxRate ?? 0)
        let window = UInt64(options.window ?? 0)
        guard rate > 0 || window > 0 || options.epsilon != nil else { return nil }
        rules = StreamRules(
            interval: rate > 0 ? (1_000_000_000 + rate - 1) / rate : 0,
            epsilon: options.epsilon,
            window: window * 1_000_000)
        self.maxAddresses = max(1, maxAddresses)
    }

    /// Why the options are refused, or nil. The router answers a refusal with ERROR 402
    /// (invalid value), address = the pattern, and does not store the subscription.
    static func validate(_ options: SubscribeOptions) -> String? {
        if let epsilon = options.epsilon, !(epsilon.isFinite && epsilon >= 0) {
            return "epsilon must be a finite number of at least 0, got \(epsilon)"
        }
        if let window = options.window, window > maxWindowMilliseconds {
            return "window \(window) ms is above the maximum \(maxWindowMilliseconds) ms"
        }
        if let history = options.history, history > maxHistory {
            return "history \(history) is above the maximum \(maxHistory)"
        }
        return nil
    }

    /// When `due(at:)` next has something to send; nil when nothing is held.
    var nextDeadline: UInt64? { wakeUps.nextDeadline }

    /// Addresses the filter keeps state for.
    var addressCount: Int { lanes.count }

    /// Decides what to do with a stream sample for this subscriber. `encoded` is the frame
    /// the fan-out made for everyone; a held sample keeps it and sends it later unchanged.
    mutating func offer(_ publish: Publish, encoded: [UInt8], at now: UInt64) -> StreamDecision {
        guard publish.signal == .stream else { return .deliver }
        let key = ExactText(publish.address)
        guard let index = laneIndex(key, publish.address, now) else { return .deliver }
        let rules = rules
        var out: [OutboundFrame] = []
        let outcome = lanes.values[index].offer(StreamSample(publish, encoded, rules), rules, at: now, into: &out)
        arm(index, key)
        pruneStale()
        guard !out.isEmpty else {
            switch outcome {
            case .now: return .deliver
            case .held: return .hold
            case .dropped: return .drop
            }
        }
        if outcome == .now { out.append(OutboundFrame(bytes: encoded, coalescing: .stream(publish.address))) }
        return .send(out)
    }

    /// What must go out by `now`: held samples whose interval ended, windows that closed —
    /// in the order of their deadlines.
    mutating func due(at now: UInt64) -> [OutboundFrame] {
        var out: [OutboundFrame] = []
        let rules = rules
        while let wake = wakeUps.popDue(at: now) {
            guard let index = lanes.index(forKey: wake.key) else { continue }
            lanes.values[index].woke(wake.at, rules, at: now, into: &out)
            arm(index, wake.key)
        }
        pruneStale()
        return out
    }

    private mutating func laneIndex(_ key: ExactText, _ address: String, _ now: UInt64) -> Dictionary<ExactText, StreamLane>.Index? {
        if let index = lanes.index(forKey: key) { return index }
        if lanes.count >= maxAddresses {
            guard now >= noIdleBefore else { return nil }
            lanes = lanes.filter { !$0.value.isIdle(at: now) }
            noIdleBefore = lanes.values.lazy.map(\.idleAt).min() ?? 0
            guard lanes.count < maxAddresses else { return nil }
        }
        lanes[key] = StreamLane(address: address)
        return lanes.index(forKey: key)
    }

    private mutating func arm(_ index: Dictionary<ExactText, StreamLane>.Index, _ key: ExactText) {
        if let at = lanes.values[index].rearm() {
            wakeUps.insert(WakeUp(key: key, at: at), deadline: at)
        }
    }

    /// Drops wake-ups at the head of the queue that no longer match their address's deadline
    /// (a held sample epsilon cancelled, a forgotten address), so `nextDeadline` is exact.
    private mutating func pruneStale() {
        while let wake = wakeUps.first {
            let index = lanes.index(forKey: wake.key)
            if let index, lanes.values[index].deadline == wake.at { return }
            _ = wakeUps.popDue(at: wake.at)
            if let index {
                lanes.values[index].forget(wake.at)
                arm(index, wake.key)
            }
        }
    }
}

/// The options as a `StreamFilter` applies them.
struct StreamRules {
    /// ns from one accepted sample to the next; 0 = no rate limit.
    let interval: UInt64
    let epsilon: Double?
    /// ns a window stays open; 0 = no window.
    let window: UInt64
}

/// One offered sample, with what the options need to know of its value.
struct StreamSample {
    let frame: [UInt8]
    /// The message timestamp (a window's batch carries its first sample's).
    let timestamp: UInt64?
    /// For epsilon; nil without epsilon or when the value is of another kind.
    let magnitude: StreamMagnitude?
    /// For windows: the f64s a batch would carry; nil without a window or for other kinds.
    let numbers: [Double]?

    init(_ publish: Publish, _ frame: [UInt8], _ rules: StreamRules) {
        self.frame = frame
        timestamp = publish.timestamp
        magnitude = rules.epsilon == nil ? nil : StreamMagnitude(publish)
        numbers = rules.window == 0 ? nil : Self.numbers(of: publish)
    }

    private static func numbers(of publish: Publish) -> [Double]? {
        switch publish.value {
        case .int(let integer)?: return Double(exactly: integer).map { [$0] }
        case .float(let float)?: return [float]
        case nil: return publish.samples.flatMap { $0.isEmpty ? nil : $0 }
        default: return nil
        }
    }
}

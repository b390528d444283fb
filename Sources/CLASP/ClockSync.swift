/// Estimates the offset between a local clock and a CLASP server's clock from SYNC exchanges
/// (wire-format §3.13, §4.11). Pure arithmetic: the caller takes the times and sends the frames.
///
/// Each exchange gives four times in µs: t1 (client send, local clock), t2 (server receive),
/// t3 (server send) and t4 (client receive, local clock). Its round trip is
/// (t4 − t1) − (t3 − t2) and its offset ((t2 − t1) + (t3 − t4)) / 2, with
/// server time = local time + offset. Whatever the two one-way delays are, the true offset lies
/// within ± round trip / 2 of a sample's offset, so a fast exchange is a precise one.
///
/// **Estimate.** The reference client smooths every sample into an exponential moving average
/// (weight 0.3). That gives weight to exchanges that sat in a queue, whose offset can be off by
/// up to half their long round trip, and it needs several samples to forget one. Here, as in
/// NTP's clock filter, the estimate comes from the fastest exchanges: of the last
/// ``windowSize`` samples the three with the lowest round trips are taken and the median of
/// their offsets is the estimate (with fewer than three samples, the fastest one). A slow
/// outlier is never among the fastest three, and a single fast but lopsided exchange (all of
/// its delay on one leg) is outvoted by the other two, so neither moves the estimate.
/// ``errorBound`` is half the round trip of the sample the estimate comes from.
///
/// Samples that cannot come from a real exchange (t4 before t1, t3 before t2, server hold time
/// longer than the whole exchange, values whose difference does not fit in 64 bits) are counted
/// in ``rejectedCount`` and otherwise ignored.
public struct ClockSync: Sendable, Equatable {
    /// One SYNC exchange.
    public struct Sample: Sendable, Equatable {
        /// µs, never negative.
        public let roundTrip: Int64
        /// µs; server time = local time + offset.
        public let offset: Int64

        /// `nil` for times no real exchange can produce.
        public init?(t1: UInt64, t2: UInt64, t3: UInt64, t4: UInt64) {
            guard t4 >= t1, t3 >= t2 else { return nil }
            let elapsed = t4 - t1
            let hold = t3 - t2
            guard hold <= elapsed, let roundTrip = Int64(exactly: elapsed - hold) else { return nil }
            // Each difference needs 65 bits in the worst case; their sum 66.
            let twiceOffset = (Int128(t2) - Int128(t1)) + (Int128(t3) - Int128(t4))
            guard let offset = Int64(exactly: twiceOffset / 2) else { return nil }
            self.roundTrip = roundTrip
            self.offset = offset
        }

        /// The true offset lies within ± this many µs of ``offset`` (half the round trip,
        /// rounded up).
        public var errorBound: Int64 { roundTrip / 2 + roundTrip % 2 }
    }

    /// Samples kept for the estimate and for ``jitter``.
    public static let windowSize = 10
    /// Fastest samples the estimate takes the median of.
    static let bestCount = 3

    /// The last ``windowSize`` accepted samples, oldest first.
    public private(set) var samples: [Sample] = []
    /// Samples accepted since creation (not only those still in the window).
    public private(set) var sampleCount = 0
    /// Samples refused as impossible since creation.
    public private(set) var rejectedCount = 0
    /// Estimated offset, µs: server time = local time + offset. 0 until the first sample.
    public private(set) var offset: Int64 = 0
    /// Round trip of the sample the estimate comes from, µs. 0 until the first sample.
    public private(set) var roundTrip: Int64 = 0

    public init() {}

    /// True once a sample has been accepted.
    public var isSynchronized: Bool { !samples.isEmpty }

    /// The true offset lies within ± this many µs of ``offset``; `Int64.max` until the first
    /// sample.
    public var errorBound: Int64 {
        isSynchronized ? roundTrip / 2 + roundTrip % 2 : .max
    }

    /// Standard deviation of the round trips in the window, µs (0 with fewer than two).
    public var jitter: Double {
        guard samples.count > 1 else { return 0 }
        let count = Double(samples.count)
        let mean = samples.reduce(0.0) { $0 + Double($1.roundTrip) } / count
        let variance = samples.reduce(0.0) { sum, sample in
            let deviation = Double(sample.roundTrip) - mean
            return sum + deviation * deviation
        } / count
        return variance.squareRoot()
    }

    /// Adds one exchange's times (µs); false, and nothing changes but ``rejectedCount``, when
    /// they are impossible.
    @discardableResult
    public mutating func add(t1: UInt64, t2: UInt64, t3: UInt64, t4: UInt64) -> Bool {
        guard let sample = Sample(t1: t1, t2: t2, t3: t3, t4: t4) else {
            rejectedCount += 1
            return false
        }
        add(sample)
        return true
    }

    public mutating func add(_ sample: Sample) {
        samples.append(sample)
        if samples.count > Self.windowSize { samples.removeFirst() }
        sampleCount += 1
        let chosen = Self.estimate(from: samples)
        offset = chosen.offset
        roundTrip = chosen.roundTrip
    }

    /// The server's clock at local time `local` (µs), clamped to the `UInt64` range.
    public func serverTime(atLocal local: UInt64) -> UInt64 {
        let time = Int128(local) + Int128(offset)
        return time < 0 ? 0 : UInt64(exactly: time) ?? .max
    }

    /// The sample whose offset is the median of the fastest ``bestCount`` (or the fastest
    /// one while fewer are known). `samples` is not empty.
    static func estimate(from samples: [Sample]) -> Sample {
        let fastest = samples.sorted { $0.roundTrip < $1.roundTrip }.prefix(bestCount)
        guard fastest.count == bestCount else { return fastest[fastest.startIndex] }
        return fastest.sorted { $0.offset < $1.offset }[bestCount / 2]
    }
}

import Histogram

/// Pairs each change the probe made to a universe with the first frame seen that shows it.
/// Touched on the probe's one event loop only.
final class ChangeTracker: @unchecked Sendable {
    private let sequence: LevelSequence
    /// Per universe: changes sent and not yet seen, oldest first (k, send time ns).
    private var pending: [Int: [(k: Int, sentAt: UInt64)]] = [:]
    /// Changes sent before this time are left out of the latency (warm-up).
    private let recordFrom: UInt64
    private(set) var latency = LatencyHistogram.make()
    private(set) var seen = 0
    private(set) var observations = 0
    private(set) var firstFrameAt: UInt64?
    private(set) var lastFrameAt: UInt64 = 0

    init(sequence: LevelSequence, recordFrom: UInt64) {
        self.sequence = sequence
        self.recordFrom = recordFrom
    }

    var pendingCount: Int { pending.values.reduce(0) { $0 + $1.count } }

    func sent(_ k: Int, universe: Int, at time: UInt64) {
        pending[universe, default: []].append((k, time))
    }

    /// A frame of `universe` seen at `time` (a packet, or the levels after a SET): the newest pending change it shows settles that
    /// one and every older one (applied in order, so shown too even if overwritten since).
    func observe(universe: Int, frame: [UInt8], at time: UInt64) {
        observations += 1
        if firstFrameAt == nil { firstFrameAt = time }
        lastFrameAt = time
        guard let queue = pending[universe], let newest = queue.lastIndex(where: { sequence.shows($0.k, in: frame) }) else { return }
        for change in queue[...newest] where change.sentAt >= recordFrom {
            latency.record(time &- change.sentAt)
        }
        seen += newest + 1
        pending[universe] = Array(queue[(newest + 1)...])
    }
}

public import Router

/// What happened to the batches handed to `SQLiteStateStore.write(_:)`, reported in order.
/// Each outcome covers every batch after the previous outcome's `through`, up to and
/// including `through`.
public enum StoreOutcome: Sendable, Equatable {
    /// On disk (fsynced): the batches survive a crash or power loss.
    case written(through: UInt64)
    /// Not written: their transaction was rolled back (disk full, I/O error, file made
    /// read-only, lock not obtained, …). The store drops these changes and keeps running —
    /// it does not retry them; the next batch is tried on its own and carries the latest
    /// state of the addresses it holds. The router reports this so that the writers of the
    /// failed batches (QoS commit) can be told; a param changed only in a failed batch stays
    /// at its older value on disk until it changes again.
    case failed(through: UInt64, reason: String)

    /// The highest batch sequence covered.
    public var through: UInt64 {
        switch self {
        case .written(let through), .failed(let through, _): return through
        }
    }
}

/// The state found in the file at open, for the router to start from.
public struct RestoredState: Sendable, Equatable {
    /// Every stored param that had not expired, ordered by address.
    public var params: [StoredParam]
    /// Every stored commit identity, by client, oldest first (at most
    /// `SQLiteStateStore.maxCommitsPerClient` per client).
    public var commits: [CommitRecord]
    /// Params whose expiry time had passed: not returned, and deleted from the file.
    public var expiredParamCount: Int
    /// Every stored timeline, ordered by address, ended or not: the router's
    /// `TimelineEngine.restore(_:now:currentValue:)` finishes those whose end has passed.
    public var timelines: [StoredTimeline]

    public init(
        params: [StoredParam] = [], commits: [CommitRecord] = [], expiredParamCount: Int = 0,
        timelines: [StoredTimeline] = []
    ) {
        self.params = params
        self.commits = commits
        self.expiredParamCount = expiredParamCount
        self.timelines = timelines
    }
}

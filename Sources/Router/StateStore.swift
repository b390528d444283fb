public import CLASP

/// Where the router keeps its state across restarts (design §2: the router opens no files; a
/// store is injected).
///
/// The router hands over batches on its own executor; `write` must return at once. A store
/// writes batches in the order given — it may merge queued batches into one transaction —
/// and reports each batch's outcome through the callback its owner installed, which the
/// host turns into `RouterCore.stored(through:)` or `RouterCore.storeFailed(through:reason:)`
/// on the router's executor.
public protocol StateStore: AnyObject, Sendable {
    func write(_ batch: StoreBatch)
}

/// A param as it is stored. Locks are session-bound and never stored: after a restart no
/// param is locked.
public struct StoredParam: Sendable, Equatable {
    public var address: String
    public var value: Value
    public var revision: UInt64
    /// CLASP session id of the last writer.
    public var writer: String
    /// Server time of the last write, µs since the epoch.
    public var timestamp: UInt64
    /// The TTL as last set on the wire (`nil`: none was ever set).
    public var ttl: TTL?
    /// When the param expires, server time in µs since the epoch; `nil`: never.
    public var expiresAt: UInt64?

    public init(
        address: String, value: Value, revision: UInt64, writer: String, timestamp: UInt64,
        ttl: TTL? = nil, expiresAt: UInt64? = nil
    ) {
        self.address = address
        self.value = value
        self.revision = revision
        self.writer = writer
        self.timestamp = timestamp
        self.ttl = ttl
        self.expiresAt = expiresAt
    }
}

/// The identity of an applied QoS-commit message, kept so that a retransmission (after a
/// reconnect, or after a gateway restart) is applied once. See `docs/router.md`, "QoS".
public struct CommitRecord: Sendable, Equatable, Hashable {
    /// The client's name from its HELLO.
    public var client: String
    /// The frame timestamp (header flag 0x20) the client gave the message, µs.
    public var timestamp: UInt64
    /// The SET's address; empty for a BUNDLE.
    public var address: String
    /// The revision the commit produced (the last SET's for a bundle; 0 when none), sent
    /// again in the ACK of a duplicate.
    public var revision: UInt64

    public init(client: String, timestamp: UInt64, address: String, revision: UInt64) {
        self.client = client
        self.timestamp = timestamp
        self.address = address
        self.revision = revision
    }
}

/// A timeline playing (or waiting for its start) at an address. Kept until it is stopped,
/// replaced or ends; restored with `TimelineEngine.restore(_:now:currentValue:)`.
public struct StoredTimeline: Sendable, Equatable {
    public var address: String
    public var definition: TimelineDefinition

    public init(address: String, definition: TimelineDefinition) {
        self.address = address
        self.definition = definition
    }
}

/// Changes since the previous batch. `upserts` holds each changed param's latest state
/// (one entry per address); `removals` the addresses that expired. Timelines likewise:
/// `timelineUpserts` the definitions played since (the latest per address),
/// `timelineRemovals` the addresses whose timeline was stopped or ended. An address is in
/// at most one of each pair; were it in both, the upsert would win.
public struct StoreBatch: Sendable, Equatable {
    /// Increases by one per batch, starting at 1.
    public var sequence: UInt64
    public var upserts: [StoredParam]
    public var removals: [String]
    public var commits: [CommitRecord]
    public var timelineUpserts: [StoredTimeline]
    public var timelineRemovals: [String]

    public init(
        sequence: UInt64, upserts: [StoredParam] = [], removals: [String] = [], commits: [CommitRecord] = [],
        timelineUpserts: [StoredTimeline] = [], timelineRemovals: [String] = []
    ) {
        self.sequence = sequence
        self.upserts = upserts
        self.removals = removals
        self.commits = commits
        self.timelineUpserts = timelineUpserts
        self.timelineRemovals = timelineRemovals
    }
}

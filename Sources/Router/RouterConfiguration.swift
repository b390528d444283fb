public import CLASP

/// Everything the router core can be told. Defaults are the gateway's embedded defaults.
public struct RouterConfiguration: Sendable, Equatable {
    /// Server name sent in WELCOME.
    public var name: String = "clasp-gateway"
    /// Feature bits sent in WELCOME.
    public var features: Features = .allSignals
    /// Connections beyond this are closed right away (`CloseReason.routerFull`).
    public var maxSessions: Int = 1_000
    /// A connection must send HELLO within this many seconds.
    public var handshakeTimeout: Double = 10
    /// A session that sends nothing for this long is closed (0 disables).
    public var idleTimeout: Double = 300
    /// SUBSCRIBE beyond this many per session answers ERROR 429.
    public var maxSubscriptionsPerSession: Int = 1_000
    /// Malformed frames tolerated per session per second before the connection is closed.
    public var maxBadFramesPerSecond: Int = 100
    /// Longest address or pattern, in UTF-8 bytes.
    public var maxAddressLength: Int = 1_024
    /// Params kept at most; a SET that would create one more is refused with ERROR 400.
    public var maxParams: Int = 100_000
    /// Encoded SNAPSHOT payloads are cut at this many bytes (≤ 65,535).
    public var snapshotChunkBytes: Int = 60_000
    /// Answer SET/PUBLISH/BUNDLE with ACK only when the frame asks (QoS confirm or commit).
    /// Turning this off is only for talking to reference clients that expect ACK always.
    public var ackOnlyWhenAsked: Bool = true
    /// Conflict strategy and value constraint per address pattern; the first matching rule
    /// applies, params no rule matches are last-writer-wins and unconstrained.
    public var paramRules: [ParamRule] = []
    /// Bundles waiting for their time, per session; one more answers ERROR 429.
    public var maxScheduledBundlesPerSession: Int = 1_000
    /// Farthest ahead a bundle may be scheduled, seconds; further answers ERROR 402.
    public var maxBundleHorizon: Double = 3_600
    /// Longest a change waits before it is handed to the store, seconds (a QoS-commit
    /// write is handed over at once).
    public var storeFlushInterval: Double = 0.1
    /// A gesture's moves reach each subscriber at most once per this many seconds (latest
    /// wins, never later than that).
    public var gestureMoveInterval: Double = 0.016
    /// A gesture that sees no message for this many seconds is cancelled.
    public var gestureTimeout: Double = 30
    /// How often playing timelines write their params, Hz.
    public var timelineTickRate: Double = 100

    public init() {}
}

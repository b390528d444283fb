import CLASP

/// The CLASP router: a deterministic state machine.
///
/// Not thread-safe by design: a host (`Transports.RouterHost`) confines it to one serial
/// executor and feeds it input — transport messages, disconnects and timer ticks. All
/// time comes from the injected `RouterClock`, all randomness from the injected generator,
/// so tests drive it in memory, step by step.
public final class RouterCore {
    public let configuration: RouterConfiguration
    let clock: any RouterClock
    var random: any RandomNumberGenerator

    var connections: [ConnectionID: Connection] = [:]
    var sessionsByID: [String: ConnectionID] = [:]
    var nextConnection: UInt64 = 1
    var params = ParamTable()
    var subscriptions = SubscriptionIndex()
    var signals: [String: SignalDefinition] = [:]
    /// Params with a TTL, by expiry (server time, µs); one entry per param (see `scheduleExpiry`).
    var expiries = DeadlineQueue<Expiry>()
    var queuedExpiry: [ExactText: UInt64] = [:]
    /// Bundles waiting for their time, by monotonic ns.
    var scheduledBundles = DeadlineQueue<ScheduledBundle>()
    var scheduledCommits: Swift.Set<CommitLog.Key> = []
    var commitLog = CommitLog()
    var gestures: GestureTracker
    var snapshotCache = SnapshotCache()
    var timelines = TimelineEngine()
    /// Session id of each playing timeline's publisher: the writer of its SETs.
    var timelineWriters: [ExactText: String] = [:]
    /// Recent stream samples per address, for subscriptions with `history`.
    var streamHistory = StreamHistory()
    /// Stream filters waiting for a wake-up, by monotonic ns; one entry per filter.
    var streamTimers = DeadlineQueue<(filter: StreamFilterKey, deadline: UInt64)>()
    var queuedStreamTimer: [StreamFilterKey: UInt64] = [:]
    /// Subscriptions that have a `StreamFilter` (when 0, stream fan-out takes the plain path).
    var streamFilterCount = 0
    var storeLink: StoreLink?
    /// Connections holding replies that wait for the store.
    var heldReplies: Swift.Set<ConnectionID> = []
    var requestedWakeUp: UInt64?
    /// A reply waits for changes not yet handed to the store.
    var commitWaitingOnPending = false

    /// Called with a monotonic time (ns, CLOCK_MONOTONIC) whenever the router needs
    /// `runTimers()` to run earlier than it asked before: a scheduled bundle, a TTL expiry
    /// or a store flush. The host arms a timer for it.
    public var wakeUpHandler: ((UInt64) -> Void)?

    /// - Parameters:
    ///   - store: where params and commit identities are kept; `nil` keeps state in memory
    ///     only (then QoS commit is acknowledged like confirm).
    ///   - restoring: what the store held at start-up.
    public init(
        configuration: RouterConfiguration,
        clock: any RouterClock = SystemClock(),
        random: any RandomNumberGenerator = SystemRandomNumberGenerator(),
        store: (any StateStore)? = nil,
        restoring restored: [StoredParam] = [],
        commits: [CommitRecord] = [],
        timelines storedTimelines: [StoredTimeline] = []
    ) {
        self.configuration = configuration
        self.clock = clock
        self.random = random
        gestures = GestureTracker(
            interval: Self.nanoseconds(configuration.gestureMoveInterval),
            timeout: Self.nanoseconds(configuration.gestureTimeout))
        if let store {
            storeLink = StoreLink(store: store, interval: Self.nanoseconds(configuration.storeFlushInterval))
        }
        let now = clock.wallMicroseconds()
        for param in restored where (param.expiresAt ?? .max) > now {
            params.restore(param)
            if let expiresAt = param.expiresAt { scheduleExpiry(ExactText(param.address), at: expiresAt) }
        }
        let finished = timelines.restore(storedTimelines, now: now) { [params] address in params[address]?.value }
        apply(finished)
        for commit in commits {
            commitLog.insert(
                CommitLog.Key(client: commit.client, timestamp: commit.timestamp, address: commit.address),
                CommitLog.Entry(revision: commit.revision, sequence: 0))
        }
    }

    // MARK: - Input from transports

    /// A transport accepted a connection. Returns `nil` when the router is at its session
    /// limit; the transport then closes the connection.
    /// - Parameter closesWhenIdle: `false` for in-process sessions (bridges), which may stay
    ///   silent for as long as their input is; the idle timeout is for remote peers.
    public func connect(_ connection: any SessionConnection, closesWhenIdle: Bool = true) -> ConnectionID? {
        guard connections.count < configuration.maxSessions else { return nil }
        let id = ConnectionID(rawValue: nextConnection)
        nextConnection += 1
        // A frame carries the header and, from the router, never a timestamp.
        let chunkBytes = min(configuration.snapshotChunkBytes, connection.maxFrameBytes - CodecLimits.headerLength)
        connections[id] = Connection(
            id: id, sink: connection, openedAt: clock.monotonicNanoseconds(), closesWhenIdle: closesWhenIdle,
            snapshotChunkBytes: max(1, chunkBytes))
        return id
    }

    /// One complete transport message (one CLASP frame) arrived.
    public func receive(_ bytes: UnsafeRawBufferPointer, from id: ConnectionID) {
        guard let connection = connections[id] else { return }
        connection.lastActivity = clock.monotonicNanoseconds()
        let frame: DecodedFrame
        do {
            frame = try FrameCodec.decode(bytes)
        } catch {
            reject(connection, id, code: error.isFrameLevel ? .invalidFrame : .invalidMessage, error.description)
            return
        }
        guard let session = connection.session else {
            handshake(frame, connection, id)
            return
        }
        handle(frame.message, frame.header, from: session, connection, id)
        flushIfCommitWaiting()
    }

    /// A text message arrived on a transport that carries binary frames only.
    public func receiveText(from id: ConnectionID) {
        guard let connection = connections[id] else { return }
        connection.lastActivity = clock.monotonicNanoseconds()
        reject(connection, id, code: .invalidMessage, "text messages are not CLASP frames; send binary messages")
    }

    /// The transport lost or closed the connection.
    public func disconnected(_ id: ConnectionID) {
        guard let connection = connections.removeValue(forKey: id) else { return }
        release(connection)
    }

    /// Timers: handshake and idle timeouts, and whatever `runTimers()` does. Call every
    /// 100 ms or so.
    public func tick() {
        runTimers()
        let now = clock.monotonicNanoseconds()
        let handshakeLimit = Self.nanoseconds(configuration.handshakeTimeout)
        let idleLimit = Self.nanoseconds(configuration.idleTimeout)
        for (id, connection) in connections {
            if connection.session == nil, now &- connection.openedAt >= handshakeLimit {
                close(id, .handshakeTimeout)
            } else if idleLimit > 0, connection.closesWhenIdle, now &- connection.lastActivity >= idleLimit {
                close(id, .idleTimeout)
            }
        }
    }

    /// Most scheduled bundles run in one call of `runTimers()`.
    static let bundlesPerTurn = 32

    /// Runs what is due: scheduled bundles, TTL expiries, the store flush. Call when the
    /// time given to `wakeUpHandler` comes (early or late calls are harmless).
    public func runTimers() {
        requestedWakeUp = nil
        let now = clock.monotonicNanoseconds()
        // A few at a time: the transports flush between turns, so the first bundles of a
        // cascade go out while the rest still run.
        if runDueBundles(at: clock.wallMicroseconds(), limit: Self.bundlesPerTurn) {
            requestedWakeUp = now
            wakeUpHandler?(now)
        }
        emit(gestures.due(at: now))
        runStreamTimers(at: now)
        runTimelines()
        expireParams()
        if let deadline = storeLink?.deadline, deadline <= clock.monotonicNanoseconds() {
            storeLink?.flush(params, timelines)
        }
        requestNextWakeUp()
    }

    /// The store wrote every batch up to `sequence`: replies waiting for them go out.
    public func stored(through sequence: UInt64) {
        storeLink?.written(through: sequence)
        releaseHeldReplies(through: sequence, failure: nil)
    }

    /// The store could not write the batches up to `sequence`. Their changes are kept and
    /// retried with the next batch; commit writers waiting on them get ERROR 500 instead of
    /// an ACK, so they know to retry.
    public func storeFailed(through sequence: UInt64, reason: String) {
        storeLink?.failed(through: sequence, now: clock.monotonicNanoseconds())
        releaseHeldReplies(through: sequence, failure: reason)
        requestNextWakeUp()
    }

    /// Hands everything changed so far to the store (at shutdown, before closing it).
    public func flushStore() {
        storeLink?.flush(params, timelines)
    }

    /// Closes every connection with `CloseReason.shutdown`.
    public func shutdown() {
        for id in Array(connections.keys) {
            close(id, .shutdown)
        }
    }

    public var connectionCount: Int { connections.count }
    public var sessionCount: Int { sessionsByID.count }
    public var paramCount: Int { params.count }
    /// Bundles waiting for their time.
    public var scheduledBundleCount: Int { scheduledBundles.count }
    /// Gestures started and not yet ended, cancelled or timed out.
    public var liveGestureCount: Int { gestures.count }

    // MARK: - Handshake

    func handshake(_ frame: DecodedFrame, _ connection: Connection, _ id: ConnectionID) {
        guard case .hello(let hello) = frame.message else {
            send(.error(ErrorMessage(
                code: ErrorCode.invalidMessage.rawValue,
                message: "expected HELLO as the first message, got \(frame.message.kind.name)"
            )), to: connection)
            close(id, .handshakeFailed("first message was \(frame.message.kind.name), not HELLO"))
            return
        }
        let session = Session(id: Self.uuid(using: &random), name: hello.name, features: hello.features)
        connection.session = session
        sessionsByID[session.id] = id
        send(.welcome(Welcome(
            features: configuration.features,
            time: clock.wallMicroseconds(),
            session: session.id,
            name: configuration.name
        )), to: connection)
        sendSnapshot(matching: nil, to: connection)
    }

    // MARK: - Dispatch

    func handle(_ message: Message, _ header: FrameHeader, from session: Session, _ connection: Connection, _ id: ConnectionID) {
        let qos = header.qos
        switch message {
        case .hello:
            reply(connection, .invalidMessage, "session already established; a second HELLO is refused")
        case .set(let set):
            handleSet(set, header, session, connection)
        case .get(let get):
            handleGet(get, connection)
        case .subscribe(let subscribe):
            handleSubscribe(subscribe, session, connection, id)
        case .unsubscribe(let unsubscribe):
            if let old = session.subscriptions.removeValue(forKey: unsubscribe.id) {
                subscriptions.remove(old)
                dropStreamFilter(unsubscribe.id, of: session)
            }
        case .publish(let publish):
            handlePublish(publish, header, session, connection, id)
        case .bundle(let bundle):
            handleBundle(bundle, header, session, connection, id)
        case .sync(let sync):
            let received = clock.wallMicroseconds()
            send(.sync(Sync(t1: sync.t1, t2: received, t3: clock.wallMicroseconds())), to: connection)
        case .ping:
            if let bytes = try? Message.pong.encodedFrame() { sendReply(bytes, to: connection) }
        case .pong:
            break
        case .announce(let announce):
            handleAnnounce(announce, qos: qos, connection)
        case .query(let query):
            handleQuery(query, connection)
        case .replay:
            reply(connection, .notImplemented, "REPLAY needs a journal, and this router keeps none")
        case .federationSync:
            if session.features.contains(.federation) {
                reply(connection, .notImplemented, "federation is not supported by this router")
            } else {
                reply(connection, .forbidden, "FederationSync requires federation feature")
            }
        case .welcome, .snapshot, .ack, .error, .result:
            // Router-to-client messages; a client echoing them changes nothing.
            break
        }
    }

    // MARK: - Connection lifecycle

    func close(_ id: ConnectionID, _ reason: CloseReason) {
        guard let connection = connections.removeValue(forKey: id) else { return }
        release(connection)
        connection.sink.close(reason)
    }

    /// Everything a session held is released with it: subscriptions, locks, bundles
    /// waiting for their time, replies waiting for the store.
    func release(_ connection: Connection) {
        guard let session = connection.session else { return }
        emit(gestures.sessionEnded(connection.id))
        streamFilterCount -= session.streamFilters.count
        for subscription in session.subscriptions.values {
            subscriptions.remove(subscription)
        }
        for key in session.locks {
            params.unlock(key)
        }
        if session.scheduledBundles > 0 {
            let id = connection.id
            scheduledBundles.removeAll { scheduled in
                guard scheduled.connection == id else { return false }
                if let identity = scheduled.identity { scheduledCommits.remove(identity) }
                return true
            }
        }
        heldReplies.remove(connection.id)
        sessionsByID[session.id] = nil
    }

    static func nanoseconds(_ seconds: Double) -> UInt64 {
        seconds > 0 ? UInt64(min(seconds, 1e9) * 1e9) : 0
    }

    /// µs as seconds for messages: `12.5`.
    static func seconds(_ microseconds: UInt64) -> String {
        (Double(microseconds) / 1e6).plainText
    }

    /// A random UUID v4, lowercase 8-4-4-4-12, as the reference's session ids.
    public static func uuid(using random: inout any RandomNumberGenerator) -> String {
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &random) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let digits = Array("0123456789abcdef")
        var text = ""
        text.reserveCapacity(36)
        for (index, byte) in bytes.enumerated() {
            if [4, 6, 8, 10].contains(index) { text.append("-") }
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return text
    }
}

/// Per-connection state.
final class Connection {
    let id: ConnectionID
    let sink: any SessionConnection
    let openedAt: UInt64
    let closesWhenIdle: Bool
    var lastActivity: UInt64
    var session: Session?
    var badFrames = 0
    var badFrameWindowStart: UInt64 = 0
    /// ACKs waiting for the store, oldest first.
    var heldReplies: [HeldReply] = []
    /// SNAPSHOT payloads are cut at this many bytes (the configured size, or less when the
    /// transport's frames are smaller).
    let snapshotChunkBytes: Int

    init(id: ConnectionID, sink: any SessionConnection, openedAt: UInt64, closesWhenIdle: Bool, snapshotChunkBytes: Int) {
        self.id = id
        self.sink = sink
        self.openedAt = openedAt
        self.closesWhenIdle = closesWhenIdle
        self.lastActivity = openedAt
        self.snapshotChunkBytes = snapshotChunkBytes
    }
}

/// A connection that completed the handshake.
final class Session {
    let id: String
    let name: String
    let features: Features
    var subscriptions: [UInt32: Subscription] = [:]
    /// Params this session holds the lock of.
    var locks: Swift.Set<ExactText> = []
    /// Its bundles waiting for their time.
    var scheduledBundles = 0
    /// Stream options of its subscriptions that have any, by subscription id.
    var streamFilters: [UInt32: StreamFilter] = [:]

    init(id: String, name: String, features: Features) {
        self.id = id
        self.name = name
        self.features = features
    }
}

/// One subscription's stream filter.
struct StreamFilterKey: Hashable {
    let connection: ConnectionID
    let subscription: UInt32
}

/// A reply that goes out once the store batch `sequence` is written.
struct HeldReply {
    let sequence: UInt64
    let frame: [UInt8]
    /// For a commit's ACK: its address (empty for a bundle) and the batch that must be
    /// written, for the ERROR 500 sent instead when that batch fails. `nil` for replies that
    /// only wait their turn.
    let commit: (address: String, batch: UInt64)?
}

/// Reserved P2P signalling addresses (wire-format §4.6).
enum P2P {
    static let signalPrefix = "/clasp/p2p/signal/"

    /// The target session of `/clasp/p2p/signal/<session id>`, nil for other addresses.
    static func target(of address: String) -> String? {
        guard address.hasPrefix(signalPrefix) else { return nil }
        let target = address.dropFirst(signalPrefix.count)
        return target.isEmpty || target.contains("/") ? nil : String(target)
    }
}

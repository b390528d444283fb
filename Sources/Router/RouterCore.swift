import CLASP

/// The CLASP router: a deterministic state machine.
///
/// Not thread-safe by design: a host (`Transports.RouterHost`) confines it to one serial
/// executor and feeds it input — transport messages, disconnects and timer ticks. All
/// time comes from the injected `RouterClock`, all randomness from the injected generator,
/// so tests drive it in memory, step by step.
public final class RouterCore {
    public let configuration: RouterConfiguration
    private let clock: any RouterClock
    private var random: any RandomNumberGenerator

    private var connections: [ConnectionID: Connection] = [:]
    private var sessionsByID: [String: ConnectionID] = [:]
    private var nextConnection: UInt64 = 1
    private var params = ParamTable()
    private var subscriptions = SubscriptionIndex()
    private var signals: [String: SignalDefinition] = [:]
    /// Params with a TTL, by expiry (server time, µs); one entry per param (see `scheduleExpiry`).
    private var expiries = DeadlineQueue<Expiry>()
    private var queuedExpiry: [ExactText: UInt64] = [:]
    /// Bundles waiting for their time, by monotonic ns.
    private var scheduledBundles = DeadlineQueue<ScheduledBundle>()
    private var scheduledCommits: Swift.Set<CommitLog.Key> = []
    private var commitLog = CommitLog()
    private var gestures: GestureTracker
    private var storeLink: StoreLink?
    /// Connections holding replies that wait for the store.
    private var heldReplies: Swift.Set<ConnectionID> = []
    private var requestedWakeUp: UInt64?
    /// A reply waits for changes not yet handed to the store.
    private var commitWaitingOnPending = false

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
        commits: [CommitRecord] = []
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
        for commit in commits {
            commitLog.insert(
                CommitLog.Key(client: commit.client, timestamp: commit.timestamp, address: commit.address),
                CommitLog.Entry(revision: commit.revision, sequence: 0))
        }
    }

    // MARK: - Input from transports

    /// A transport accepted a connection. Returns `nil` when the router is at its session
    /// limit; the transport then closes the connection.
    public func connect(_ connection: any SessionConnection) -> ConnectionID? {
        guard connections.count < configuration.maxSessions else { return nil }
        let id = ConnectionID(rawValue: nextConnection)
        nextConnection += 1
        connections[id] = Connection(id: id, sink: connection, openedAt: clock.monotonicNanoseconds())
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
            } else if idleLimit > 0, now &- connection.lastActivity >= idleLimit {
                close(id, .idleTimeout)
            }
        }
    }

    /// Runs what is due: scheduled bundles, TTL expiries, the store flush. Call when the
    /// time given to `wakeUpHandler` comes (early or late calls are harmless).
    public func runTimers() {
        requestedWakeUp = nil
        let now = clock.monotonicNanoseconds()
        while let due = scheduledBundles.popDue(at: now) {
            runScheduled(due)
        }
        emit(gestures.due(at: now))
        expireParams()
        if let deadline = storeLink?.deadline, deadline <= clock.monotonicNanoseconds() {
            storeLink?.flush(params)
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
        storeLink?.flush(params)
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

    private func handshake(_ frame: DecodedFrame, _ connection: Connection, _ id: ConnectionID) {
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
        sendSnapshot(params.states(matching: nil), to: connection, evenIfEmpty: true)
    }

    // MARK: - Dispatch

    private func handle(_ message: Message, _ header: FrameHeader, from session: Session, _ connection: Connection, _ id: ConnectionID) {
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
            }
        case .publish(let publish):
            handlePublish(publish, qos: qos, session, connection, id)
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

    // MARK: - Params

    private func handleSet(_ set: SetMessage, _ header: FrameHeader, _ session: Session, _ connection: Connection) {
        let identity = commitIdentity(header, session, address: set.address)
        if let identity, let original = commitLog[identity] {
            // A retransmitted commit: applied once; the ACK is repeated.
            acknowledge(Ack(address: set.address, revision: original.revision), qos: .commit, waitingFor: original.sequence, connection)
            return
        }
        let key = ExactText(set.address)
        let checked: CheckedSet
        switch check(set, key: key, by: session, current: params[key], newParams: 0) {
        case .failure(let refusal):
            reply(connection, refusal.code, refusal.message, address: set.address)
            return
        case .success(let result):
            checked = result
        }
        let param = apply(checked, by: session, coalescing: .param(set.address))
        if let identity { recordCommit(identity, revision: param.revision) }
        acknowledge(Ack(address: set.address, revision: param.revision), qos: header.qos, connection)
    }

    private struct Refusal: Error {
        let code: ErrorCode
        let message: String
    }

    /// A SET that passed every check, with what applying it will do.
    private struct CheckedSet {
        let set: SetMessage
        let key: ExactText
        /// The echo frame, carrying the revision the write will get.
        let echo: [UInt8]
        /// The param as it will be after the write (revision, value, lock), for later
        /// items of the same bundle.
        let result: Param
    }

    /// Everything that can refuse a SET, checked before anything changes (design §7):
    /// address, value constraint, lock, expected revision, conflict strategy, param limit,
    /// and whether the value could be sent back.
    private func check(_ set: SetMessage, key: ExactText, by session: Session, current: Param?, newParams: Int) -> Swift.Result<CheckedSet, Refusal> {
        if let problem = addressProblem(set.address) { return .failure(problem) }
        let rule = configuration.paramRules.isEmpty ? nil : configuration.paramRules.rule(for: set.address)
        if let rule, let problem = rule.constraint.problem(with: set.value) {
            return .failure(Refusal(code: .invalidValue, message: "invalid value for \(set.address): \(problem)"))
        }
        if let holder = current?.lockHolder, holder != session.id {
            let what = set.unlock ? "only the lock holder can unlock; " : ""
            return .failure(Refusal(code: .lockHeld, message: "\(what)lock held by \(holder)"))
        }
        if let current {
            if let expected = set.revision, expected != current.revision {
                return .failure(Refusal(code: .revisionConflict, message: "revision conflict: expected \(expected), actual \(current.revision)"))
            }
            if let refusal = rule?.strategy.refusal(old: current.value, new: set.value) {
                return .failure(Refusal(code: .revisionConflict, message: refusal))
            }
        } else if params.count + newParams >= configuration.maxParams {
            return .failure(Refusal(code: .revisionConflict, message: "param limit reached (max \(configuration.maxParams))"))
        }
        let lockHolder: String?
        if set.unlock {
            lockHolder = nil
        } else if set.lock || rule?.strategy == .lock {
            lockHolder = session.id
        } else {
            lockHolder = current?.lockHolder
        }
        var echo = set
        echo.revision = (current?.revision ?? 0) &+ 1
        // A value is stored only if it can be sent back: in this echo and in a snapshot entry.
        guard let bytes = try? Message.set(echo).encodedFrame(),
              SnapshotChunker.fitsEntry(address: set.address, value: set.value, echoFrameLength: bytes.count)
        else {
            return .failure(Refusal(code: .invalidValue, message: "value too large: it could not be sent back within the 65535-byte payload limit"))
        }
        let now = clock.wallMicroseconds()
        let expiry = Param.expiry(of: set, previous: current, at: now)
        let result = Param(
            value: set.value, revision: echo.revision ?? 1, writer: session.id, timestamp: now,
            ttl: expiry.ttl, expiresAt: expiry.expiresAt, lockHolder: lockHolder)
        return .success(CheckedSet(set: set, key: key, echo: bytes, result: result))
    }

    /// Applies a checked SET: state, lock, expiry, store, echo to subscribers.
    @discardableResult
    private func apply(_ checked: CheckedSet, by session: Session, coalescing: CoalescingKey?) -> Param {
        let key = checked.key
        let previousHolder = params[key]?.lockHolder
        let param = checked.result
        params[key] = param
        if param.lockHolder != previousHolder {
            if param.lockHolder == session.id { session.locks.insert(key) } else { session.locks.remove(key) }
        }
        var timersChanged = false
        if let expiresAt = param.expiresAt { timersChanged = scheduleExpiry(key, at: expiresAt) }
        if storeLink != nil {
            timersChanged = timersChanged || storeLink?.deadline == nil
            storeLink?.changed(key, now: clock.monotonicNanoseconds())
        }
        if timersChanged { requestNextWakeUp() }
        deliver(OutboundFrame(bytes: checked.echo, coalescing: coalescing), to: checked.set.address, signal: .param, excluding: nil)
        return param
    }

    private func handleGet(_ get: Get, _ connection: Connection) {
        if let problem = addressProblem(get.address) {
            reply(connection, problem.code, problem.message, address: get.address)
        } else if let param = params[get.address] {
            sendSnapshot([param.state(at: get.address)], to: connection, evenIfEmpty: true)
        } else {
            reply(connection, .addressNotFound, "address not found: \(get.address)", address: get.address)
        }
    }

    // MARK: - TTL

    /// Keeps one queue entry per param: a later write that moves the expiry further away
    /// leaves the entry in place, and the entry is re-armed when it comes due. A param
    /// written constantly with a sliding TTL so costs no queue growth.
    /// Returns whether an entry was added.
    @discardableResult
    private func scheduleExpiry(_ key: ExactText, at expiresAt: UInt64) -> Bool {
        if let queued = queuedExpiry[key], queued <= expiresAt { return false }
        queuedExpiry[key] = expiresAt
        expiries.insert(Expiry(key: key, at: expiresAt), deadline: expiresAt)
        return true
    }

    private struct Expiry {
        let key: ExactText
        let at: UInt64
    }

    /// Removes expired params and tells subscribers with a SET of null at the next revision.
    private func expireParams() {
        let now = clock.wallMicroseconds()
        while let entry = expiries.popDue(at: now) {
            // An entry replaced by an earlier one for the same param is stale.
            guard queuedExpiry[entry.key] == entry.at else { continue }
            queuedExpiry[entry.key] = nil
            guard let param = params[entry.key], let expiresAt = param.expiresAt else { continue }
            if expiresAt > now {
                scheduleExpiry(entry.key, at: expiresAt)
                continue
            }
            _ = params.remove(entry.key)
            if let holder = param.lockHolder, let holderID = sessionsByID[holder] {
                connections[holderID]?.session?.locks.remove(entry.key)
            }
            storeLink?.removed(entry.key, now: clock.monotonicNanoseconds())
            let address = String(entry.key.text)
            let tombstone = SetMessage(address: address, value: .null, revision: param.revision &+ 1)
            if let bytes = try? Message.set(tombstone).encodedFrame() {
                deliver(OutboundFrame(bytes: bytes, coalescing: .param(address)), to: address, signal: .param, excluding: nil)
            }
        }
    }

    // MARK: - Subscriptions

    private func handleSubscribe(_ subscribe: Subscribe, _ session: Session, _ connection: Connection, _ id: ConnectionID) {
        guard let pattern = parsePattern(subscribe.pattern, replyingTo: connection) else { return }
        let replacing = session.subscriptions[subscribe.id]
        if replacing == nil, session.subscriptions.count >= configuration.maxSubscriptionsPerSession {
            reply(connection, .limitReached, "subscription limit reached (max \(configuration.maxSubscriptionsPerSession))", address: subscribe.pattern)
            return
        }
        if let replacing { subscriptions.remove(replacing) }
        // Params another param subscription of this session already covers were sent with it
        // and are kept current by live updates: each param reaches a session once.
        let covered = session.subscriptions.values
            .filter { $0.id != subscribe.id && $0.types.admits(.param) }
            .map(\.pattern)
        let subscription = Subscription(connection: id, id: subscribe.id, pattern: pattern, types: subscribe.types)
        session.subscriptions[subscribe.id] = subscription
        subscriptions.insert(subscription)
        if subscribe.types.admits(.param) {
            sendSnapshot(params.states(matching: pattern, excluding: covered), to: connection, evenIfEmpty: false)
        }
    }

    // MARK: - Publish

    private func handlePublish(_ publish: Publish, qos: QoS, _ session: Session, _ connection: Connection, _ id: ConnectionID) {
        if let problem = addressProblem(publish.address) {
            reply(connection, problem.code, problem.message, address: publish.address)
            return
        }
        guard let bytes = encode(.publish(publish), replyingTo: connection, address: publish.address) else { return }
        if let target = P2P.target(of: publish.address) {
            guard let targetID = sessionsByID[target], let targetConnection = connections[targetID] else {
                reply(connection, .sessionNotFound, "target session not found: \(target)", address: publish.address)
                return
            }
            targetConnection.sink.send(OutboundFrame(bytes: bytes))
        } else if publish.signal == .gesture {
            emit(gestures.receive(publish, bytes: bytes, from: id, at: clock.monotonicNanoseconds()))
            requestNextWakeUp()
        } else {
            deliver(OutboundFrame(bytes: bytes, coalescing: Self.coalescing(publish)), to: publish.address, signal: publish.signal, excluding: id)
        }
        acknowledge(Ack(address: publish.address), qos: qos, connection)
    }

    private static func coalescing(_ publish: Publish) -> CoalescingKey? {
        switch (publish.signal, publish.phase) {
        case (.stream, _): return .stream(publish.address)
        case (.gesture, .move): return .gestureMove(publish.address, publish.id ?? 0)
        default: return nil
        }
    }

    /// Fans out what the gesture tracker releases.
    private func emit(_ emissions: [GestureTracker.Emission]) {
        for emission in emissions {
            let key: CoalescingKey? = emission.isMove ? .gestureMove(emission.address, emission.id) : nil
            deliver(OutboundFrame(bytes: emission.bytes, coalescing: key), to: emission.address, signal: .gesture, excluding: emission.excluding)
        }
    }

    // MARK: - Bundles

    /// A bundle waiting for its time.
    private struct ScheduledBundle {
        let connection: ConnectionID
        let bundle: BundleMessage
        let qos: QoS
        let identity: CommitLog.Key?
    }

    /// Checks what does not depend on state at once; runs the bundle now, or schedules it
    /// when its timestamp (server time) is in the future.
    private func handleBundle(_ bundle: BundleMessage, _ header: FrameHeader, _ session: Session, _ connection: Connection, _ id: ConnectionID) {
        let identity = commitIdentity(header, session, address: "")
        if let identity {
            if let original = commitLog[identity] {
                acknowledge(Ack(revision: original.revision == 0 ? nil : original.revision), qos: .commit, waitingFor: original.sequence, connection)
                return
            }
            if scheduledCommits.contains(identity) { return }  // the original is still waiting for its time
        }
        for (index, item) in bundle.messages.enumerated() {
            if let refusal = staticRefusal(item) {
                reply(connection, refusal.code, "bundle rejected at item \(index + 1): \(refusal.message)", address: Self.address(of: item))
                return
            }
        }
        let nowWall = clock.wallMicroseconds()
        guard let time = bundle.timestamp, time > nowWall else {
            runBundle(bundle, qos: header.qos, identity: identity, session, connection, id)
            return
        }
        let ahead = time - nowWall
        let horizon = UInt64(configuration.maxBundleHorizon * 1e6)
        if ahead > horizon {
            reply(connection, .invalidValue, "bundle time is \(Self.seconds(ahead)) s ahead; the limit is \(Self.seconds(horizon)) s")
            return
        }
        if session.scheduledBundles >= configuration.maxScheduledBundlesPerSession {
            reply(connection, .limitReached, "scheduled bundle limit reached (max \(configuration.maxScheduledBundlesPerSession) per session)")
            return
        }
        session.scheduledBundles += 1
        if let identity { scheduledCommits.insert(identity) }
        scheduledBundles.insert(
            ScheduledBundle(connection: id, bundle: bundle, qos: header.qos, identity: identity),
            deadline: clock.monotonicNanoseconds() &+ ahead &* 1_000)
        requestNextWakeUp()
    }

    private func runScheduled(_ scheduled: ScheduledBundle) {
        if let identity = scheduled.identity { scheduledCommits.remove(identity) }
        guard let connection = connections[scheduled.connection], let session = connection.session else { return }
        session.scheduledBundles -= 1
        runBundle(scheduled.bundle, qos: scheduled.qos, identity: scheduled.identity, session, connection, scheduled.connection)
        flushIfCommitWaiting()
    }

    /// What refuses a bundle item whatever the state: its kind, its address, its value's
    /// constraint.
    private func staticRefusal(_ item: Message) -> Refusal? {
        switch item {
        case .set(let set):
            if let problem = addressProblem(set.address) { return problem }
            if let rule = configuration.paramRules.rule(for: set.address), let problem = rule.constraint.problem(with: set.value) {
                return Refusal(code: .invalidValue, message: "invalid value for \(set.address): \(problem)")
            }
            return nil
        case .publish(let publish):
            return addressProblem(publish.address)
        default:
            return Refusal(code: .invalidMessage, message: "\(item.kind.name) cannot be bundled; only SET and PUBLISH can")
        }
    }

    /// All-or-nothing: every item is checked against the state as the earlier items will
    /// leave it; one refusal rejects the bundle and nothing changes. Items apply in the
    /// order sent, and their frames are never coalesced, so every subscriber receives a
    /// bundle's items back to back.
    private func runBundle(_ bundle: BundleMessage, qos: QoS, identity: CommitLog.Key?, _ session: Session, _ connection: Connection, _ id: ConnectionID) {
        var overlay: [ExactText: Param] = [:]  // params as the earlier items leave them
        var newParams = 0
        var checked: [CheckedSet?] = []
        for (index, item) in bundle.messages.enumerated() {
            var refusal: Refusal?
            switch item {
            case .set(let set):
                let key = ExactText(set.address)
                let current = overlay[key] ?? params[key]
                switch check(set, key: key, by: session, current: current, newParams: newParams) {
                case .failure(let problem):
                    refusal = problem
                case .success(let result):
                    if current == nil { newParams += 1 }
                    overlay[key] = result.result
                    checked.append(result)
                }
            case .publish(let publish):
                refusal = addressProblem(publish.address)
                checked.append(nil)
            default:
                refusal = staticRefusal(item)
            }
            if let refusal {
                reply(connection, refusal.code, "bundle rejected at item \(index + 1): \(refusal.message)", address: Self.address(of: item))
                return
            }
        }
        var lastRevision: UInt64?
        for (item, checkedSet) in zip(bundle.messages, checked) {
            if let checkedSet {
                lastRevision = apply(checkedSet, by: session, coalescing: nil).revision
            } else if case .publish(let publish) = item, let bytes = try? Message.publish(publish).encodedFrame() {
                deliver(OutboundFrame(bytes: bytes), to: publish.address, signal: publish.signal, excluding: id)
            }
        }
        if let identity { recordCommit(identity, revision: lastRevision ?? 0) }
        acknowledge(Ack(revision: lastRevision), qos: qos, connection)
    }

    private static func address(of message: Message) -> String? {
        switch message {
        case .set(let set): return set.address
        case .publish(let publish): return publish.address
        default: return nil
        }
    }

    // MARK: - QoS and durability

    /// The identity of a QoS-commit message, when it has one (a frame timestamp).
    private func commitIdentity(_ header: FrameHeader, _ session: Session, address: String) -> CommitLog.Key? {
        guard header.qos == .commit, let timestamp = header.timestamp else { return nil }
        return CommitLog.Key(client: session.name, timestamp: timestamp, address: address)
    }

    private func recordCommit(_ identity: CommitLog.Key, revision: UInt64) {
        guard let storeLink else {
            commitLog.insert(identity, CommitLog.Entry(revision: revision, sequence: 0))
            return
        }
        commitLog.insert(identity, CommitLog.Entry(revision: revision, sequence: storeLink.pendingSequence))
        self.storeLink?.record(
            CommitRecord(client: identity.client, timestamp: identity.timestamp, address: identity.address, revision: revision),
            now: clock.monotonicNanoseconds())
    }

    /// Sends an ACK as the QoS asks: none for fire (unless configured otherwise), at once
    /// for confirm, and for commit once the store holds the write.
    private func acknowledge(_ ack: Ack, qos: QoS, waitingFor sequence: UInt64? = nil, _ connection: Connection) {
        guard qos != .fire || !configuration.ackOnlyWhenAsked else { return }
        guard let bytes = try? Message.ack(ack).encodedFrame() else { return }
        guard qos == .commit, let storeLink else {
            sendReply(bytes, to: connection)
            return
        }
        let needed = sequence ?? storeLink.pendingSequence
        guard needed > storeLink.storedThrough else {
            sendReply(bytes, to: connection)
            return
        }
        let turn = max(needed, connection.heldReplies.last?.sequence ?? 0)
        hold(HeldReply(sequence: turn, frame: bytes, commit: (ack.address ?? "", needed)), connection)
        if needed >= storeLink.pendingSequence { commitWaitingOnPending = true }
    }

    /// Sends a reply (ACK, ERROR, PONG) — behind any reply of the session still waiting for
    /// the store, so a session's replies never overtake each other. Snapshots and echoes are
    /// state, not replies: they go out at once so they stay in order with later updates.
    private func sendReply(_ bytes: [UInt8], to connection: Connection) {
        guard let last = connection.heldReplies.last else {
            connection.sink.send(OutboundFrame(bytes: bytes))
            return
        }
        hold(HeldReply(sequence: last.sequence, frame: bytes, commit: nil), connection)
    }

    private func hold(_ reply: HeldReply, _ connection: Connection) {
        connection.heldReplies.append(reply)
        heldReplies.insert(connection.id)
    }

    /// A commit waits on the pending batch: hand it over now rather than at the interval.
    private func flushIfCommitWaiting() {
        guard commitWaitingOnPending, storeLink?.hasPendingChanges == true else { return }
        commitWaitingOnPending = false
        storeLink?.flush(params)
    }

    private func releaseHeldReplies(through sequence: UInt64, failure: String?) {
        for id in heldReplies {
            guard let connection = connections[id] else {
                heldReplies.remove(id)
                continue
            }
            while let first = connection.heldReplies.first, first.sequence <= sequence {
                connection.heldReplies.removeFirst()
                if failure != nil, let commit = first.commit, commit.batch > (storeLink?.storedThrough ?? 0) {
                    let address = commit.address
                    let error = ErrorMessage(
                        code: ErrorCode.internalError.rawValue, message: "not stored: \(failure ?? ""); send it again",
                        address: address.isEmpty ? nil : address)
                    send(.error(error), to: connection)
                } else {
                    connection.sink.send(OutboundFrame(bytes: first.frame))
                }
            }
            if connection.heldReplies.isEmpty { heldReplies.remove(id) }
        }
    }

    // MARK: - Timers

    private func requestNextWakeUp() {
        var next = scheduledBundles.nextDeadline
        if let deadline = storeLink?.deadline { next = min(next ?? .max, deadline) }
        if let deadline = gestures.nextDeadline { next = min(next ?? .max, deadline) }
        if let expiresAt = expiries.nextDeadline {
            let nowWall = clock.wallMicroseconds()
            let inMono = clock.monotonicNanoseconds() &+ (expiresAt > nowWall ? (expiresAt - nowWall) &* 1_000 : 0)
            next = min(next ?? .max, inMono)
        }
        guard let next else { return }
        if let requested = requestedWakeUp, requested <= next { return }
        requestedWakeUp = next
        wakeUpHandler?(next)
    }

    // MARK: - Signals

    private func handleAnnounce(_ announce: Announce, qos: QoS, _ connection: Connection) {
        for signal in announce.signals {
            signals[signal.address] = signal
        }
        acknowledge(Ack(address: announce.namespace), qos: qos, connection)
    }

    private func handleQuery(_ query: Query, _ connection: Connection) {
        guard let pattern = parsePattern(query.pattern, replyingTo: connection) else { return }
        let found = signals.values
            .filter { pattern.matches($0.address) }
            .sorted { $0.address < $1.address }
            .map { SignalDefinition(address: $0.address, signal: $0.signal, datatype: $0.datatype, access: $0.access) }
        send(.result(QueryResult(signals: found)), to: connection)
    }

    // MARK: - Delivery

    /// Encodes once; hands the same bytes to every matching session (each once, however
    /// many of its subscriptions match).
    private func deliver(_ frame: OutboundFrame, to address: String, signal: SignalType, excluding sender: ConnectionID?) {
        let matches = subscriptions.matches(address)
        if matches.count == 1 {
            let only = matches[0]
            if only.connection != sender, only.types.admits(signal) {
                connections[only.connection]?.sink.send(frame)
            }
            return
        }
        var served: Swift.Set<ConnectionID> = []
        for subscription in matches where subscription.connection != sender && subscription.types.admits(signal) {
            guard served.insert(subscription.connection).inserted else { continue }
            connections[subscription.connection]?.sink.send(frame)
        }
    }

    private func sendSnapshot(_ states: [ParamState], to connection: Connection, evenIfEmpty: Bool) {
        guard !states.isEmpty || evenIfEmpty else { return }
        for bytes in SnapshotChunker.frames(for: states, chunkBytes: configuration.snapshotChunkBytes) {
            connection.sink.send(OutboundFrame(bytes: bytes))
        }
    }

    private func send(_ message: Message, to connection: Connection) {
        guard let bytes = try? message.encodedFrame() else { return }
        connection.sink.send(OutboundFrame(bytes: bytes))
    }

    /// Encodes a message to forward; a message that cannot be re-encoded gets ERROR 402.
    private func encode(_ message: Message, replyingTo connection: Connection, address: String) -> [UInt8]? {
        do {
            return try message.encodedFrame()
        } catch {
            reply(connection, .invalidValue, "message cannot be forwarded: \(error)", address: address)
            return nil
        }
    }

    private func reply(_ connection: Connection, _ code: ErrorCode, _ message: String, address: String? = nil) {
        guard let bytes = try? Message.error(ErrorMessage(code: code.rawValue, message: message, address: address)).encodedFrame() else { return }
        sendReply(bytes, to: connection)
    }

    /// Answers a malformed frame. Before HELLO it ends the connection; after it, the
    /// connection survives unless bad frames keep coming.
    private func reject(_ connection: Connection, _ id: ConnectionID, code: ErrorCode, _ reason: String) {
        reply(connection, code, reason)
        guard connection.session != nil else {
            close(id, .handshakeFailed(reason))
            return
        }
        let now = clock.monotonicNanoseconds()
        if now &- connection.badFrameWindowStart >= 1_000_000_000 {
            connection.badFrameWindowStart = now
            connection.badFrames = 0
        }
        connection.badFrames += 1
        if connection.badFrames > configuration.maxBadFramesPerSecond {
            close(id, .tooManyBadFrames)
        }
    }

    /// The parsed pattern, or nil after answering ERROR 202 with the reference's text.
    private func parsePattern(_ text: String, replyingTo connection: Connection) -> AddressPattern? {
        do {
            return try AddressPattern(text, maxLength: configuration.maxAddressLength)
        } catch {
            reply(connection, .invalidPattern, "invalid address: \(error)", address: text)
            return nil
        }
    }

    private func addressProblem(_ address: String) -> Refusal? {
        do {
            try Address.validate(address, maxLength: configuration.maxAddressLength)
            return nil
        } catch {
            return Refusal(code: .invalidAddress, message: "invalid address: \(error)")
        }
    }

    // MARK: - Connection lifecycle

    private func close(_ id: ConnectionID, _ reason: CloseReason) {
        guard let connection = connections.removeValue(forKey: id) else { return }
        release(connection)
        connection.sink.close(reason)
    }

    /// Everything a session held is released with it: subscriptions, locks, bundles
    /// waiting for their time, replies waiting for the store.
    private func release(_ connection: Connection) {
        guard let session = connection.session else { return }
        emit(gestures.sessionEnded(connection.id))
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

    private static func nanoseconds(_ seconds: Double) -> UInt64 {
        seconds > 0 ? UInt64(min(seconds, 1e9) * 1e9) : 0
    }

    /// µs as seconds for messages: `12.5`.
    private static func seconds(_ microseconds: UInt64) -> String {
        (Double(microseconds) / 1e6).plainText
    }

    /// A random UUID v4, lowercase 8-4-4-4-12, as the reference's session ids.
    static func uuid(using random: inout any RandomNumberGenerator) -> String {
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
private final class Connection {
    let id: ConnectionID
    let sink: any SessionConnection
    let openedAt: UInt64
    var lastActivity: UInt64
    var session: Session?
    var badFrames = 0
    var badFrameWindowStart: UInt64 = 0
    /// ACKs waiting for the store, oldest first.
    var heldReplies: [HeldReply] = []

    init(id: ConnectionID, sink: any SessionConnection, openedAt: UInt64) {
        self.id = id
        self.sink = sink
        self.openedAt = openedAt
        self.lastActivity = openedAt
    }
}

/// A connection that completed the handshake.
private final class Session {
    let id: String
    let name: String
    let features: Features
    var subscriptions: [UInt32: Subscription] = [:]
    /// Params this session holds the lock of.
    var locks: Swift.Set<ExactText> = []
    /// Its bundles waiting for their time.
    var scheduledBundles = 0

    init(id: String, name: String, features: Features) {
        self.id = id
        self.name = name
        self.features = features
    }
}

/// A reply that goes out once the store batch `sequence` is written.
private struct HeldReply {
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

import CLASP

// Subscriptions, PUBLISH routing (P2P, gestures), ANNOUNCE/QUERY, and how frames reach
// sessions: fan-out, snapshots, replies. docs/router.md "Subscriptions and delivery".

extension RouterCore {
    // MARK: - Subscriptions

    func handleSubscribe(_ subscribe: Subscribe, _ session: Session, _ connection: Connection, _ id: ConnectionID) {
        guard let pattern = parsePattern(subscribe.pattern, replyingTo: connection) else { return }
        if let options = subscribe.options, let problem = StreamFilter.validate(options) {
            reply(connection, .invalidValue, "invalid subscription options: \(problem)", address: subscribe.pattern)
            return
        }
        let replacing = session.subscriptions[subscribe.id]
        if replacing == nil, session.subscriptions.count >= configuration.maxSubscriptionsPerSession {
            reply(connection, .limitReached, "subscription limit reached (max \(configuration.maxSubscriptionsPerSession))", address: subscribe.pattern)
            return
        }
        if let replacing {
            subscriptions.remove(replacing)
            dropStreamFilter(subscribe.id, of: session)
        }
        if let options = subscribe.options, let filter = StreamFilter(options) {
            session.streamFilters[subscribe.id] = filter
            streamFilterCount += 1
        }
        // Params another param subscription of this session already covers were sent with it
        // and are kept current by live updates: each param reaches a session once.
        let covered = session.subscriptions.values
            .filter { $0.id != subscribe.id && $0.types.admits(.param) }
            .map(\.pattern)
        let subscription = Subscription(connection: id, id: subscribe.id, pattern: pattern, types: subscribe.types)
        session.subscriptions[subscribe.id] = subscription
        subscriptions.insert(subscription)
        if subscribe.types.admits(.param) {
            if covered.isEmpty {
                sendSnapshot(matching: pattern, to: connection, evenIfEmpty: false)
            } else {
                sendSnapshot(params.states(matching: pattern, excluding: covered), to: connection, evenIfEmpty: false)
            }
        }
        if subscribe.types.admits(.timeline) {
            sendTimelines(matching: pattern, to: connection)
        }
        if let history = subscribe.options?.history, history > 0, subscribe.types.admits(.stream) {
            for bytes in streamHistory.last(Int(history), matching: pattern) {
                transmit(OutboundFrame(bytes: bytes, coalescing: nil), to: connection)
            }
        }
    }

    // MARK: - Publish

    func handlePublish(_ publish: Publish, _ header: FrameHeader, _ session: Session, _ connection: Connection, _ id: ConnectionID) {
        let qos = header.qos
        let identity = messageIdentity(header, session, address: publish.address)
        if let identity, commitLog[identity] != nil {
            // A retransmission: delivered once; the ACK is repeated.
            acknowledge(Ack(address: publish.address), qos: qos, connection)
            return
        }
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
            transmit(OutboundFrame(bytes: bytes), to: targetConnection)
        } else if publish.signal == .stream {
            streamHistory.record(publish, encoded: bytes)
            deliverStream(publish, OutboundFrame(bytes: bytes, coalescing: .stream(publish.address)), excluding: id)
        } else if publish.signal == .timeline {
            handleTimeline(publish, qos: qos, session, connection, id)
            return
        } else if publish.signal == .gesture {
            emit(gestures.receive(publish, bytes: bytes, from: id, at: clock.monotonicNanoseconds()))
            if let deadline = gestures.nextDeadline { requestWakeUp(at: deadline) }
        } else {
            deliver(OutboundFrame(bytes: bytes, coalescing: Self.coalescing(publish)), to: publish.address, signal: publish.signal, excluding: id)
        }
        // Kept in memory only: a PUBLISH changes no state the store could hold.
        if let identity { recordIdentity(identity, revision: 0, durable: false) }
        acknowledge(Ack(address: publish.address), qos: qos, connection)
    }

    static func coalescing(_ publish: Publish) -> CoalescingKey? {
        switch (publish.signal, publish.phase) {
        case (.stream, _): return .stream(publish.address)
        case (.gesture, .move): return .gestureMove(publish.address, publish.id ?? 0)
        default: return nil
        }
    }

    /// Fans out what the gesture tracker releases.
    /// Hands one frame to a connection's transport, counted for the metrics.
    @inline(__always)
    func transmit(_ frame: OutboundFrame, to connection: Connection) {
        statistics.countSent(frame.bytes)
        connection.sink.send(frame)
    }

    func emit(_ emissions: [GestureTracker.Emission]) {
        for emission in emissions {
            let key: CoalescingKey? = emission.isMove ? .gestureMove(emission.address, emission.id) : nil
            deliver(OutboundFrame(bytes: emission.bytes, coalescing: key), to: emission.address, signal: .gesture, excluding: emission.excluding)
        }
    }

    // MARK: - Signals

    func handleAnnounce(_ announce: Announce, qos: QoS, _ connection: Connection) {
        for signal in announce.signals {
            signals[signal.address] = signal
        }
        acknowledge(Ack(address: announce.namespace), qos: qos, connection)
    }

    func handleQuery(_ query: Query, _ connection: Connection) {
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
    func deliver(_ frame: OutboundFrame, to address: String, signal: SignalType, excluding sender: ConnectionID?) {
        let matches = subscriptions.lookup(address)
        if matches.onePerConnection {
            for subscription in matches.subscriptions where subscription.connection != sender && subscription.types.admits(signal) {
                if let recipient = connections[subscription.connection] { transmit(frame, to: recipient) }
            }
            return
        }
        var served: Swift.Set<ConnectionID> = []
        for subscription in matches.subscriptions where subscription.connection != sender && subscription.types.admits(signal) {
            guard served.insert(subscription.connection).inserted else { continue }
            if let recipient = connections[subscription.connection] { transmit(frame, to: recipient) }
        }
    }

    /// A stream sample: subscribers with stream options get what their filter lets through;
    /// the others the shared frame. A session whose matching subscriptions include one
    /// without options gets the plain frame; otherwise its lowest-id filter decides, so a
    /// sample is never sent twice to one session.
    func deliverStream(_ publish: Publish, _ frame: OutboundFrame, excluding sender: ConnectionID) {
        guard streamFilterCount > 0 else {
            deliver(frame, to: publish.address, signal: .stream, excluding: sender)
            return
        }
        // Sessions served the plain frame, and for the others the filter that decides.
        var plain: Swift.Set<ConnectionID> = []
        var filtered: [ConnectionID: UInt32] = [:]
        for subscription in subscriptions.matches(publish.address)
        where subscription.connection != sender && subscription.types.admits(.stream) {
            guard !plain.contains(subscription.connection),
                  let connection = connections[subscription.connection], let session = connection.session
            else { continue }
            if session.streamFilters[subscription.id] == nil {
                plain.insert(subscription.connection)
                filtered[subscription.connection] = nil
                transmit(frame, to: connection)
            } else {
                filtered[subscription.connection] = Swift.min(filtered[subscription.connection] ?? .max, subscription.id)
            }
        }
        guard !filtered.isEmpty else { return }
        let now = clock.monotonicNanoseconds()
        for (connectionID, filterID) in filtered {
            guard let connection = connections[connectionID], let session = connection.session else { continue }
            switch session.streamFilters[filterID]?.offer(publish, encoded: frame.bytes, at: now) {
            case .deliver?, nil: transmit(frame, to: connection)
            case .send(let frames)?: for frame in frames { transmit(frame, to: connection) }
            case .hold?, .drop?: break
            }
            scheduleStreamTimer(StreamFilterKey(connection: connectionID, subscription: filterID), session)
        }
    }

    func scheduleStreamTimer(_ key: StreamFilterKey, _ session: Session) {
        guard let deadline = session.streamFilters[key.subscription]?.nextDeadline else { return }
        if let queued = queuedStreamTimer[key], queued <= deadline { return }
        queuedStreamTimer[key] = deadline
        streamTimers.insert((key, deadline), deadline: deadline)
        requestWakeUp(at: deadline)
    }

    /// Sends what stream filters release now (trailing-edge samples, closed windows).
    func runStreamTimers(at now: UInt64) {
        while let entry = streamTimers.popDue(at: now) {
            guard queuedStreamTimer[entry.filter] == entry.deadline else { continue }
            queuedStreamTimer[entry.filter] = nil
            guard let connection = connections[entry.filter.connection], let session = connection.session,
                  session.streamFilters[entry.filter.subscription] != nil
            else { continue }
            let frames = session.streamFilters[entry.filter.subscription]?.due(at: now) ?? []
            for frame in frames { transmit(frame, to: connection) }
            scheduleStreamTimer(entry.filter, session)
        }
    }

    func dropStreamFilter(_ id: UInt32, of session: Session) {
        if session.streamFilters.removeValue(forKey: id) != nil { streamFilterCount -= 1 }
    }

    /// The params matching `pattern` (all when nil), from the snapshot cache. An empty state
    /// sends one empty SNAPSHOT only when `evenIfEmpty`.
    func sendSnapshot(matching pattern: AddressPattern?, to connection: Connection, evenIfEmpty: Bool = true) {
        let snapshot = snapshotCache.frames(for: pattern, in: params, chunkBytes: connection.snapshotChunkBytes)
        guard evenIfEmpty || !snapshot.isEmpty else { return }
        for bytes in snapshot.frames {
            transmit(OutboundFrame(bytes: bytes), to: connection)
        }
    }

    func sendSnapshot(_ states: [ParamState], to connection: Connection, evenIfEmpty: Bool) {
        guard !states.isEmpty || evenIfEmpty else { return }
        for bytes in SnapshotChunker.frames(for: states, chunkBytes: connection.snapshotChunkBytes) {
            transmit(OutboundFrame(bytes: bytes), to: connection)
        }
    }

    func send(_ message: Message, to connection: Connection) {
        guard let bytes = try? message.encodedFrame() else { return }
        transmit(OutboundFrame(bytes: bytes), to: connection)
    }

    /// Encodes a message to forward; a message that cannot be re-encoded gets ERROR 402.
    func encode(_ message: Message, replyingTo connection: Connection, address: String) -> [UInt8]? {
        do {
            return try message.encodedFrame()
        } catch {
            reply(connection, .invalidValue, "message cannot be forwarded: \(error)", address: address)
            return nil
        }
    }

    func reply(_ connection: Connection, _ code: ErrorCode, _ message: String, address: String? = nil) {
        statistics.countError(code.rawValue)
        guard let bytes = try? Message.error(ErrorMessage(code: code.rawValue, message: message, address: address)).encodedFrame() else { return }
        sendReply(bytes, to: connection)
    }

    /// Answers a malformed frame. Before HELLO it ends the connection; after it, the
    /// connection survives unless bad frames keep coming.
    func reject(_ connection: Connection, _ id: ConnectionID, code: ErrorCode, _ reason: String) {
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
    func parsePattern(_ text: String, replyingTo connection: Connection) -> AddressPattern? {
        do {
            return try AddressPattern(text, maxLength: configuration.maxAddressLength)
        } catch {
            reply(connection, .invalidPattern, "invalid address: \(error)", address: text)
            return nil
        }
    }

    func addressProblem(_ address: String) -> Refusal? {
        do {
            try Address.validate(address, maxLength: configuration.maxAddressLength)
            return nil
        } catch {
            return Refusal(code: .invalidAddress, message: "invalid address: \(error)")
        }
    }
}

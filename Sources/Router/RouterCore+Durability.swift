import CLASP

// QoS replies, commit identities, the store link and the wake-up timer.
// docs/router.md "QoS and ACK", "Durability".

extension RouterCore {
    // MARK: - QoS and durability

    /// The identity of a QoS confirm or commit message, when it has one (a frame timestamp):
    /// a retransmission of it is answered, not applied again.
    func messageIdentity(_ header: FrameHeader, _ session: Session, address: String) -> CommitLog.Key? {
        guard header.qos != .fire, let timestamp = header.timestamp else { return nil }
        return CommitLog.Key(client: session.name, timestamp: timestamp, address: address)
    }

    /// Remembers an applied message's identity; a commit's (`durable`) also goes to the store.
    func recordIdentity(_ identity: CommitLog.Key, revision: UInt64, durable: Bool) {
        guard durable, let storeLink else {
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
    func acknowledge(_ ack: Ack, qos: QoS, waitingFor sequence: UInt64? = nil, _ connection: Connection) {
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
    func sendReply(_ bytes: [UInt8], to connection: Connection) {
        guard let last = connection.heldReplies.last else {
            transmit(OutboundFrame(bytes: bytes), to: connection)
            return
        }
        hold(HeldReply(sequence: last.sequence, frame: bytes, commit: nil), connection)
    }

    func hold(_ reply: HeldReply, _ connection: Connection) {
        connection.heldReplies.append(reply)
        heldReplies.insert(connection.id)
    }

    /// A commit waits on the pending batch: hand it over now rather than at the interval.
    func flushIfCommitWaiting() {
        guard commitWaitingOnPending, storeLink?.hasPendingChanges == true else { return }
        commitWaitingOnPending = false
        storeLink?.flush(params, timelines, now: clock.monotonicNanoseconds())
    }

    func releaseHeldReplies(through sequence: UInt64, failure: String?) {
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
                    statistics.countError(error.code)
                    send(.error(error), to: connection)
                } else {
                    transmit(OutboundFrame(bytes: first.frame), to: connection)
                }
            }
            if connection.heldReplies.isEmpty { heldReplies.remove(id) }
        }
    }

    // MARK: - Timers

    /// Asks for a wake-up at the earliest of every timer. Looks at all of them (the timeline
    /// engine's answer costs one pass over its timelines), so it runs once per `runTimers()`
    /// and on rare changes; a hot path that adds one deadline calls `requestWakeUp(at:)`.
    func requestNextWakeUp() {
        var next: UInt64?
        if let due = scheduledBundles.nextDeadline { next = monotonic(fromServerTime: due) }
        if let deadline = storeLink?.deadline { next = min(next ?? .max, deadline) }
        if let deadline = gestures.nextDeadline { next = min(next ?? .max, deadline) }
        if let deadline = streamTimers.nextDeadline { next = min(next ?? .max, deadline) }
        if let deadline = timelineDeadline { next = min(next ?? .max, deadline) }
        if let expiresAt = expiries.nextDeadline { next = min(next ?? .max, monotonic(fromServerTime: expiresAt)) }
        if let next { requestWakeUp(at: next) }
    }

    /// Asks the host for a wake-up at `deadline` (monotonic ns) unless an earlier one is
    /// already asked for: what a new timer entry needs, in O(1).
    func requestWakeUp(at deadline: UInt64) {
        if let requested = requestedWakeUp, requested <= deadline { return }
        requestedWakeUp = deadline
        wakeUpHandler?(deadline)
    }

    /// A server time (µs since the epoch) as a monotonic deadline (ns); past times are now.
    func monotonic(fromServerTime wall: UInt64) -> UInt64 {
        let nowWall = clock.wallMicroseconds()
        return clock.monotonicNanoseconds() &+ (wall > nowWall ? (wall - nowWall) &* 1_000 : 0)
    }
}

import CLASP

// BUNDLE: checked on receipt, scheduled at its time, run all-or-nothing in order.
// docs/router.md "Bundles".

extension RouterCore {
    // MARK: - Bundles

    /// A bundle waiting for its time.
    struct ScheduledBundle {
        let connection: ConnectionID
        let bundle: BundleMessage
        let qos: QoS
        let identity: CommitLog.Key?
    }

    /// Checks what does not depend on state at once; runs the bundle now, or schedules it
    /// when its timestamp (server time) is in the future.
    func handleBundle(_ bundle: BundleMessage, _ header: FrameHeader, _ session: Session, _ connection: Connection, _ id: ConnectionID) {
        let identity = messageIdentity(header, session, address: "")
        if let identity {
            if let original = commitLog[identity] {
                acknowledge(Ack(revision: original.revision == 0 ? nil : original.revision), qos: header.qos, waitingFor: original.sequence, connection)
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
            // Bundles already due go first, so none is overtaken by a later arrival.
            runDueBundles(at: nowWall, limit: .max)
            guard connections[id] != nil else { return }
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
        // Ordered by the time as sent (server µs), then by arrival: bundles due at one
        // instant run in the order they came.
        scheduledBundles.insert(ScheduledBundle(connection: id, bundle: bundle, qos: header.qos, identity: identity), deadline: time)
        requestWakeUp(at: monotonic(fromServerTime: time))
    }

    /// Runs the scheduled bundles due at `now` (server µs), at most `limit` of them; returns
    /// whether more are due.
    @discardableResult
    func runDueBundles(at now: UInt64, limit: Int) -> Bool {
        var ran = 0
        while ran < limit, let due = scheduledBundles.popDue(at: now) {
            runScheduled(due)
            ran += 1
        }
        return (scheduledBundles.nextDeadline ?? .max) <= now
    }

    func runScheduled(_ scheduled: ScheduledBundle) {
        if let identity = scheduled.identity { scheduledCommits.remove(identity) }
        guard let connection = connections[scheduled.connection], let session = connection.session else { return }
        session.scheduledBundles -= 1
        runBundle(scheduled.bundle, qos: scheduled.qos, identity: scheduled.identity, session, connection, scheduled.connection)
        flushIfCommitWaiting()
    }

    /// What refuses a bundle item whatever the state: its kind, its address, its value's
    /// constraint.
    func staticRefusal(_ item: Message) -> Refusal? {
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
    func runBundle(_ bundle: BundleMessage, qos: QoS, identity: CommitLog.Key?, _ session: Session, _ connection: Connection, _ id: ConnectionID) {
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
        if let identity { recordIdentity(identity, revision: lastRevision ?? 0, durable: qos == .commit) }
        acknowledge(Ack(revision: lastRevision), qos: qos, connection)
    }

    static func address(of message: Message) -> String? {
        switch message {
        case .set(let set): return set.address
        case .publish(let publish): return publish.address
        default: return nil
        }
    }
}

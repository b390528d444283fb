import CLASP

// SET and GET: the checks a write passes (address, constraint, lock, revision, strategy,
// limits, size), applying it, and TTL expiry. docs/router.md "Params".

extension RouterCore {
    // MARK: - Params

    func handleSet(_ set: SetMessage, _ header: FrameHeader, _ session: Session, _ connection: Connection) {
        let identity = messageIdentity(header, session, address: set.address)
        if let identity, let original = commitLog[identity] {
            // A retransmission: applied once; the ACK is repeated.
            acknowledge(Ack(address: set.address, revision: original.revision), qos: header.qos, waitingFor: original.sequence, connection)
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
        if let identity { recordIdentity(identity, revision: param.revision, durable: header.qos == .commit) }
        acknowledge(Ack(address: set.address, revision: param.revision), qos: header.qos, connection)
    }

    struct Refusal: Error {
        let code: ErrorCode
        let message: String
    }

    /// A SET that passed every check, with what applying it will do.
    struct CheckedSet {
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
    func check(_ set: SetMessage, key: ExactText, by session: Session, current: Param?, newParams: Int) -> Swift.Result<CheckedSet, Refusal> {
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
    func apply(_ checked: CheckedSet, by session: Session, coalescing: CoalescingKey?) -> Param {
        let key = checked.key
        let previousHolder = params[key]?.lockHolder
        let param = checked.result
        params[key] = param
        if param.lockHolder != previousHolder {
            if param.lockHolder == session.id { session.locks.insert(key) } else { session.locks.remove(key) }
        }
        if let expiresAt = param.expiresAt, scheduleExpiry(key, at: expiresAt) {
            requestWakeUp(at: monotonic(fromServerTime: expiresAt))
        }
        if storeLink != nil {
            let wasIdle = storeLink?.deadline == nil
            storeLink?.changed(key, now: clock.monotonicNanoseconds())
            if wasIdle, let deadline = storeLink?.deadline { requestWakeUp(at: deadline) }
        }
        deliver(OutboundFrame(bytes: checked.echo, coalescing: coalescing), to: checked.set.address, signal: .param, excluding: nil)
        return param
    }

    func handleGet(_ get: Get, _ connection: Connection) {
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
    func scheduleExpiry(_ key: ExactText, at expiresAt: UInt64) -> Bool {
        if let queued = queuedExpiry[key], queued <= expiresAt { return false }
        queuedExpiry[key] = expiresAt
        expiries.insert(Expiry(key: key, at: expiresAt), deadline: expiresAt)
        return true
    }

    struct Expiry {
        let key: ExactText
        let at: UInt64
    }

    /// Removes expired params and tells subscribers with a SET of null at the next revision.
    func expireParams() {
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
}

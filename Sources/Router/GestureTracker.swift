import CLASP

/// Live gestures, keyed by (address, gesture id), and their move coalescing (design §7).
///
/// Every subscriber gets at most one move per gesture per `interval`: the first move after a
/// quiet interval goes out at once, later ones wait as the gesture's single pending move
/// (latest wins) and go out when the interval since the last sent move ends — never later.
/// Start, end and cancel are never held: end and cancel first send the pending move, so they
/// stay in order with the moves around them. A gesture whose session ends, or that sees no
/// message for `timeout`, is cancelled: subscribers receive a `cancel` for it.
///
/// Pure and deterministic: times are monotonic ns handed in; what must be delivered comes
/// back as `Emission`s, which the router fans out (excluding the gesture's own session).
struct GestureTracker {
    struct Key: Hashable {
        let address: ExactText
        let id: UInt32
    }

    /// A frame to fan out to the gesture subscribers of `address`, except `excluding`.
    struct Emission {
        let address: String
        let bytes: [UInt8]
        let isMove: Bool
        let excluding: ConnectionID
        let id: UInt32
    }

    private struct Gesture {
        let owner: ConnectionID
        /// The id as it was on the wire (`nil`: absent), for the cancel we make up.
        let wireID: UInt32?
        var lastActivity: UInt64
        var lastMoveSent: UInt64?
        var pendingMove: [UInt8]?
        /// The deadline of this gesture's entry in `deadlines`, if it has one.
        var queuedDeadline: UInt64?
    }

    let interval: UInt64
    let timeout: UInt64
    private var gestures: [Key: Gesture] = [:]
    private var byOwner: [ConnectionID: Swift.Set<Key>] = [:]
    private var deadlines = DeadlineQueue<(key: Key, deadline: UInt64)>()

    init(interval: UInt64, timeout: UInt64) {
        self.interval = interval
        self.timeout = timeout
    }

    var count: Int { gestures.count }
    var nextDeadline: UInt64? { deadlines.nextDeadline }

    /// Drops queue entries at the head that no longer belong to a live gesture's current
    /// deadline (replaced by an earlier one, or the gesture ended), so `nextDeadline` never
    /// wakes the host for nothing.
    private mutating func pruneStale() {
        while let head = deadlines.first, gestures[head.key]?.queuedDeadline != head.deadline {
            _ = deadlines.popDue(at: .max)
        }
    }

    /// A gesture PUBLISH from `owner`; returns what to deliver now.
    mutating func receive(_ publish: Publish, bytes: [UInt8], from owner: ConnectionID, at now: UInt64) -> [Emission] {
        defer { pruneStale() }
        let key = Key(address: ExactText(publish.address), id: publish.id ?? 0)
        let emit = { (frame: [UInt8], isMove: Bool) in
            Emission(address: publish.address, bytes: frame, isMove: isMove, excluding: owner, id: key.id)
        }
        switch publish.phase {
        case .start:
            var out: [Emission] = []
            // A new start for a live key ends the old gesture's pending move first.
            if let pending = gestures[key]?.pendingMove { out.append(emit(pending, true)) }
            track(key, Gesture(owner: gestures[key]?.owner ?? owner, wireID: publish.id, lastActivity: now))
            out.append(emit(bytes, false))
            return out
        case .move:
            guard var gesture = gestures[key] else {
                // A move without a start (a late joiner's, or after a timeout): track it from here.
                var gesture = Gesture(owner: owner, wireID: publish.id, lastActivity: now)
                gesture.lastMoveSent = now
                track(key, gesture)
                return [emit(bytes, true)]
            }
            gesture.lastActivity = now
            if let sent = gesture.lastMoveSent, now &- sent < interval {
                gesture.pendingMove = bytes
                gestures[key] = gesture
                schedule(key, at: sent &+ interval)
                return []
            }
            gesture.lastMoveSent = now
            gesture.pendingMove = nil
            gestures[key] = gesture
            return [emit(bytes, true)]
        case .end, .cancel:
            var out: [Emission] = []
            if let pending = forget(key) { out.append(emit(pending, true)) }
            out.append(emit(bytes, false))
            return out
        }
    }

    /// Pending moves whose interval ended, and cancels for gestures that timed out.
    mutating func due(at now: UInt64) -> [Emission] {
        defer { pruneStale() }
        var out: [Emission] = []
        while let entry = deadlines.popDue(at: now) {
            guard var gesture = gestures[entry.key], gesture.queuedDeadline == entry.deadline else { continue }
            gesture.queuedDeadline = nil
            let address = String(entry.key.address.text)
            if now &- gesture.lastActivity >= timeout {
                gestures[entry.key] = gesture
                out += cancel(entry.key, address: address)
                continue
            }
            if let pending = gesture.pendingMove, let sent = gesture.lastMoveSent, now &- sent >= interval {
                out.append(Emission(address: address, bytes: pending, isMove: true, excluding: gesture.owner, id: entry.key.id))
                gesture.pendingMove = nil
                gesture.lastMoveSent = now
            }
            gestures[entry.key] = gesture
            schedule(entry.key, at: nextDeadline(of: gesture))
        }
        return out
    }

    /// Cancels every gesture of a session that ended.
    mutating func sessionEnded(_ owner: ConnectionID) -> [Emission] {
        defer { pruneStale() }
        guard let keys = byOwner[owner] else { return [] }
        return keys.sorted { ($0.address.text, $0.id) < ($1.address.text, $1.id) }
            .flatMap { cancel($0, address: String($0.address.text)) }
    }

    // MARK: -

    private mutating func track(_ key: Key, _ gesture: Gesture) {
        if let old = gestures[key], old.owner != gesture.owner { byOwner[old.owner]?.remove(key) }
        var gesture = gesture
        gesture.queuedDeadline = gestures[key]?.queuedDeadline
        gestures[key] = gesture
        byOwner[gesture.owner, default: []].insert(key)
        schedule(key, at: nextDeadline(of: gesture))
    }

    /// Removes the gesture; returns its pending move.
    private mutating func forget(_ key: Key) -> [UInt8]? {
        guard let gesture = gestures.removeValue(forKey: key) else { return nil }
        byOwner[gesture.owner]?.remove(key)
        if byOwner[gesture.owner]?.isEmpty == true { byOwner[gesture.owner] = nil }
        return gesture.pendingMove
    }

    /// The pending move (if any), then a cancel made up for the gesture.
    private mutating func cancel(_ key: Key, address: String) -> [Emission] {
        guard let owner = gestures[key]?.owner else { return [] }
        let wireID = gestures[key]?.wireID
        var out: [Emission] = []
        if let pending = forget(key) {
            out.append(Emission(address: address, bytes: pending, isMove: true, excluding: owner, id: key.id))
        }
        let cancel = Publish(address: address, signal: .gesture, phase: .cancel, id: wireID)
        if let bytes = try? Message.publish(cancel).encodedFrame() {
            out.append(Emission(address: address, bytes: bytes, isMove: false, excluding: owner, id: key.id))
        }
        return out
    }

    private func nextDeadline(of gesture: Gesture) -> UInt64 {
        let expiry = gesture.lastActivity &+ timeout
        guard gesture.pendingMove != nil, let sent = gesture.lastMoveSent else { return expiry }
        return min(expiry, sent &+ interval)
    }

    /// Keeps one queue entry per gesture: only an earlier deadline adds one; a later one is
    /// found when the earlier entry comes due.
    private mutating func schedule(_ key: Key, at deadline: UInt64) {
        guard var gesture = gestures[key] else { return }
        if let queued = gesture.queuedDeadline, queued <= deadline { return }
        gesture.queuedDeadline = deadline
        gestures[key] = gesture
        deadlines.insert((key, deadline), deadline: deadline)
    }
}

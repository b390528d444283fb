/// A `StreamFilter`'s state for one address: the rate slot, the held sample, the open
/// window and the epsilon reference.
struct StreamLane {
    enum Outcome {
        /// Accepted and goes out now, on its own.
        case now
        /// Held for the trailing edge, or collected in a window.
        case held
        /// Within epsilon of the last accepted value.
        case dropped
    }

    let address: String
    /// Whether a sample was accepted yet (the first always passes epsilon).
    private var started = false
    /// What epsilon compares with: the last accepted sample's magnitude.
    private var reference: StreamMagnitude?
    /// Rate: no sample is accepted before this time.
    private var nextSlot: UInt64 = 0
    /// Rate: the newest sample that came before `nextSlot`.
    private var held: StreamSample?
    private var window: StreamWindow?
    /// Time of this address's earliest entry in the filter's wake-up queue.
    private var queued: UInt64?

    init(address: String) {
        self.address = address
    }

    /// When something is due here: the held sample's slot or the window's end.
    var deadline: UInt64? {
        let slot = held == nil ? nil : nextSlot
        guard let closesAt = window?.closesAt else { return slot }
        return min(slot ?? .max, closesAt)
    }

    /// Nothing held and the interval over: forgetting this address loses only its epsilon
    /// reference.
    func isIdle(at now: UInt64) -> Bool { held == nil && window == nil && nextSlot <= now }

    /// The earliest this address can become idle.
    var idleAt: UInt64 { max(nextSlot, window?.closesAt ?? 0) }

    mutating func offer(_ sample: StreamSample, _ rules: StreamRules, at now: UInt64, into out: inout [OutboundFrame]) -> Outcome {
        catchUp(rules, at: now, into: &out)
        guard passesEpsilon(sample, rules) else {
            held = nil
            return .dropped
        }
        guard now >= nextSlot else {
            held = sample
            return .held
        }
        return accept(sample, rules, at: now, into: &out) ? .now : .held
    }

    /// The wake-up queued for `at` came (at `now`).
    mutating func woke(_ at: UInt64, _ rules: StreamRules, at now: UInt64, into out: inout [OutboundFrame]) {
        forget(at)
        catchUp(rules, at: now, into: &out)
    }

    /// The wake-up queued for `at` left the queue.
    mutating func forget(_ at: UInt64) {
        if queued == at { queued = nil }
    }

    /// The time to queue a wake-up for, when the deadline is earlier than any queued one.
    /// A queued wake-up later found early is harmless: it finds nothing due and re-arms.
    mutating func rearm() -> UInt64? {
        guard let deadline, deadline < queued ?? .max else { return nil }
        queued = deadline
        return deadline
    }

    /// Sends what fell due by `now`, in the order of its times: the window that closed, the
    /// held sample whose slot came (into the window when the slot came before its end).
    private mutating func catchUp(_ rules: StreamRules, at now: UInt64, into out: inout [OutboundFrame]) {
        let slotDue = held != nil && nextSlot <= now
        if let closesAt = window?.closesAt, closesAt <= now, !slotDue || closesAt <= nextSlot {
            closeWindow(into: &out)
        }
        if slotDue, let sample = held {
            held = nil
            if accept(sample, rules, at: now, into: &out) {
                out.append(OutboundFrame(bytes: sample.frame, coalescing: .stream(address)))
            }
        }
        if let closesAt = window?.closesAt, closesAt <= now {
            closeWindow(into: &out)
        }
    }

    private func passesEpsilon(_ sample: StreamSample, _ rules: StreamRules) -> Bool {
        guard let epsilon = rules.epsilon, started, let new = sample.magnitude, let old = reference else { return true }
        return new.differs(from: old, by: epsilon)
    }

    /// Takes a sample that passed epsilon and whose slot came. True when it goes out now on
    /// its own; otherwise it joined the window (after sending the window it did not fit in).
    private mutating func accept(_ sample: StreamSample, _ rules: StreamRules, at now: UInt64, into out: inout [OutboundFrame]) -> Bool {
        started = true
        reference = sample.magnitude
        if rules.interval > 0 { nextSlot = now &+ rules.interval }
        guard rules.window > 0 else { return true }
        if window?.hasRoom(for: sample) == false { closeWindow(into: &out) }
        if window == nil { window = StreamWindow(address: address, closesAt: now &+ rules.window) }
        window?.append(sample)
        return false
    }

    private mutating func closeWindow(into out: inout [OutboundFrame]) {
        guard let closing = window else { return }
        window = nil
        closing.frames(into: &out)
    }
}

import CLASP
import NIOCore
import Synchronization

/// What the sACN and Art-Net bridges share around their `UniverseExchange`: the lock, the
/// router link, and the counters for the router side (`sets_in`, `refused`, `sources`,
/// `merges`, `out_of_order`, `timeouts`).
final class NetworkUniverses: Sendable {
    typealias Instant = ContinuousClock.Instant

    let counters: BridgeCounters
    private let state: Mutex<(exchange: UniverseExchange, link: (any RouterLink)?, wakeUp: Instant?)>

    init(_ exchange: UniverseExchange, counters: BridgeCounters) {
        state = Mutex((exchange, nil, nil))
        self.counters = counters
    }

    var outputUniverses: [Int] { state.withLock { $0.exchange.outputUniverses } }
    var inputUniverses: [Int] { state.withLock { $0.exchange.inputUniverses } }
    var sourceCount: Int { state.withLock { $0.exchange.sourceCount } }
    /// The output tick: one frame time at the configured rate.
    var intervalNanoseconds: Int64 { state.withLock { $0.exchange.pacing.interval.nanoseconds } }

    /// Subscribes the session to every output universe's params (the router answers with a
    /// snapshot of their current values).
    func attach(_ link: any RouterLink) throws {
        let patterns = state.withLock { state in
            state.link = link
            return state.exchange.subscriptionPatterns
        }
        for (index, pattern) in patterns.enumerated() {
            try link.send(.subscribe(Subscribe(id: UInt32(index + 1), pattern: pattern)))
        }
    }

    /// Nothing more goes to the router.
    func detach() {
        state.withLock { $0.link = nil }
    }

    /// A message from the router for the output universes.
    func apply(_ message: Message) {
        let refused = state.withLock { $0.exchange.apply(message) }
        if !refused.isEmpty { counters.add("refused", UInt64(refused.count)) }
    }

    /// The output universes to send now (`UniverseExchange.due`); when changes are left
    /// waiting for their interval, `wake` runs on `loop` once the first of them may go out.
    func due(
        at now: Instant, onTick: Bool = false, all: Bool = false, wake: (loop: any EventLoop, send: @Sendable () -> Void)? = nil
    ) -> [(universe: Int, frame: DMXFrame, packetsSent: UInt64)] {
        let (due, next, armed) = state.withLock { state in
            let due = state.exchange.due(at: now, onTick: onTick, all: all)
            let next = state.exchange.nextDue
            // One wake-up at a time: a later one is not needed while an earlier one is armed.
            guard let next, wake != nil, state.wakeUp.map({ next < $0 }) ?? true else { return (due, next, false) }
            state.wakeUp = next
            return (due, next, true)
        }
        if armed, let next, let wake {
            wake.loop.scheduleTask(in: .nanoseconds(max(0, (next - now).nanoseconds))) { [self] in
                state.withLock { if $0.wakeUp == next { $0.wakeUp = nil } }
                wake.send()
            }
        }
        return due
    }

    /// A frame from the network for `universe`; returns false when it is not an input universe.
    @discardableResult
    func received(
        _ frame: DMXFrame, universe: Int, priority: UInt8, sequence: UInt8?, from source: String, at now: Instant
    ) -> Bool {
        let (result, winners, link) = state.withLock { state in
            let result = state.exchange.receive(frame, universe: universe, priority: priority, sequence: sequence, from: source, at: now)
            return (result, state.exchange.inputs[universe]?.merge.winners.count ?? 0, state.link)
        }
        switch result {
        case .notAnInput:
            return false
        case .outOfOrder:
            counters.add("out_of_order")
        case .accepted(let messages):
            if winners > 1 { counters.add("merges") }
            send(messages, over: link)
        }
        return true
    }

    /// A source said it stopped sending `universe`.
    func terminated(_ source: String, universe: Int) {
        let (messages, link) = state.withLock { ($0.exchange.terminate(source, universe: universe), $0.link) }
        send(messages, over: link)
    }

    /// Drops silent sources; the fail-safe applies where the last one went.
    func expire(at now: Instant, timeout: Duration) {
        let (result, link) = state.withLock { ($0.exchange.expire(at: now, timeout: timeout), $0.link) }
        if result.expired > 0 { counters.add("timeouts", UInt64(result.expired)) }
        send(result.messages, over: link)
    }

    private func send(_ messages: [Message], over link: (any RouterLink)?) {
        guard let link, !messages.isEmpty else { return }
        for message in messages {
            do {
                try link.send(message)
            } catch {
                counters.add("errors")
                return
            }
        }
        counters.add("sets_in", UInt64(messages.count))
    }

    /// Degraded while an input universe has no source.
    func health(protocolName: String) -> BridgeStatus.Health {
        let silent = state.withLock { state in
            state.exchange.inputUniverses.filter { state.exchange.inputs[$0]?.merge.sources.isEmpty ?? true }
        }
        guard !silent.isEmpty else { return .ok }
        let list = silent.prefix(8).map(String.init).joined(separator: ", ") + (silent.count > 8 ? ", …" : "")
        return .degraded("no \(protocolName) source for input universe\(silent.count == 1 ? "" : "s") \(list)")
    }

    /// The counters with `sources` read now.
    func snapshot() -> [BridgeCounter] {
        let sources = UInt64(sourceCount)
        return counters.snapshot.map { $0.name == "sources" ? BridgeCounter(name: "sources", value: sources) : $0 }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

import CLASP

/// The router's side of a network DMX bridge (sACN, Art-Net): output universes are built from
/// what the router sends and paced onto the network; input universes are merged from network
/// sources and turned into SETs, with the fail-safe applied when the last source goes.
/// Not thread-safe: the bridge keeps it behind a lock.
struct UniverseExchange: Sendable {
    typealias Instant = ContinuousClock.Instant

    struct Output: Sendable {
        let mapping: DMXUniverseMapping
        var frame = DMXFrame()
        /// Changed since last sent.
        var dirty = true
        var lastSent: Instant?
        var packetsSent: UInt64 = 0
    }

    struct Input: Sendable {
        var merge: SourceMerge
        var tracker: DMXInputTracker
        /// What the universe shows now (the merge, or the fail-safe once the sources are gone).
        var current = DMXFrame()
    }

    /// When output universes are sent.
    struct Pacing: Sendable {
        /// At most this often per universe, and every tick when `steady`.
        var interval: Duration
        /// Unchanged universes are sent again after this long.
        var keepAlive: Duration
        /// Send every universe every `interval`, changed or not.
        var steady: Bool
    }

    /// What became of one received frame.
    enum Received: Equatable {
        case notAnInput
        case outOfOrder
        case accepted([Message])
    }

    private(set) var outputs: [Int: Output]
    private(set) var inputs: [Int: Input]
    let failSafe: DMXFailSafe
    let pacing: Pacing

    init(
        outputs: [DMXUniverseMapping], inputs: [DMXUniverseMapping], merge: MergeMode, failSafe: DMXFailSafe,
        wholeFrame: Bool, pacing: Pacing
    ) {
        self.outputs = Dictionary(outputs.map { ($0.universe, Output(mapping: $0)) }, uniquingKeysWith: { first, _ in first })
        self.inputs = Dictionary(
            inputs.map { ($0.universe, Input(merge: SourceMerge(mode: merge), tracker: DMXInputTracker(mapping: $0, wholeFrame: wholeFrame))) },
            uniquingKeysWith: { first, _ in first })
        self.failSafe = failSafe
        self.pacing = pacing
    }

    /// What the bridge's session subscribes to: every output universe's params.
    var subscriptionPatterns: [String] {
        outputs.keys.sorted().flatMap { outputs[$0]?.mapping.subscriptionPatterns ?? [] }
    }

    var outputUniverses: [Int] { outputs.keys.sorted() }
    var inputUniverses: [Int] { inputs.keys.sorted() }

    /// Sources sending at least one input universe.
    var sourceCount: Int { Set(inputs.values.flatMap(\.merge.sources.keys)).count }

    // MARK: Output

    /// Applies a router message to the output universes. Returns the refusals (`address: reason`).
    mutating func apply(_ message: Message) -> [String] {
        var refused: [String] = []
        for universe in outputs.keys {
            guard var output = outputs[universe] else { continue }
            let update = output.mapping.apply(message, to: &output.frame)
            if update.changed { output.dirty = true }
            refused += update.refused
            outputs[universe] = output
        }
        return refused
    }

    /// The output universes to send now, marked sent. A changed universe goes out as soon as
    /// an interval has passed since its last frame, an unchanged one after the keep-alive; in
    /// steady mode every universe goes out on each tick and only then. `all` sends every
    /// universe now.
    mutating func due(at now: Instant, onTick: Bool = false, all: Bool = false) -> [(universe: Int, frame: DMXFrame, packetsSent: UInt64)] {
        var due: [(universe: Int, frame: DMXFrame, packetsSent: UInt64)] = []
        for universe in outputs.keys.sorted() {
            guard var output = outputs[universe] else { continue }
            let since = output.lastSent.map { now - $0 }
            let send: Bool
            if all {
                send = true
            } else if pacing.steady {
                send = onTick
            } else if output.dirty {
                send = since.map { $0 >= pacing.interval } ?? true
            } else {
                send = since.map { $0 >= pacing.keepAlive } ?? true
            }
            guard send else { continue }
            due.append((universe, output.frame, output.packetsSent))
            output.dirty = false
            output.lastSent = now
            output.packetsSent &+= 1
            outputs[universe] = output
        }
        return due
    }

    /// When the first changed universe that is waiting for its interval may go out. The bridge
    /// wakes then: a tick may come up to an interval later, because a frame sent at a change
    /// starts its interval between two ticks. Never in steady mode, where ticks send.
    var nextDue: Instant? {
        guard !pacing.steady else { return nil }
        return outputs.values.filter(\.dirty).compactMap { $0.lastSent.map { $0 + pacing.interval } }.min()
    }

    // MARK: Input

    /// A frame from a network source for `universe`: the SETs for what changed in the merge.
    mutating func receive(
        _ frame: DMXFrame, universe: Int, priority: UInt8, sequence: UInt8?, from source: String, at now: Instant
    ) -> Received {
        guard var input = inputs[universe] else { return .notAnInput }
        guard input.merge.take(frame, priority: priority, sequence: sequence, from: source, at: now) == .accepted else {
            return .outOfOrder
        }
        let messages = settle(&input)
        inputs[universe] = input
        return .accepted(messages)
    }

    /// A source said it stopped sending `universe` (sACN stream terminated).
    mutating func terminate(_ source: String, universe: Int) -> [Message] {
        guard var input = inputs[universe], input.merge.remove(source) else { return [] }
        let messages = settle(&input)
        inputs[universe] = input
        return messages
    }

    /// Drops sources silent for `timeout`; the SETs for the universes that changed as a result.
    mutating func expire(at now: Instant, timeout: Duration) -> (expired: Int, messages: [Message]) {
        var expired = 0
        var messages: [Message] = []
        for universe in inputs.keys.sorted() {
            guard var input = inputs[universe] else { continue }
            let gone = input.merge.expire(silentSince: now - timeout)
            guard !gone.isEmpty else { continue }
            expired += gone.count
            messages += settle(&input)
            inputs[universe] = input
        }
        return (expired, messages)
    }

    /// The merge, or the fail-safe when no source is left, as SETs for what changed.
    private func settle(_ input: inout Input) -> [Message] {
        input.current = input.merge.merged ?? failSafe.frame(after: input.current)
        return input.tracker.messages(for: input.current)
    }
}

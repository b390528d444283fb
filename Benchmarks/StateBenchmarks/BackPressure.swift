import Benchmark
import CLASP
import Transports

// Scenario 5: one publisher as fast as the router takes frames, five subscribers that keep
// reading, one that has stopped. The router's policy (docs/router.md "Subscriptions and
// delivery", `Router/OutboundQueue.swift`): while a session cannot take more, frames wait in
// its outbound queue (8,192 frames / 8 MiB by default, behind the channel's 256 KiB write
// buffer); a SET echo replaces the queued one for the same address, an event is never
// dropped; when the queue is full and the frame cannot be coalesced the session gets ERROR
// 503 and is closed. So every subscriber must end either complete or told and closed.

/// What the publisher sends to `addresses` addresses in turn: SETs (a param's latest value,
/// coalescible) or event PUBLISHes (never coalesced). Each value is `[sequence, padding]`;
/// the padding makes the frames big enough (≈ 290 bytes) for the stalled subscriber's
/// kernel buffers to fill and the router's queue to be reached within the pump.
enum PumpKind: Sendable {
    case sets
    case events

    static let padding = Value.bytes([UInt8](repeating: 0xA5, count: 256))

    func message(_ sequence: Int, addresses: Int) -> Message {
        let address = "/bench/bp/\(sequence % addresses)"
        let value = Value.array([.int(Int64(sequence)), Self.padding])
        switch self {
        case .sets: return .set(SetMessage(address: address, value: value))
        case .events: return .publish(Publish(address: address, signal: .event, value: value))
        }
    }
}

let pumpRate = BenchmarkMetric.custom("published, applied by the router (msg/s)", polarity: .prefersLarger, useScalingFactor: false)
let liveRate = BenchmarkMetric.custom("delivered per live subscriber (msg/s)", polarity: .prefersLarger, useScalingFactor: false)
let liveLag = BenchmarkMetric.custom("live subscriber lag, sampled every 10 ms (msgs)", polarity: .prefersSmaller, useScalingFactor: false)
let liveCatchUp = BenchmarkMetric.custom("live subscriber: pump end → last update (µs)", polarity: .prefersSmaller, useScalingFactor: false)
let liveCutOff = BenchmarkMetric.custom("live subscribers closed with 503 (count of 5)", polarity: .prefersSmaller, useScalingFactor: false)
let stalledDelivered = BenchmarkMetric.custom("stalled subscriber: updates received (count)", polarity: .prefersLarger, useScalingFactor: false)
let stalledKept = BenchmarkMetric.custom("stalled subscriber kept open (1 = yes)", polarity: .prefersLarger, useScalingFactor: false)
let stalledClosedAfter = BenchmarkMetric.custom("pump start → first connection closed by the router (ms)", polarity: .prefersSmaller, useScalingFactor: false)
let stalledGot503 = BenchmarkMetric.custom("stalled subscriber received ERROR 503 (1 = yes)", polarity: .prefersLarger, useScalingFactor: false)
let rssBefore = BenchmarkMetric.custom("RSS before (MB)", polarity: .prefersSmaller, useScalingFactor: false)
let rssPeak = BenchmarkMetric.custom("RSS peak (MB)", polarity: .prefersSmaller, useScalingFactor: false)
let rssAfter = BenchmarkMetric.custom("RSS after (MB)", polarity: .prefersSmaller, useScalingFactor: false)

/// What the sampler saw while the pump ran.
struct PumpSamples: Sendable {
    var lags: [Int] = []
    var peakRSSKB = 0
    /// Wall time at which the router first had fewer connections than at the start.
    var connectionDroppedAt: UInt64?
}

/// Every 10 ms until cancelled: each live subscriber's lag (messages published minus 1 minus
/// the highest sequence it has received; while it is still connected), the process RSS, and
/// whether the router has dropped a connection.
func samplePump(lab: Lab, progress: PumpProgress, live: [Inbox<UpdateTally>], connections: Int) async -> PumpSamples {
    var samples = PumpSamples()
    while !Task.isCancelled {
        let published = progress.count
        for inbox in live where !inbox.isClosed {
            samples.lags.append(max(0, published - 1 - Int(inbox.tally.highest)))
        }
        samples.peakRSSKB = max(samples.peakRSSKB, ProcessMemory.residentKB())
        if samples.connectionDroppedAt == nil, let now = try? await lab.onRouter({ $0.connectionCount }), now < connections {
            samples.connectionDroppedAt = wallMicroseconds()
        }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return samples
}

/// One iteration: connect everyone, pump for `duration` (flat out, or `perSecond`), let the
/// live subscribers catch up, then read what the stalled one was left with; verify every
/// subscriber's outcome; report.
func backPressure(
    _ benchmark: Benchmark, kind: PumpKind, perSecond: Int? = nil, addresses: Int = 4, duration: Duration = .seconds(2), liveCount: Int = 5
) async throws {
    let lab = try Lab.running()
    let pattern = "/bench/bp/**"
    var live: [Inbox<UpdateTally>] = []
    var liveClients: [CLASPClient] = []
    for index in 0..<liveCount {
        let client = try await lab.connect(name: "live-\(index)")
        let inbox = Inbox.start(client, UpdateTally())
        try await client.send(.subscribe(Subscribe(id: 1, pattern: pattern)))
        try await client.send(.ping)
        _ = try await inbox.wait("live-\(index)'s PONG", timeout: .seconds(5)) { $0.pongs > 0 }
        live.append(inbox)
        liveClients.append(client)
    }
    // The stalled subscriber: reads until its subscription is in place, then not until the
    // pump is over. Its kernel receive buffer is tiny (4 KiB asked, 8 KiB granted).
    let stalled = try RawWebSocket(port: lab.server.localPort, name: "stalled", receiveBuffer: 4_096)
    try stalled.send(.subscribe(Subscribe(id: 1, pattern: pattern)))
    try stalled.send(.ping)
    try stalled.readUntilPong(timeout: .seconds(5), who: "stalled subscriber")

    let publisher = try await RawPublisher.connect(port: lab.server.localPort, name: "pump")
    defer { publisher.close() }
    let connections = try await lab.onRouter { $0.connectionCount }
    try require(connections == liveCount + 2, "the router has \(connections) connections, expected \(liveCount + 2)")
    let before = ProcessMemory.residentKB()
    let peakResettable = ProcessMemory.resetPeak()
    let progress = PumpProgress()
    let sampler = Task { [live] in await samplePump(lab: lab, progress: progress, live: live, connections: connections) }

    let pump = try await publisher.pump(
        limit: 20_000_000, duration: duration, perSecond: perSecond, batch: perSecond == nil ? 64 : 16, progress: progress
    ) { kind.message($0, addresses: addresses) }
    let sent = pump.sent
    let finalValue = Int64(sent - 1)
    // The live subscribers catch up (the pump's PONG came after everything was applied, so
    // everything is queued for them) — or were told they were too slow and closed.
    for (index, inbox) in live.enumerated() {
        _ = try await inbox.wait("live-\(index) to catch up", timeout: .seconds(30), orClose: true) { $0.highest == finalValue }
    }
    sampler.cancel()
    let samples = await sampler.value
    let peak = max(samples.peakRSSKB, peakResettable ? ProcessMemory.peakKB() : 0)

    // The stalled subscriber reads again: what did the router keep for it?
    let stalledOutcome = try drain(stalled, until: finalValue, addresses: addresses)
    let remaining = try await lab.onRouter { $0.connectionCount }
    await closeAll(liveClients)
    let after = ProcessMemory.residentKB()

    // Verification: each subscriber is complete, or was told (503) and closed; what it got is
    // in order, and for events without a gap up to where it stopped.
    var cutOff = 0
    for (index, inbox) in live.enumerated() {
        let tally = inbox.tally
        try require(tally.outOfOrder == 0, "live-\(index): \(tally)")
        if tally.highest == finalValue {
            try require(tally.errors.isEmpty, "live-\(index) complete but got errors: \(tally)")
            try requireFinalValues(tally.latest, sent: sent, addresses: addresses, who: "live-\(index)")
            if kind == .events { try require(tally.updates == sent, "live-\(index) got \(tally.updates) of \(sent) events") }
        } else {
            try require(inbox.isClosed && tally.got503, "live-\(index) neither caught up nor was told: \(tally)")
            if kind == .events { try require(tally.updates == Int(tally.highest) + 1, "live-\(index): a gap before the 503: \(tally)") }
            cutOff += 1
        }
    }
    switch stalledOutcome.ending {
    case .caughtUp:
        try require(stalledOutcome.outOfOrder == 0, "stalled subscriber: values out of order")
        if kind == .events {
            try require(stalledOutcome.updates == sent, "stalled subscriber kept open but got \(stalledOutcome.updates) of \(sent) events")
        }
    case .closed:
        try require(stalledOutcome.outOfOrder == 0, "stalled subscriber: values out of order")
        if kind == .events {
            try require(stalledOutcome.updates == Int(stalledOutcome.highest) + 1, "stalled subscriber: a gap before it was closed")
        }
        // It may not see the 503: the router closes a connection that does not read within
        // its close grace period, and bytes still queued then are lost with it.
        try require(samples.connectionDroppedAt != nil || stalledOutcome.got503, "the stalled subscriber's connection ended unseen by the router")
    }
    let expectedRemaining = liveCount + 2 - cutOff - (stalledOutcome.ending == .closed ? 1 : 0)
    try require(remaining == expectedRemaining, "the router has \(remaining) connections after the pump, expected \(expectedRemaining)")

    benchmark.measurement(pumpRate, rate(sent, from: pump.started, to: pump.applied))
    for inbox in live {
        let tally = inbox.tally
        guard tally.highest == finalValue else { continue }
        benchmark.measurement(liveRate, rate(tally.updates, from: pump.started, to: tally.lastAt))
        benchmark.measurement(liveCatchUp, elapsed(from: pump.ended, to: tally.lastAt))
    }
    benchmark.measurement(liveCutOff, cutOff)
    for lag in samples.lags { benchmark.measurement(liveLag, lag) }
    benchmark.measurement(stalledDelivered, stalledOutcome.updates)
    benchmark.measurement(stalledKept, stalledOutcome.ending == .caughtUp ? 1 : 0)
    benchmark.measurement(stalledGot503, stalledOutcome.got503 ? 1 : 0)
    if case .closed = stalledOutcome.ending, let droppedAt = samples.connectionDroppedAt {
        benchmark.measurement(stalledClosedAfter, elapsed(from: pump.started, to: droppedAt) / 1_000)
    }
    benchmark.measurement(rssBefore, before / 1_024)
    benchmark.measurement(rssPeak, peak / 1_024)
    benchmark.measurement(rssAfter, after / 1_024)
}

/// Each of the `addresses` addresses holds the last sequence number sent to it.
func requireFinalValues(_ latest: [String: Int64], sent: Int, addresses: Int, who: String) throws {
    for address in 0..<min(addresses, sent) {
        let last = Int64((sent - 1) - ((sent - 1 - address) % addresses))
        let got = latest["/bench/bp/\(address)"]
        try require(got == last, "\(who): /bench/bp/\(address) ends at \(got.map(String.init) ?? "nothing"), not \(last)")
    }
}

/// What the stalled subscriber found once it read again.
struct StalledOutcome {
    enum Ending: Equatable {
        /// It received the final value of every address, still connected.
        case caughtUp
        /// The connection ended first.
        case closed
    }

    var ending: Ending
    var updates = 0
    var highest: Int64 = -1
    var outOfOrder = 0
    var got503 = false
}

/// Reads until every address has shown its final value or the connection ends (10 s at most).
private func drain(_ socket: RawWebSocket, until finalValue: Int64, addresses: Int) throws -> StalledOutcome {
    var outcome = StalledOutcome(ending: .closed)
    var latest: [String: Int64] = [:]
    let deadline = wallMicroseconds() + 10_000_000
    while true {
        guard let message = try socket.receive(before: deadline) else {
            throw BenchmarkFailure("stalled subscriber: neither caught up nor closed 10 s after the pump (\(outcome.updates) updates)")
        }
        guard case .binary(let bytes) = message else { return outcome }  // close frame or end of stream
        let address: String, value: Int64
        switch try FrameCodec.decode(bytes).message {
        case .set(let set):
            guard let number = sequenceNumber(set.value) else { continue }
            (address, value) = (set.address, number)
        case .publish(let publish):
            guard let number = sequenceNumber(publish.value) else { continue }
            (address, value) = (publish.address, number)
        case .error(let error):
            if error.code == 503 { outcome.got503 = true }
            continue
        default:
            continue
        }
        outcome.updates += 1
        if let previous = latest[address], value <= previous { outcome.outOfOrder += 1 }
        latest[address] = value
        outcome.highest = max(outcome.highest, value)
        if outcome.highest == finalValue, latest.count == min(addresses, Int(finalValue) + 1),
           latest.values.allSatisfy({ finalValue - $0 < Int64(addresses) }) {
            outcome.ending = .caughtUp
            return outcome
        }
    }
}

import Benchmark
import CLASP
import Transports

// Scenario 6: writes spread over 10,000 addresses, so the router and the store hold 10,000
// params and every store batch carries thousands of them.

let manyAddressCount = 10_000

func manyAddress(_ index: Int) -> String { "/bench/a/\(index % manyAddressCount)" }

let endToEndRate = BenchmarkMetric.custom("end to end, publisher → subscriber (msg/s)", polarity: .prefersLarger, useScalingFactor: false)
let appliedRate = BenchmarkMetric.custom("publisher → router, applied (msg/s)", polarity: .prefersLarger, useScalingFactor: false)
let coalescedCount = BenchmarkMetric.custom("coalesced for the subscriber (count)", polarity: .prefersSmaller, useScalingFactor: false)
let rssHolding = BenchmarkMetric.custom("RSS after, 10k params held (MB)", polarity: .prefersSmaller, useScalingFactor: false)
let commitRate = BenchmarkMetric.custom("commits acknowledged (commits/s)", polarity: .prefersLarger, useScalingFactor: false)
let commitLatency = BenchmarkMetric.custom("commit: send → ACK (µs)", polarity: .prefersSmaller, useScalingFactor: false)
let commitsPerTransaction = BenchmarkMetric.custom("commits per SQLite transaction", polarity: .prefersLarger, useScalingFactor: false)

/// Scenario 6, fire, to a `CLASPClient`. One iteration: `total` SETs (QoS fire) round-robin
/// over 10,000 addresses, values counting up, from a raw publisher as fast as the router
/// takes them; one `CLASPClient` subscriber on `/**`; done when it has everything.
func manyAddressesFire(_ benchmark: Benchmark, total: Int) async throws {
    let lab = try Lab.running()
    let subscriber = try await lab.connect(name: "subscriber")
    let inbox = Inbox.start(subscriber, UpdateTally())
    try await subscriber.send(.subscribe(Subscribe(id: 1, pattern: "/**")))
    try await subscriber.send(.ping)
    _ = try await inbox.wait("the subscriber's PONG", timeout: .seconds(5)) { $0.pongs > 0 }
    let publisher = try await RawPublisher.connect(port: lab.server.localPort, name: "publisher")
    defer { publisher.close() }
    let before = ProcessMemory.residentKB()

    // The pump ends with a PING barrier: every SET is applied and its echo queued. Then the
    // subscriber's own PONG comes behind the last echo.
    let pump = try await publisher.pump(limit: total, duration: .seconds(120)) { sequence in
        .set(SetMessage(address: manyAddress(sequence), value: .int(Int64(sequence))))
    }
    try require(pump.sent == total, "the publisher sent \(pump.sent) of \(total) SETs within 120 s")
    try await subscriber.send(.ping)
    let tally = try await inbox.wait("the subscriber's second PONG", timeout: .seconds(60)) { $0.pongs > 1 }
    let after = ProcessMemory.residentKB()
    await subscriber.close()

    try require(tally.errors.isEmpty && tally.outOfOrder == 0, "subscriber: \(tally)")
    try require(tally.latest.count == min(total, manyAddressCount), "subscriber saw \(tally.latest.count) addresses")
    for index in 0..<min(total, manyAddressCount) {
        let last = Int64((total - 1) - ((total - 1 - index) % manyAddressCount))
        try require(tally.latest[manyAddress(index)] == last, "subscriber: \(manyAddress(index)) ends at \(tally.latest[manyAddress(index)].map(String.init) ?? "nothing"), not \(last)")
    }
    try await requireTenThousandParams(lab)

    benchmark.measurement(appliedRate, rate(total, from: pump.started, to: pump.applied))
    benchmark.measurement(endToEndRate, rate(tally.updates, from: pump.started, to: tally.lastAt))
    benchmark.measurement(coalescedCount, total - tally.updates)
    benchmark.measurement(rssBefore, before / 1_024)
    benchmark.measurement(rssHolding, after / 1_024)
}

/// Scenario 6, fire, to a raw-socket subscriber read by a thread of its own: what the router
/// itself delivers end to end.
func manyAddressesFireRaw(_ benchmark: Benchmark, total: Int) async throws {
    let lab = try Lab.running()
    let subscriber = try await RawSubscriber.connect(port: lab.server.localPort, name: "raw-subscriber", pattern: "/**")
    let publisher = try await RawPublisher.connect(port: lab.server.localPort, name: "publisher")
    defer { publisher.close() }

    async let collected = subscriber.collect(total: total, addresses: manyAddressCount, timeout: .seconds(120)) { manyAddress($0) }
    let pump = try await publisher.pump(limit: total, duration: .seconds(120)) { sequence in
        .set(SetMessage(address: manyAddress(sequence), value: .int(Int64(sequence))))
    }
    let collection = try await collected
    try require(pump.sent == total, "the publisher sent \(pump.sent) of \(total) SETs within 120 s")
    try require(collection.errors.isEmpty && collection.outOfOrder == 0 && collection.misplaced == 0, "raw subscriber: \(collection)")
    try await requireTenThousandParams(lab)

    benchmark.measurement(appliedRate, rate(total, from: pump.started, to: pump.applied))
    benchmark.measurement(endToEndRate, rate(collection.updates, from: pump.started, to: collection.lastAt))
    benchmark.measurement(coalescedCount, total - collection.updates)
}

private func requireTenThousandParams(_ lab: Lab) async throws {
    let params = try await lab.onRouter { $0.paramCount }
    try require(params == manyAddressCount, "the router holds \(params) params, expected \(manyAddressCount)")
    try require(lab.storeLog.failures == 0, "the store failed \(lab.storeLog.failures) times")
}

/// Messages per second over a span of wall µs.
func rate(_ count: Int, from start: UInt64, to end: UInt64) -> Int {
    Int(Double(count) / (Double(max(1, elapsed(from: start, to: end))) / 1e6))
}

/// Scenario 6, commit. One iteration: `total` SETs with QoS commit (each with a unique frame
/// timestamp, as a client that may retransmit sends them) round-robin over 10,000 addresses,
/// at most `window` awaiting their ACK: `window` 1 is one commit at a time (an fsync each),
/// a large window is pipelined (sent one after another without waiting; the store then
/// writes whatever has queued in one transaction). ACKs arrive in send order.
func manyAddressesCommit(_ benchmark: Benchmark, total: Int, window: Int) async throws {
    let lab = try Lab.running()
    // A fresh client name per iteration: its commit identities never meet earlier ones.
    let committer = try await lab.connect(name: "committer-\(benchmark.currentIteration)")
    let inbox = Inbox.start(committer, Received())
    let transactionsBefore = lab.storeLog.transactions
    var sentAt: [UInt64] = []
    sentAt.reserveCapacity(total)
    let base = wallMicroseconds()
    for sequence in 0..<total {
        if sequence >= window {
            let acknowledged = sequence - window + 1
            _ = try await inbox.wait("ACK \(acknowledged)", timeout: .seconds(10)) { $0.acks.count + $0.errors.count >= acknowledged }
        }
        let set = SetMessage(address: manyAddress(sequence), value: .int(Int64(sequence)))
        sentAt.append(wallMicroseconds())
        try await committer.send(.set(set), qos: .commit, timestamp: base + UInt64(sequence))
    }
    let received = try await inbox.wait("\(total) commit ACKs", timeout: .seconds(120)) { $0.acks.count + $0.errors.count >= total }
    let transactions = lab.storeLog.transactions - transactionsBefore
    await committer.close()

    try require(received.errors.isEmpty, "committer: \(received)")
    try require(received.acks.count == total, "committer: \(received.acks.count) ACKs for \(total) commits")
    for (sequence, (ack, _)) in received.acks.enumerated() {
        try require(ack.address == manyAddress(sequence), "ACK \(sequence) is for \(ack.address ?? "no address"), expected \(manyAddress(sequence)) (order)")
    }
    try require(lab.storeLog.failures == 0, "the store failed \(lab.storeLog.failures) times")

    for (sent, (_, at)) in zip(sentAt, received.acks) {
        benchmark.measurement(commitLatency, elapsed(from: sent, to: at))
    }
    benchmark.measurement(commitRate, rate(total, from: sentAt[0], to: received.acks[total - 1].at))
    benchmark.measurement(commitsPerTransaction, total / max(1, transactions))
}

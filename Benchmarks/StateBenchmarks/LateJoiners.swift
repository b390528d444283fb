import Benchmark
import CLASP
import Transports

// Scenarios 1 and 2: clients joining a gateway that holds 10,000 params.
//
// A joining client gets the state twice: with WELCOME (the router sends every param after
// HELLO, docs/router.md "Connection lifecycle") and again when it subscribes to `/**`
// (a SUBSCRIBE gets the params it matches). Both are measured and both are verified.

/// Frames of a late joiner: the HELLO snapshot, then the `/**` snapshot, then a PONG.
struct JoinerRecord {
    let client: CLASPClient
    let tally: SnapshotTally
    /// Wall time before `connect`, and before sending SUBSCRIBE.
    let connectStarted: UInt64
    let subscribeSent: UInt64
}

/// Connects a client, optionally waits for the HELLO snapshot before subscribing to `/**`,
/// then sends a PING and waits for its PONG: the PONG leaves after every SNAPSHOT frame
/// of the SUBSCRIBE, so once it is in, nothing of the state is still on its way.
func joinLate(_ lab: Lab, name: String, waitForInitialSnapshot: Bool, timeout: Duration) async throws -> JoinerRecord {
    let count = lab.preloaded
    var options = CLASPClient.Options()
    options.timeout = timeout
    let connectStarted = wallMicroseconds()
    let client = try await lab.connect(name: name, options: options)
    let inbox = Inbox.start(client, SnapshotTally())
    if waitForInitialSnapshot {
        _ = try await inbox.wait("the HELLO snapshot (\(count) params)", timeout: timeout) { $0.entries >= count }
    }
    let subscribeSent = wallMicroseconds()
    try await client.send(.subscribe(Subscribe(id: 1, pattern: "/**")))
    try await client.send(.ping)
    let tally = try await inbox.wait("both snapshots and the PONG", timeout: timeout) { $0.pongs > 0 }
    return JoinerRecord(client: client, tally: tally, connectStarted: connectStarted, subscribeSent: subscribeSent)
}

/// Decodes a joiner's frames (outside the measurement) and checks that they hold exactly
/// two complete snapshots of the preloaded params, one after the other, each with every
/// address once and its value, and nothing else.
func verifyJoiner(_ tally: SnapshotTally, params count: Int, who: String) throws {
    try require(tally.unexpected.isEmpty, "\(who): unexpected frames: \(tally)")
    try require(tally.entries == 2 * count, "\(who): \(tally.entries) snapshot entries, expected \(2 * count)")
    var seen = [Bool](repeating: false, count: count)
    var inPart = 0
    var part = 1
    for frame in tally.frames {
        guard case .snapshot(let snapshot) = try frame.decoded().message else {
            throw BenchmarkFailure("\(who): a frame counted as SNAPSHOT does not decode as one")
        }
        for entry in snapshot.params {
            let prefix = "/bench/p/"
            guard entry.address.hasPrefix(prefix), let index = Int(entry.address.dropFirst(prefix.count)),
                  index >= 0, index < count
            else { throw BenchmarkFailure("\(who): snapshot \(part) holds an unknown address \(entry.address)") }
            try require(!seen[index], "\(who): snapshot \(part) holds \(entry.address) twice")
            try require(entry.value == .float(Double(index)), "\(who): \(entry.address) = \(entry.value) in snapshot \(part)")
            seen[index] = true
        }
        inPart += snapshot.params.count
        if inPart == count {
            // Every address was seen once (count entries, none twice): the next part starts.
            seen = [Bool](repeating: false, count: count)
            inPart = 0
            part += 1
        } else {
            try require(inPart < count, "\(who): snapshot \(part) runs past \(count) entries into the next one")
        }
    }
    try require(part == 3 && inPart == 0, "\(who): the snapshots ended inside snapshot \(part)")
}

let helloSnapshotTime = BenchmarkMetric.custom("connect → HELLO snapshot complete (µs)", polarity: .prefersSmaller, useScalingFactor: false)
let subscribeSnapshotTime = BenchmarkMetric.custom("SUBSCRIBE /** → snapshot complete (µs)", polarity: .prefersSmaller, useScalingFactor: false)
let stormTotalTime = BenchmarkMetric.custom("storm: all 200 complete (ms)", polarity: .prefersSmaller, useScalingFactor: false)
let stormClientTime = BenchmarkMetric.custom("storm, per client: start → both snapshots (ms)", polarity: .prefersSmaller, useScalingFactor: false)
let stormSubscribeTime = BenchmarkMetric.custom("storm, per client: SUBSCRIBE → snapshot complete (ms)", polarity: .prefersSmaller, useScalingFactor: false)

/// Scenario 1. One iteration: a new client connects (the HELLO snapshot is timed from before
/// `connect`), then subscribes to `/**` once the HELLO snapshot is in (timed from the send of
/// SUBSCRIBE to the arrival of the frame completing the 10,000 entries).
func lateJoiner(_ benchmark: Benchmark) async throws {
    let lab = try Lab.running()
    let count = lab.preloaded
    let record = try await joinLate(lab, name: "late-joiner", waitForInitialSnapshot: true, timeout: .seconds(10))
    await record.client.close()
    guard let initialDone = record.tally.time(reaching: count), let subscribedDone = record.tally.time(reaching: 2 * count) else {
        throw BenchmarkFailure("late joiner: snapshots incomplete: \(record.tally)")
    }
    benchmark.measurement(helloSnapshotTime, elapsed(from: record.connectStarted, to: initialDone))
    benchmark.measurement(subscribeSnapshotTime, elapsed(from: record.subscribeSent, to: subscribedDone))
    try verifyJoiner(record.tally, params: count, who: "late joiner")
}

/// Scenario 2. One iteration: 200 clients connect at once and each subscribes to `/**` right
/// after its WELCOME; done when every client has both snapshots.
func lateJoinerStorm(_ benchmark: Benchmark, clients: Int = 200) async throws {
    let lab = try Lab.running()
    let count = lab.preloaded
    let started = wallMicroseconds()
    let records = try await withThrowingTaskGroup(of: JoinerRecord.self) { group in
        for index in 0..<clients {
            group.addTask {
                try await joinLate(lab, name: "storm-\(index)", waitForInitialSnapshot: false, timeout: .seconds(60))
            }
        }
        return try await group.reduce(into: []) { $0.append($1) }
    }
    await closeAll(records.map(\.client))
    try require(records.count == clients, "storm: \(records.count) of \(clients) clients finished")
    var last: UInt64 = 0
    for record in records {
        guard let done = record.tally.time(reaching: 2 * count) else {
            throw BenchmarkFailure("storm: a client's snapshots are incomplete: \(record.tally)")
        }
        last = max(last, done)
        benchmark.measurement(stormClientTime, elapsed(from: started, to: done) / 1_000)
        benchmark.measurement(stormSubscribeTime, elapsed(from: record.subscribeSent, to: done) / 1_000)
    }
    benchmark.measurement(stormTotalTime, elapsed(from: started, to: last) / 1_000)
    for (index, record) in records.enumerated() {
        try verifyJoiner(record.tally, params: count, who: "storm client \(index)")
    }
}

/// Closes clients concurrently and returns once all are closed.
func closeAll(_ clients: [CLASPClient]) async {
    await withTaskGroup(of: Void.self) { group in
        for client in clients { group.addTask { await client.close() } }
    }
}

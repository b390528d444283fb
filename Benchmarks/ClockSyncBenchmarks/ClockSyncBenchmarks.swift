import Benchmark
import CLASP
import Logging
import NIOPosix
import Router
import Synchronization
import Transports

// Clock sync against an in-process router on loopback: `CLASPClient` sends SYNC rounds and
// feeds `ClockSync`. Client and server read the same clock, so the true offset is 0 and the
// estimate's absolute value is its error.

/// Router and WebSocket server on 127.0.0.1 (a loop of their own, as in the gateway), and a
/// separate loop for the clients, as if they were another process.
final class Lab: Sendable {
    let serverGroup: MultiThreadedEventLoopGroup
    let clientGroup: MultiThreadedEventLoopGroup
    let host: RouterHost
    let server: WebSocketServer
    /// A connection kept open for the round-trip benchmark.
    let client: CLASPClient

    private init(serverGroup: MultiThreadedEventLoopGroup, clientGroup: MultiThreadedEventLoopGroup, host: RouterHost, server: WebSocketServer, client: CLASPClient) {
        self.serverGroup = serverGroup
        self.clientGroup = clientGroup
        self.host = host
        self.server = server
        self.client = client
    }

    static let current = Mutex<Lab?>(nil)

    static func start() async throws {
        var logger = Logger(label: "clock-sync-benchmarks")
        logger.logLevel = .critical
        let serverGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let host = RouterHost(configuration: RouterConfiguration(), eventLoop: serverGroup.next(), logger: logger)
        var configuration = WebSocketServer.Configuration()
        configuration.listener.host = "127.0.0.1"
        configuration.listener.port = 0
        let server = try await WebSocketServer.start(configuration: configuration, host: host, group: serverGroup, logger: logger)
        let client = try await CLASPClient.connect(host: "127.0.0.1", port: server.localPort, name: "bench", group: clientGroup)
        let lab = Lab(serverGroup: serverGroup, clientGroup: clientGroup, host: host, server: server, client: client)
        current.withLock { $0 = lab }
    }

    static func stop() async throws {
        guard let lab = current.withLock({ lab in defer { lab = nil }; return lab }) else { return }
        await lab.client.close()
        try await lab.server.shutdown()
        await lab.host.shutdown()
        try await lab.clientGroup.shutdownGracefully()
        try await lab.serverGroup.shutdownGracefully()
    }

    static func running() throws -> Lab {
        guard let lab = current.withLock({ $0 }) else { throw NotStarted() }
        return lab
    }

    struct NotStarted: Error {}

    func connect(name: String = "bench") async throws -> CLASPClient {
        try await CLASPClient.connect(host: "127.0.0.1", port: server.localPort, name: name, group: clientGroup)
    }
}

/// The reference client's estimate over the same samples: the first offset, then an
/// exponential moving average giving 0.3 to each new one (wire-format §4.11).
func referenceEMAOffset(_ samples: [ClockSync.Sample]) -> Double {
    guard let first = samples.first else { return 0 }
    return samples.dropFirst().reduce(Double(first.offset)) { 0.7 * $0 + 0.3 * Double($1.offset) }
}

let offsetError = BenchmarkMetric.custom("offset error (µs)", polarity: .prefersSmaller, useScalingFactor: false)
let errorBound = BenchmarkMetric.custom("error bound (µs)", polarity: .prefersSmaller, useScalingFactor: false)
let emaOffsetError = BenchmarkMetric.custom("EMA 0.3 offset error, same samples (µs)", polarity: .prefersSmaller, useScalingFactor: false)
let syncRoundTrip = BenchmarkMetric.custom("SYNC round trip (µs)", polarity: .prefersSmaller, useScalingFactor: false)

/// Records one estimate's error, its bound, and what the reference's EMA made of its samples.
func record(_ clock: ClockSync, in benchmark: Benchmark) {
    benchmark.measurement(offsetError, Int(clock.offset.magnitude))
    benchmark.measurement(errorBound, Int(clock.errorBound))
    benchmark.measurement(emaOffsetError, Int(referenceEMAOffset(clock.samples).magnitude.rounded()))
}

/// Each benchmark starts a `Lab` of its own and stops it afterwards.
func labConfiguration(_ metrics: [BenchmarkMetric], maxIterations: Int = 2_000) -> Benchmark.Configuration {
    .init(
        metrics: metrics,
        timeUnits: .microseconds,
        warmupIterations: 10,
        maxDuration: .seconds(10),
        maxIterations: maxIterations,
        setup: { try await Lab.start() },
        teardown: { try await Lab.stop() }
    )
}

let benchmarks: @Sendable () -> Void = {
    // Each iteration: a new connection (not measured), then 5 SYNC rounds one after another
    // (wall clock), and the estimate they give.
    Benchmark(
        "Offset after 5 SYNC rounds",
        configuration: labConfiguration([.wallClock, offsetError, errorBound, emaOffsetError])
    ) { benchmark in
        let client = try await Lab.running().connect()
        benchmark.startMeasurement()
        let clock = try await client.sync(rounds: 5)
        benchmark.stopMeasurement()
        record(clock, in: benchmark)
        await client.close()
    }

    // Each iteration: 10 new connections (not measured) sync 5 rounds at the same time.
    Benchmark(
        "Offset after 5 SYNC rounds, 10 clients at once",
        configuration: labConfiguration([.wallClock, offsetError, errorBound, emaOffsetError], maxIterations: 300)
    ) { benchmark in
        let lab = try Lab.running()
        var clients: [CLASPClient] = []
        for index in 0..<10 {
            clients.append(try await lab.connect(name: "bench-\(index)"))
        }
        benchmark.startMeasurement()
        let clocks = try await withThrowingTaskGroup(of: ClockSync.self) { group in
            for client in clients {
                group.addTask { try await client.sync(rounds: 5) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        benchmark.stopMeasurement()
        for clock in clocks { record(clock, in: benchmark) }
        for client in clients { await client.close() }
    }

    // Each iteration: one SYNC exchange on an open connection. Wall clock is the whole call
    // (task to event loop and back); the custom metric is the exchange's own round trip,
    // t4 − t1 − (t3 − t2), as the event-loop handler saw it.
    Benchmark(
        "SYNC round trip",
        configuration: labConfiguration([.wallClock, syncRoundTrip], maxIterations: 20_000)
    ) { benchmark in
        let clock = try await Lab.running().client.sync(rounds: 1)
        if let sample = clock.samples.last {
            benchmark.measurement(syncRoundTrip, Int(sample.roundTrip))
        }
    }
}

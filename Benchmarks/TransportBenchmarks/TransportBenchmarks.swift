import Benchmark
import CLASP
import Logging
import NIOPosix
import Router
import Synchronization
import Transports

// Single hop (publisher → router → subscriber) and 1→1 throughput per transport, against an
// in-process router with every listener on 127.0.0.1, over real loopback sockets. Clients are
// `CLASPClient`s on an event loop of their own, as if they were another process; TLS clients
// pin the listener's self-signed certificate.

/// A transport the benchmarks run over. Another one (UDP, say) is one more entry in
/// `BenchTransport.all` with the listener it needs in `TransportLab.start`.
struct BenchTransport: Sendable {
    var name: String
    var scheme: CLASPEndpoint.Scheme

    static let all = [
        BenchTransport(name: "WebSocket", scheme: .ws),
        BenchTransport(name: "TCP", scheme: .tcp),
        BenchTransport(name: "WSS", scheme: .wss),
        BenchTransport(name: "TCP+TLS", scheme: .tcps),
    ]
}

/// The router, its listeners and one publisher/subscriber pair over the transport under test.
final class TransportLab: Sendable {
    let serverGroup: MultiThreadedEventLoopGroup
    let clientGroup: MultiThreadedEventLoopGroup
    let host: RouterHost
    let stops: [@Sendable () async throws -> Void]
    let publisher: CLASPClient
    let subscriber: CLASPClient
    let inbox: Inbox

    private init(
        serverGroup: MultiThreadedEventLoopGroup, clientGroup: MultiThreadedEventLoopGroup, host: RouterHost,
        stops: [@Sendable () async throws -> Void], publisher: CLASPClient, subscriber: CLASPClient
    ) {
        self.serverGroup = serverGroup
        self.clientGroup = clientGroup
        self.host = host
        self.stops = stops
        self.publisher = publisher
        self.subscriber = subscriber
        self.inbox = Inbox(subscriber.messages.makeAsyncIterator())
    }

    static let current = Mutex<TransportLab?>(nil)

    static func start(_ transport: BenchTransport) async throws {
        var logger = Logger(label: "transport-benchmarks")
        logger.logLevel = .critical
        let serverGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let host = RouterHost(configuration: RouterConfiguration(), eventLoop: serverGroup.next(), logger: logger)
        let pem = try SelfSignedCertificate.generate(names: ["127.0.0.1"])
        let identity = try TLSIdentity(certificatePEM: pem.certificate, privateKeyPEM: pem.privateKey)

        var listener = ListenerConfiguration(port: 0)
        listener.host = "127.0.0.1"
        listener.tls = transport.scheme.usesTLS ? identity : nil
        let port: Int
        let stop: @Sendable () async throws -> Void
        if transport.scheme.isWebSocket {
            var configuration = WebSocketServer.Configuration()
            configuration.listener = listener
            let server = try await WebSocketServer.start(configuration: configuration, host: host, group: serverGroup, logger: logger)
            (port, stop) = (server.localPort, server.shutdown)
        } else {
            var configuration = TCPServer.Configuration()
            configuration.listener = listener
            let server = try await TCPServer.start(configuration: configuration, host: host, group: serverGroup, logger: logger)
            (port, stop) = (server.localPort, server.shutdown)
        }

        var options = CLASPClient.Options()
        options.trust = .pinned(identity.fingerprint)
        let endpoint = CLASPEndpoint(scheme: transport.scheme, host: "127.0.0.1", port: port)
        let publisher = try await CLASPClient.connect(to: endpoint, name: "publisher", group: clientGroup, options: options)
        let subscriber = try await CLASPClient.connect(to: endpoint, name: "subscriber", group: clientGroup, options: options)
        let lab = TransportLab(
            serverGroup: serverGroup, clientGroup: clientGroup, host: host, stops: [stop],
            publisher: publisher, subscriber: subscriber)
        current.withLock { $0 = lab }
        try await subscriber.send(.subscribe(Subscribe(id: 1, pattern: "/bench/**")))
        try await subscriber.send(.ping)
        _ = try await lab.inbox.next(within: .seconds(5)) { $0 == .pong }
    }

    static func stop() async throws {
        guard let lab = current.withLock({ lab in defer { lab = nil }; return lab }) else { return }
        await lab.publisher.close()
        await lab.subscriber.close()
        for stop in lab.stops { try await stop() }
        await lab.host.shutdown()
        try await lab.clientGroup.shutdownGracefully()
        try await lab.serverGroup.shutdownGracefully()
    }

    static func running() throws -> TransportLab {
        guard let lab = current.withLock({ $0 }) else { throw BenchFailure("no lab running") }
        return lab
    }
}

/// The subscriber's inbound messages. Read by one task at a time: benchmark iterations run one
/// after another, and each has at most one reader.
final class Inbox: @unchecked Sendable {
    private var iterator: InboundMessages.AsyncIterator

    init(_ iterator: InboundMessages.AsyncIterator) {
        self.iterator = iterator
    }

    /// Reads messages until one matches; fails after `timeout` of non-matching ones, or when
    /// the connection closes.
    func next(within timeout: Duration, _ matches: (Message) -> Bool) async throws -> Message {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard let frame = try await iterator.next() else { throw BenchFailure("the subscriber's connection closed") }
            if matches(frame.message) { return frame.message }
        }
        throw BenchFailure("no matching message within \(timeout)")
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The value of a SET to `/bench/…`, if `message` is one.
func benchValue(_ message: Message) -> Int64? {
    guard case .set(let set) = message, case .int(let value) = set.value else { return nil }
    return value
}

let throughputBatch = 2_000
let setsPerSecond = BenchmarkMetric.custom("SETs delivered per second", polarity: .prefersLarger, useScalingFactor: false)

func transportConfiguration(
    _ transport: BenchTransport, metrics: [BenchmarkMetric], warmup: Int, maxIterations: Int
) -> Benchmark.Configuration {
    .init(
        metrics: metrics,
        timeUnits: .microseconds,
        warmupIterations: warmup,
        maxDuration: .seconds(8),
        maxIterations: maxIterations,
        setup: { try await TransportLab.start(transport) },
        teardown: { try await TransportLab.stop() }
    )
}

/// Values of the SETs sent, unique across iterations so each wait finds its own.
let sequence = Atomic<Int64>(0)

let benchmarks: @Sendable () -> Void = {
    for transport in BenchTransport.all {
        // Each iteration: one SET from the publisher until the subscriber has it (wall clock).
        Benchmark(
            "Single hop, \(transport.name)",
            configuration: transportConfiguration(transport, metrics: [.wallClock], warmup: 50, maxIterations: 5_000)
        ) { benchmark in
            let lab = try TransportLab.running()
            let value = sequence.add(1, ordering: .relaxed).newValue
            benchmark.startMeasurement()
            try await lab.publisher.send(.set(SetMessage(address: "/bench/hop", value: .int(value))))
            _ = try await lab.inbox.next(within: .seconds(5)) { benchValue($0) == value }
            benchmark.stopMeasurement()
        }

        // Each iteration: 2,000 SETs to distinct addresses, sent back to back, until the
        // subscriber has the last one (they arrive in order on one connection).
        Benchmark(
            "1→1 throughput, \(transport.name)",
            configuration: transportConfiguration(transport, metrics: [.wallClock, setsPerSecond], warmup: 2, maxIterations: 40)
        ) { benchmark in
            let lab = try TransportLab.running()
            let first = sequence.add(Int64(throughputBatch), ordering: .relaxed).newValue - Int64(throughputBatch) + 1
            let last = first + Int64(throughputBatch) - 1
            let started = ContinuousClock.now
            benchmark.startMeasurement()
            async let received = lab.inbox.next(within: .seconds(20)) { benchValue($0) == last }
            for value in first...last {
                try await lab.publisher.send(.set(SetMessage(address: "/bench/t/\(value % 500)", value: .int(value))))
            }
            _ = try await received
            benchmark.stopMeasurement()
            let elapsed = (ContinuousClock.now - started).components
            let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
            benchmark.measurement(setsPerSecond, Int(Double(throughputBatch) / max(seconds, 1e-9)))
        }
    }
}

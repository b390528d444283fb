import Benchmark
import CLASP
import Logging
import NIOCore
import NIOPosix
import Router
import Synchronization
import Transports

// CLASP over UDP against an in-process router and `UDPServer` on 127.0.0.1 (docs/benchmarks.md,
// "Transports — UDP"): the router on one event-loop thread, two raw datagram clients (a
// sender and a subscriber) on a second, as if they were another process. Both clients say
// HELLO; the subscriber subscribes to /bench/**.

let hopLatency = BenchmarkMetric.custom("SET to subscriber, one hop (µs)", polarity: .prefersSmaller, useScalingFactor: false)
let setsPerSecond = BenchmarkMetric.custom("SETs delivered per second", polarity: .prefersLarger, useScalingFactor: false)
let setsLost = BenchmarkMetric.custom("SETs lost", polarity: .prefersSmaller, useScalingFactor: false)

/// SETs per throughput iteration, and how many may be on their way at once.
let burstCount = 10_000
let window = 64

final class Lab: Sendable {
    let serverGroup: MultiThreadedEventLoopGroup
    let clientGroup: MultiThreadedEventLoopGroup
    let host: RouterHost
    let server: UDPServer
    let sender: any Channel
    let subscriber: NIOLoopBound<Subscriber>
    let serverAddress: SocketAddress
    private let nextValue = Mutex<Int64>(0)

    private init(
        serverGroup: MultiThreadedEventLoopGroup, clientGroup: MultiThreadedEventLoopGroup, host: RouterHost, server: UDPServer,
        sender: any Channel, subscriber: NIOLoopBound<Subscriber>, serverAddress: SocketAddress
    ) {
        self.serverGroup = serverGroup
        self.clientGroup = clientGroup
        self.host = host
        self.server = server
        self.sender = sender
        self.subscriber = subscriber
        self.serverAddress = serverAddress
    }

    static let current = Mutex<Lab?>(nil)

    static func start() async throws {
        var logger = Logger(label: "udp-benchmarks")
        logger.logLevel = .critical
        let serverGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let host = RouterHost(configuration: RouterConfiguration(), eventLoop: serverGroup.next(), logger: logger)
        var configuration = UDPServer.Configuration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        let server = try await UDPServer.start(configuration: configuration, host: host, logger: logger)
        let serverAddress = try SocketAddress(ipAddress: "127.0.0.1", port: server.localPort)
        let loop = clientGroup.next()
        let sender = try await DatagramBootstrap(group: loop).bind(host: "127.0.0.1", port: 0).get()
        let subscriberChannel = try await DatagramBootstrap(group: loop)
            .channelOption(.socketOption(.so_rcvbuf), value: 4 * 1_024 * 1_024)
            .bind(host: "127.0.0.1", port: 0).get()
        let subscriber = try await loop.submit {
            let handler = Subscriber()
            try subscriberChannel.pipeline.syncOperations.addHandler(handler)
            return NIOLoopBound(handler, eventLoop: loop)
        }.get()
        let lab = Lab(
            serverGroup: serverGroup, clientGroup: clientGroup, host: host, server: server, sender: sender, subscriber: subscriber,
            serverAddress: serverAddress)
        try await lab.handshake(sender, name: "bench-sender")
        try await lab.handshake(subscriberChannel, name: "bench-subscriber")
        try await lab.write(.subscribe(Subscribe(id: 1, pattern: "/bench/**")), on: subscriberChannel)
        try await Task.sleep(for: .milliseconds(100))  // the SUBSCRIBE is in before the first SET
        current.withLock { $0 = lab }
    }

    static func stop() async throws {
        guard let lab = current.withLock({ lab in defer { lab = nil }; return lab }) else { return }
        try? await lab.sender.close()
        try? await lab.server.shutdown()
        await lab.host.shutdown()
        try await lab.clientGroup.shutdownGracefully()
        try await lab.serverGroup.shutdownGracefully()
    }

    static func running() throws -> Lab {
        guard let lab = current.withLock({ $0 }) else { throw Failure("lab not started") }
        return lab
    }

    private func handshake(_ channel: any Channel, name: String) async throws {
        try await write(.hello(Hello(features: .allSignals, name: name)), on: channel)
    }

    private func write(_ message: Message, on channel: any Channel) async throws {
        let bytes = try message.encodedFrame()
        try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: serverAddress, data: channel.allocator.buffer(bytes: bytes))).get()
    }

    func takeValues(_ count: Int) -> ClosedRange<Int64> {
        nextValue.withLock { next in
            defer { next += Int64(count) }
            return next...(next + Int64(count) - 1)
        }
    }

    /// One SET from the sender; nanoseconds until the subscriber has its echo.
    func hop() async throws -> Int64 {
        let value = takeValues(1).lowerBound
        let frame = try Message.set(SetMessage(address: "/bench/hop", value: .int(value))).encodedFrame()
        let (sender, subscriber, server) = (self.sender, self.subscriber, serverAddress)
        return try await subscriber.eventLoop.flatSubmit {
            let promise = subscriber.eventLoop.makePromise(of: NIODeadline.self)
            subscriber.value.await(value, promise: promise)
            let sent = NIODeadline.now()
            sender.writeAndFlush(AddressedEnvelope(remoteAddress: server, data: sender.allocator.buffer(bytes: frame)), promise: nil)
            return promise.futureResult.map { ($0 - sent).nanoseconds }
        }.get()
    }

    /// `burstCount` SETs, at most `window` unanswered at once; (seconds taken, SETs lost).
    func burst() async throws -> (seconds: Double, lost: Int) {
        let values = takeValues(burstCount)
        let frames = try values.map { try Message.set(SetMessage(address: "/bench/burst", value: .int($0))).encodedFrame() }
        let (sender, subscriber, server) = (self.sender, self.subscriber, serverAddress)
        return try await subscriber.eventLoop.flatSubmit {
            let promise = subscriber.eventLoop.makePromise(of: Int.self)
            let started = NIODeadline.now()
            subscriber.value.run(frames, first: values.lowerBound, window: window, through: sender, to: server, promise: promise)
            return promise.futureResult.map { lost in (Double((NIODeadline.now() - started).nanoseconds) / 1e9, lost) }
        }.get()
    }
}

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The subscriber's socket handler, on the client loop: completes the wait for one value, or
/// keeps a window of SETs in flight (each arrival lets one more go).
final class Subscriber: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private var awaited: (value: Int64, promise: EventLoopPromise<NIODeadline>, timeout: Scheduled<Void>)?
    private var burst: Burst?

    private struct Burst {
        let frames: [[UInt8]]
        let first: Int64
        let sender: any Channel
        let server: SocketAddress
        let promise: EventLoopPromise<Int>
        var sent = 0
        var received = 0
        var lastProgress = NIODeadline.now()
        var watchdog: Scheduled<Void>?
    }

    func await(_ value: Int64, promise: EventLoopPromise<NIODeadline>) {
        let timeout = promise.futureResult.eventLoop.scheduleTask(in: .seconds(1)) {
            promise.fail(Failure("SET \(value) did not arrive within 1 s"))
        }
        awaited = (value, promise, timeout)
    }

    func run(_ frames: [[UInt8]], first: Int64, window: Int, through sender: any Channel, to server: SocketAddress, promise: EventLoopPromise<Int>) {
        burst = Burst(frames: frames, first: first, sender: sender, server: server, promise: promise)
        for _ in 0..<window { sendNext() }
        sender.flush()
        watch(on: promise.futureResult.eventLoop)
    }

    /// A lost SET never frees its place in the window: after 100 ms without progress the rest
    /// counts as lost.
    private func watch(on loop: any EventLoop) {
        burst?.watchdog = loop.assumeIsolated().scheduleTask(in: .milliseconds(100)) {
            guard let burst = self.burst else { return }
            if NIODeadline.now() - burst.lastProgress > .milliseconds(100) {
                self.finishBurst()
            } else {
                self.watch(on: loop)
            }
        }
    }

    private func sendNext() {
        guard var current = burst, current.sent < current.frames.count else { return }
        let frame = current.frames[current.sent]
        current.sent += 1
        burst = current
        current.sender.write(AddressedEnvelope(remoteAddress: current.server, data: current.sender.allocator.buffer(bytes: frame)), promise: nil)
    }

    private func finishBurst() {
        guard let done = burst else { return }
        burst = nil
        done.watchdog?.cancel()
        done.promise.succeed(done.frames.count - done.received)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let datagram = unwrapInboundIn(data).data
        guard case .set(let set)? = datagram.withUnsafeReadableBytes({ try? FrameCodec.decode($0).message }),
            case .int(let value) = set.value
        else { return }
        if let awaited, awaited.value == value {
            self.awaited = nil
            awaited.timeout.cancel()
            awaited.promise.succeed(NIODeadline.now())
        }
        if var current = burst, value >= current.first {
            current.received += 1
            current.lastProgress = NIODeadline.now()
            burst = current
            if current.received == current.frames.count {
                finishBurst()
            } else {
                sendNext()
                current.sender.flush()
            }
        }
    }
}

func udpConfiguration(_ metrics: [BenchmarkMetric], maxIterations: Int, maxDuration: Duration = .seconds(15)) -> Benchmark.Configuration {
    .init(
        metrics: metrics,
        timeUnits: .microseconds,
        warmupIterations: 5,
        maxDuration: maxDuration,
        maxIterations: maxIterations,
        setup: { try await Lab.start() },
        teardown: { try await Lab.stop() }
    )
}

let benchmarks: @Sendable () -> Void = {
    // Each iteration: one SET, sender → router → subscriber, nothing else in flight.
    Benchmark("UDP single hop", configuration: udpConfiguration([hopLatency], maxIterations: 20_000)) { benchmark in
        let nanoseconds = try await Lab.running().hop()
        benchmark.measurement(hopLatency, Int(nanoseconds / 1_000))
    }

    // Each iteration: 10,000 SETs from one sender to one subscriber, 64 in flight at most.
    Benchmark("UDP 1→1 throughput, 10,000 SETs, window 64", configuration: udpConfiguration([setsPerSecond, setsLost], maxIterations: 50)) { benchmark in
        let (seconds, lost) = try await Lab.running().burst()
        benchmark.measurement(setsPerSecond, Int(Double(burstCount - lost) / seconds))
        benchmark.measurement(setsLost, lost)
    }
}

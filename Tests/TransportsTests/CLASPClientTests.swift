import CLASP
import NIOCore
import NIOPosix
import Router
import Synchronization
import Testing
import Transports

/// `CLASPClient` against the real WebSocket server and router on loopback, and against
/// scripted servers that misbehave.
@Suite struct CLASPClientTests {
    static func connect(
        _ server: TestServer,
        name: String = "client-test",
        _ configure: (inout CLASPClient.Options) -> Void = { _ in }
    ) async throws -> CLASPClient {
        var options = CLASPClient.Options()
        configure(&options)
        return try await CLASPClient.connect(host: "127.0.0.1", port: server.port, name: name, group: server.group, options: options)
    }

    /// The client's error from `connect` to `port`, or nil if it connected.
    static func connectError(port: Int, group: any EventLoopGroup, timeout: Duration = .seconds(5)) async -> CLASPClientError? {
        var options = CLASPClient.Options()
        options.timeout = timeout
        do {
            let client = try await CLASPClient.connect(host: "127.0.0.1", port: port, group: group, options: options)
            await client.close()
            return nil
        } catch {
            return error
        }
    }

    // MARK: Handshake

    @Test func connectsAndGetsWelcome() async throws {
        var router = RouterConfiguration()
        router.name = "welcome-test"
        try await TestServer.with(router: router) { server in
            let before = SystemClock().wallMicroseconds()
            let client = try await Self.connect(server)
            #expect(client.serverName == "welcome-test")
            #expect(client.sessionID.utf8.count == 36)
            #expect(client.welcomeTime >= before && client.welcomeTime <= SystemClock().wallMicroseconds())
            #expect(client.welcomeReceivedAt >= client.welcomeTime)
            #expect(client.isConnected)
            #expect(await server.host.connectionCount() == 1)
            // The router follows WELCOME with a SNAPSHOT, the first inbound frame.
            let inbox = Inbox.start(client)
            #expect(await inbox.wait { $0.first.map(Self.isSnapshot) == true })
            await client.close()
            #expect(!client.isConnected)
            #expect(await WebSocketSessionTests.waitForConnections(server.host, 0) == 0)
        }
    }

    @Test func setReachesASubscribedClient() async throws {
        try await TestServer.with { server in
            let subscriber = try await Self.connect(server, name: "subscriber")
            let publisher = try await Self.connect(server, name: "publisher")
            let inbox = Inbox.start(subscriber)
            try await subscriber.send(.subscribe(Subscribe(id: 1, pattern: "/mix/**")))
            // PONG comes after anything the SUBSCRIBE caused: the subscription is in place.
            try await subscriber.send(.ping)
            #expect(await inbox.wait { $0.contains(.pong) })

            try await publisher.send(.set(SetMessage(address: "/mix/fader/1", value: .float(0.5))))
            let echoed = await inbox.wait { messages in
                messages.contains { message in
                    guard case .set(let set) = message else { return false }
                    return set.address == "/mix/fader/1" && set.value == .float(0.5) && set.revision == 1
                }
            }
            #expect(echoed)
            await publisher.close()
            await subscriber.close()
        }
    }

    @Test func aSlowConsumerLosesNothing() async throws {
        try await TestServer.with { server in
            // A tiny buffer: reading stops and resumes many times during the run.
            let subscriber = try await Self.connect(server, name: "slow") { options in
                options.inboundLowWatermark = 2
                options.inboundHighWatermark = 8
            }
            let publisher = try await Self.connect(server, name: "fast")
            try await subscriber.send(.subscribe(Subscribe(id: 1, pattern: "/flood/**")))
            try await subscriber.send(.ping)
            let count = 2_000
            for index in 0..<count {
                try await publisher.send(.set(SetMessage(address: "/flood/\(index)", value: .int(Int64(index)))))
            }
            var sets = 0
            var pongs = 0
            for await frame in subscriber.frames {
                switch try frame.decoded().message {
                case .set: sets += 1
                case .pong: pongs += 1
                default: break
                }
                if sets == count { break }
            }
            #expect(sets == count)
            #expect(pongs == 1)
            // Reading resumed: a SYNC round trip still works.
            let clock = try await subscriber.sync(rounds: 1)
            #expect(clock.sampleCount == 1)
            await publisher.close()
            await subscriber.close()
        }
    }

    // MARK: Clock sync

    @Test func clockSyncOnLoopbackIsWithin100Microseconds() async throws {
        try await TestServer.with { server in
            let client = try await Self.connect(server)
            var clock = try await client.sync(rounds: 5)
            // Same clock on both sides: the true offset is 0, inside every sample's bound
            // (+2 µs for the four timestamps cut to whole µs).
            #expect(abs(clock.offset) <= clock.errorBound + 2)
            // On a busy machine all five round trips can be slow; more rounds find fast ones.
            var rounds = 5
            while abs(clock.offset) > 100, rounds < 50 {
                clock = try await client.sync(rounds: 5)
                rounds += 5
            }
            #expect(
                abs(clock.offset) <= 100,
                "offset \(clock.offset) µs after \(rounds) rounds, error bound \(clock.errorBound) µs, jitter \(clock.jitter) µs"
            )
            #expect(clock.sampleCount == rounds)
            #expect(clock.roundTrip > 0)
            #expect(abs(Int64(client.serverTime()) - Int64(SystemClock().wallMicroseconds())) < 1_000)
            await client.close()
        }
    }

    @Test func aClockBehindTheServerGetsAPositiveOffset() async throws {
        try await TestServer.with { server in
            // Our clock reads 5 s behind the server's: server = local + 5 s.
            let client = try await Self.connect(server) { $0.clock = ShiftedClock(shift: -5_000_000) }
            let clock = try await client.sync(rounds: 5)
            #expect(abs(clock.offset - 5_000_000) <= clock.errorBound + 2)
            #expect(abs(clock.offset - 5_000_000) <= 1_000)
            await client.close()
        }
    }

    @Test func tenClientsSyncAtOnce() async throws {
        try await TestServer.with { server in
            // The clients' handlers on loops of their own, as in separate processes.
            let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 2)
            defer { clientGroup.shutdownGracefully { _ in } }
            var clients: [CLASPClient] = []
            for index in 0..<10 {
                clients.append(try await CLASPClient.connect(
                    host: "127.0.0.1", port: server.port, name: "sync-\(index)", group: clientGroup
                ))
            }
            let clocks = try await withThrowingTaskGroup(of: ClockSync.self) { group in
                for client in clients {
                    group.addTask {
                        var clock = try await client.sync(rounds: 5)
                        // Every one of ten simultaneous exchanges waits behind the others;
                        // on a busy machine a client may need more rounds to find fast ones.
                        while abs(clock.offset) > 1_000, clock.sampleCount < 50 {
                            clock = try await client.sync(rounds: 5)
                        }
                        return clock
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(clocks.count == 10)
            for clock in clocks {
                #expect(abs(clock.offset) <= clock.errorBound + 2)
                #expect(abs(clock.offset) <= 1_000, "offset \(clock.offset) µs, error bound \(clock.errorBound) µs")
                #expect(clock.jitter < 10_000, "jitter \(clock.jitter) µs")
            }
            for client in clients { await client.close() }
        }
    }

    // MARK: Failures

    @Test func connectionRefusedIsReported() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        // A port that was just free: bind it, note it, release it.
        let listener = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        let port = listener.localAddress?.port ?? 0
        try await listener.close()
        let error = await Self.connectError(port: port, group: group)
        #expect(error == .connectionRefused(host: "127.0.0.1", port: port))
        #expect(error?.description == "connection refused by 127.0.0.1:\(port)")
        try await group.shutdownGracefully()
    }

    @Test func aServerAtItsSessionLimitClosesBeforeWelcome() async throws {
        var router = RouterConfiguration()
        router.maxSessions = 0
        try await TestServer.with(router: router) { server in
            let error = await Self.connectError(port: server.port, group: server.group)
            #expect(error == .closedBeforeWelcome(closeCode: 1013, reason: CloseReason.routerFull.description))
        }
    }

    @Test func aServerThatHangsUpDuringTheUpgradeIsReported() async throws {
        try await ScriptedServer.with(reply: nil, thenClose: true) { server in
            let error = await Self.connectError(port: server.port, group: server.group)
            guard case .closedBeforeWelcome(closeCode: nil, let reason) = error else {
                Issue.record("got \(String(describing: error))")
                return
            }
            #expect(reason.hasPrefix("connection closed during the WebSocket upgrade"))
        }
    }

    @Test func aRefusedUpgradeNamesTheStatus() async throws {
        let reply = "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"
        try await ScriptedServer.with(reply: Array(reply.utf8), thenClose: false) { server in
            let error = await Self.connectError(port: server.port, group: server.group)
            guard case .upgradeRefused(status: 404, _) = error else {
                Issue.record("got \(String(describing: error))")
                return
            }
        }
    }

    @Test func aSilentServerTimesOut() async throws {
        try await ScriptedServer.with(reply: nil, thenClose: false) { server in
            let error = await Self.connectError(port: server.port, group: server.group, timeout: .milliseconds(300))
            #expect(error == .timedOut("the WebSocket upgrade"))
            // The client hung up at its 300 ms deadline, not at the 5 s default. Timed at the
            // server: on a busy machine this test's task may resume seconds later.
            var lifetimes = server.lifetimes.all
            for _ in 0..<100 where lifetimes.isEmpty {
                try await Task.sleep(for: .milliseconds(50))
                lifetimes = server.lifetimes.all
            }
            #expect(lifetimes.count == 1)
            #expect(lifetimes.allSatisfy { $0 < .seconds(3) }, "\(lifetimes)")
        }
    }

    @Test func closeIsIdempotentAndLaterCallsFail() async throws {
        try await TestServer.with { server in
            let client = try await Self.connect(server)
            await client.close()
            await client.close()
            #expect(!client.isConnected)
            await #expect(throws: CLASPClientError.connectionClosed) { try await client.send(.ping) }
            await #expect(throws: CLASPClientError.connectionClosed) { try await client.sync() }
            #expect(await WebSocketSessionTests.waitForConnections(server.host, 0) == 0)
        }
    }

    @Test func anUnencodableMessageIsRefusedBeforeSending() async throws {
        try await TestServer.with { server in
            let client = try await Self.connect(server)
            let long = String(repeating: "a", count: 70_000)
            await #expect(throws: CLASPClientError.self) {
                try await client.send(.set(SetMessage(address: "/" + long, value: .bool(true))))
            }
            #expect(client.isConnected)
            await client.close()
        }
    }

    static func isSnapshot(_ message: Message) -> Bool {
        if case .snapshot = message { return true }
        return false
    }
}

/// The system clock shifted by a fixed amount.
struct ShiftedClock: RouterClock {
    let shift: Int64

    func wallMicroseconds() -> UInt64 {
        UInt64(Int64(SystemClock().wallMicroseconds()) + shift)
    }

    func monotonicNanoseconds() -> UInt64 {
        SystemClock().monotonicNanoseconds()
    }
}

/// Collects a client's decoded messages in the background; tests poll it with bounded waits.
final class Inbox: Sendable {
    private let messages = Mutex<[Message]>([])

    static func start(_ client: CLASPClient) -> Inbox {
        let inbox = Inbox()
        Task {
            do {
                for try await frame in client.messages {
                    inbox.messages.withLock { $0.append(frame.message) }
                }
            } catch {
                Issue.record("undecodable frame: \(error)")
            }
        }
        return inbox
    }

    func wait(timeout: Duration = .seconds(5), _ condition: ([Message]) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if messages.withLock({ condition($0) }) { return true }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return messages.withLock { condition($0) }
    }
}

/// A TCP server on 127.0.0.1 that answers the first bytes it gets with `reply` (if any), then
/// closes the connection or keeps it open saying nothing.
struct ScriptedServer {
    let group: MultiThreadedEventLoopGroup
    let channel: any Channel
    let lifetimes: ConnectionLifetimes
    var port: Int { channel.localAddress?.port ?? 0 }

    /// How long each connection stayed open, timed on the server's own event loop thread, so a
    /// test can time the client's hang-up without counting how late its own task resumed.
    final class ConnectionLifetimes: Sendable {
        private let ended = Mutex<[Duration]>([])
        var all: [Duration] { ended.withLock { $0 } }
        func record(_ lifetime: Duration) { ended.withLock { $0.append(lifetime) } }
    }

    static func with(reply: [UInt8]?, thenClose: Bool, _ body: (ScriptedServer) async throws -> Void) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let lifetimes = ConnectionLifetimes()
        let channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Responder(reply: reply, thenClose: thenClose, lifetimes: lifetimes))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let server = ScriptedServer(group: group, channel: channel, lifetimes: lifetimes)
        do {
            try await body(server)
        } catch {
            try? await channel.close()
            try? await group.shutdownGracefully()
            throw error
        }
        try await channel.close()
        try await group.shutdownGracefully()
    }

    private final class Responder: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let reply: [UInt8]?
        let thenClose: Bool
        let lifetimes: ConnectionLifetimes
        var answered = false
        var opened = ContinuousClock.now

        init(reply: [UInt8]?, thenClose: Bool, lifetimes: ConnectionLifetimes) {
            self.reply = reply
            self.thenClose = thenClose
            self.lifetimes = lifetimes
        }

        func channelActive(context: ChannelHandlerContext) {
            opened = ContinuousClock.now
            context.fireChannelActive()
        }

        func channelInactive(context: ChannelHandlerContext) {
            lifetimes.record(ContinuousClock.now - opened)
            context.fireChannelInactive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard !answered else { return }
            answered = true
            if let reply {
                context.writeAndFlush(Self.wrapOutboundOut(context.channel.allocator.buffer(bytes: reply)), promise: nil)
            }
            if thenClose { context.close(promise: nil) }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}

import CLASP
import NIOCore
import NIOPosix
import Router
import Synchronization
import Testing
import Transports

/// A router host with the UDP transport and the TCP listener on 127.0.0.1, OS-picked ports.
struct UDPTestServer {
    let group: MultiThreadedEventLoopGroup
    let host: RouterHost
    let udp: UDPServer
    let tcp: TCPServer

    static func with(
        _ configure: (inout UDPServer.Configuration) -> Void = { _ in },
        _ body: (UDPTestServer) async throws -> Void
    ) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let host = RouterHost(configuration: RouterConfiguration(), eventLoop: group.next(), logger: TestServer.logger)
        var configuration = UDPServer.Configuration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configure(&configuration)
        var tcpConfiguration = TCPServer.Configuration()
        tcpConfiguration.listener.host = "127.0.0.1"
        tcpConfiguration.listener.port = 0
        let udp = try await UDPServer.start(configuration: configuration, host: host, logger: TestServer.logger)
        let tcp = try await TCPServer.start(configuration: tcpConfiguration, host: host, group: group, logger: TestServer.logger)
        var failure: (any Error)?
        do { try await body(UDPTestServer(group: group, host: host, udp: udp, tcp: tcp)) } catch { failure = error }
        try? await udp.shutdown()
        try? await tcp.shutdown()
        await host.shutdown()
        try? await group.shutdownGracefully()
        if let failure { throw failure }
    }

    func client() async throws -> UDPTestClient {
        try await UDPTestClient.open(serverPort: udp.localPort, group: group)
    }

    /// A UDP client after HELLO, WELCOME and the first SNAPSHOT.
    func session(_ name: String = "udp-test") async throws -> UDPTestClient {
        let client = try await client()
        try await client.send(.hello(Hello(features: .allSignals, name: name)))
        guard case .welcome? = await client.next() else { throw TestFailure("no WELCOME") }
        guard case .snapshot? = await client.next() else { throw TestFailure("no SNAPSHOT") }
        return client
    }

    func tcpSession() async throws -> TCPTestClient {
        let client = TCPTestClient(raw: try await RawClient.connect(port: tcp.localPort, group: group))
        try await client.send(WebSocketSessionTests.hello)
        guard case .welcome? = await client.next() else { throw TestFailure("no WELCOME") }
        guard case .snapshot? = await client.next() else { throw TestFailure("no SNAPSHOT") }
        return client
    }

    func sessionCount() async -> Int { await host.connectionCount() }
}

/// A datagram socket on 127.0.0.1 that records every datagram it receives.
final class UDPTestClient: Sendable {
    private let channel: any Channel
    private let server: SocketAddress
    private let inbox: DatagramInbox

    private init(channel: any Channel, server: SocketAddress, inbox: DatagramInbox) {
        self.channel = channel
        self.server = server
        self.inbox = inbox
    }

    static func open(serverPort: Int, group: any EventLoopGroup) async throws -> UDPTestClient {
        let inbox = DatagramInbox()
        let channel = try await DatagramBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(DatagramRecorder(inbox: inbox)) }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return UDPTestClient(channel: channel, server: try SocketAddress(ipAddress: "127.0.0.1", port: serverPort), inbox: inbox)
    }

    func sendRaw(_ bytes: [UInt8]) async throws {
        let envelope = AddressedEnvelope(remoteAddress: server, data: channel.allocator.buffer(bytes: bytes))
        try await channel.writeAndFlush(envelope).get()
    }

    func send(_ message: Message, qos: QoS? = nil, timestamp: UInt64? = nil) async throws {
        try await sendRaw(try message.encodedFrame(qos: qos, timestamp: timestamp))
    }

    /// The next datagram, or nil if none arrives within `timeout`.
    func nextDatagram(timeout: Duration = .seconds(5)) async -> [UInt8]? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let datagram = inbox.pop() { return datagram }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return inbox.pop()
    }

    func next(timeout: Duration = .seconds(5)) async -> Message? {
        guard let datagram = await nextDatagram(timeout: timeout) else { return nil }
        return try? FrameCodec.decode(datagram).message
    }

    /// Skips messages until one matches.
    func expect(timeout: Duration = .seconds(5), _ matches: (Message) -> Bool) async -> Message? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard let message = await next(timeout: deadline - ContinuousClock.now) else { return nil }
            if matches(message) { return message }
        }
        return nil
    }

    func close() async {
        try? await channel.close()
    }
}

final class DatagramInbox: Sendable {
    private let datagrams = Mutex<[[UInt8]]>([])

    func append(_ datagram: [UInt8]) { datagrams.withLock { $0.append(datagram) } }
    func pop() -> [UInt8]? { datagrams.withLock { $0.isEmpty ? nil : $0.removeFirst() } }
}

private final class DatagramRecorder: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let inbox: DatagramInbox

    init(inbox: DatagramInbox) { self.inbox = inbox }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        inbox.append(Array(unwrapInboundIn(data).data.readableBytesView))
    }
}

@Suite(.timeLimit(.minutes(1))) struct UDPServerTests {
    private func isSet(_ address: String) -> (Message) -> Bool {
        { if case .set(let set) = $0 { set.address == address } else { false } }
    }

    @Test func helloOpensASessionThatSeesSetsFromTCP() async throws {
        try await UDPTestServer.with { server in
            let udp = try await server.session()
            let tcp = try await server.tcpSession()
            try await udp.send(.subscribe(Subscribe(id: 1, pattern: "/u/**")))
            try await udp.send(.ping)
            #expect(await udp.expect { $0 == .pong } != nil)
            try await tcp.send(.set(SetMessage(address: "/u/a", value: .int(3))))
            guard case .set(let set)? = await udp.expect(isSet("/u/a")) else { throw TestFailure("no SET over UDP") }
            #expect(set.value == .int(3) && set.revision == 1)
            await udp.close()
        }
    }

    @Test func datagramsFromAnUnknownPeerOpenNothingUnlessTheyAreHello() async throws {
        try await UDPTestServer.with { server in
            let stranger = try await server.client()
            try await stranger.send(.ping)
            try await stranger.send(.set(SetMessage(address: "/stray", value: .int(1))))
            try await stranger.sendRaw([0x53, 0xFF])
            #expect(await stranger.nextDatagram(timeout: .milliseconds(300)) == nil)
            #expect(await server.sessionCount() == 0)
            try await stranger.send(.hello(Hello(features: .allSignals, name: "late")))
            guard case .welcome? = await stranger.next() else { throw TestFailure("no WELCOME") }
            #expect(await server.sessionCount() == 1)
            await stranger.close()
        }
    }

    @Test func anIdleSessionEndsAndTheRouterForgetsIt() async throws {
        // 1 s: room to count the session before it ends, on a busy machine.
        try await UDPTestServer.with({ $0.idleTimeout = 1 }) { server in
            let udp = try await server.session()
            #expect(await server.sessionCount() == 1)
            let deadline = ContinuousClock.now + .seconds(5)
            while await server.sessionCount() > 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(await server.sessionCount() == 0)
            // The address is a stranger again: only HELLO is answered.
            try await udp.send(.ping)
            #expect(await udp.nextDatagram(timeout: .milliseconds(300)) == nil)
            await udp.close()
        }
    }

    @Test func aFrameOverTheDatagramBudgetBecomesError402() async throws {
        try await UDPTestServer.with({ $0.maxDatagramBytes = 600 }) { server in
            let udp = try await server.session()
            try await udp.send(.subscribe(Subscribe(id: 1, pattern: "/big/**")))
            try await udp.send(.set(SetMessage(address: "/big/a", value: .string(String(repeating: "x", count: 700)))))
            guard case .error(let error)? = await udp.expect({ if case .error = $0 { true } else { isSet("/big/a")($0) } }) else {
                throw TestFailure("no ERROR in place of the echo")
            }
            #expect(error.code == 402 && error.address == "/big/a")
            #expect(error.message.contains("600"))
            // Under the budget: sent as it is.
            try await udp.send(.set(SetMessage(address: "/big/b", value: .string("small"))))
            #expect(await udp.expect(isSet("/big/b")) != nil)
            await udp.close()
        }
    }

    @Test func aFanOutIsOneDatagramPerSession() async throws {
        try await UDPTestServer.with { server in
            var clients: [UDPTestClient] = []
            for index in 0..<5 {
                let client = try await server.session("udp-\(index)")
                try await client.send(.subscribe(Subscribe(id: 1, pattern: "/fan")))
                try await client.send(.ping)
                #expect(await client.expect { $0 == .pong } != nil)
                clients.append(client)
            }
            let tcp = try await server.tcpSession()
            try await tcp.send(.set(SetMessage(address: "/fan", value: .float(0.5))))
            for client in clients {
                #expect(await client.expect(isSet("/fan")) != nil)
                #expect(await client.nextDatagram(timeout: .milliseconds(100)) == nil)
                await client.close()
            }
        }
    }
}

import CLASP
import NIOCore
import NIOPosix
import Router
import Synchronization
import Testing
import Transports

/// A router host with both listeners on 127.0.0.1, OS-picked ports, for one test.
struct DualTestServer {
    let group: MultiThreadedEventLoopGroup
    let host: RouterHost
    let websocket: WebSocketServer
    let tcp: TCPServer

    static func with(
        _ configure: (inout TCPServer.Configuration) -> Void = { _ in },
        _ body: (DualTestServer) async throws -> Void
    ) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let host = RouterHost(configuration: RouterConfiguration(), eventLoop: group.next(), logger: TestServer.logger)
        var wsConfiguration = WebSocketServer.Configuration()
        wsConfiguration.listener.host = "127.0.0.1"
        wsConfiguration.listener.port = 0
        var tcpConfiguration = TCPServer.Configuration()
        tcpConfiguration.listener.host = "127.0.0.1"
        tcpConfiguration.listener.port = 0
        configure(&tcpConfiguration)
        let websocket = try await WebSocketServer.start(
            configuration: wsConfiguration, host: host, group: group, logger: TestServer.logger)
        let tcp = try await TCPServer.start(configuration: tcpConfiguration, host: host, group: group, logger: TestServer.logger)
        let server = DualTestServer(group: group, host: host, websocket: websocket, tcp: tcp)
        var failure: (any Error)?
        do { try await body(server) } catch { failure = error }
        try? await tcp.shutdown()
        try? await websocket.shutdown()
        await host.shutdown()
        try? await group.shutdownGracefully()
        if let failure { throw failure }
    }

    func tcpClient(receiveBuffer: Int? = nil) async throws -> TCPTestClient {
        TCPTestClient(raw: try await RawClient.connect(port: tcp.localPort, group: group, receiveBuffer: receiveBuffer))
    }

    /// A WebSocket client after HELLO, WELCOME and the first SNAPSHOT.
    func webSocketSession() async throws -> WebSocketTestClient {
        let client = try await WebSocketTestClient.connect(port: websocket.localPort, group: group)
        try await client.sendBinary(WebSocketSessionTests.frame(WebSocketSessionTests.hello))
        guard case .welcome = WebSocketSessionTests.decode(await client.nextFrame()) else { throw TestFailure("no WELCOME") }
        guard case .snapshot = WebSocketSessionTests.decode(await client.nextFrame()) else { throw TestFailure("no SNAPSHOT") }
        return client
    }
}

/// A CLASP-over-TCP client for these tests: writes `u32 length + frame`, parses the same.
final class TCPTestClient: Sendable {
    let raw: RawClient
    private let cursor = Mutex(0)

    init(raw: RawClient) { self.raw = raw }

    static func prefixed(_ frame: [UInt8]) -> [UInt8] {
        let length = UInt32(frame.count)
        return [UInt8(length >> 24), UInt8((length >> 16) & 0xFF), UInt8((length >> 8) & 0xFF), UInt8(length & 0xFF)] + frame
    }

    func send(_ message: Message) async throws {
        try await raw.write(Self.prefixed(try message.encodedFrame()))
    }

    /// The next whole message, or nil if none arrives within `timeout` (or the peer closed).
    func next(timeout: Duration = .seconds(5)) async -> Message? {
        var frame: [UInt8]?
        _ = await raw.wait(timeout: timeout) { received in
            frame = cursor.withLock { offset in Self.parse(received.bytes, at: &offset) }
            return frame != nil || received.closed
        }
        if frame == nil {
            let bytes = raw.snapshot.bytes
            frame = cursor.withLock { offset in Self.parse(bytes, at: &offset) }
        }
        return frame.flatMap { try? FrameCodec.decode($0).message }
    }

    /// Messages until one matches `stop` (included) or nothing more arrives.
    func messages(until stop: (Message) -> Bool, timeout: Duration = .seconds(10)) async -> [Message] {
        var messages: [Message] = []
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, let message = await next(timeout: deadline - ContinuousClock.now) {
            messages.append(message)
            if stop(message) { break }
        }
        return messages
    }

    private static func parse(_ bytes: [UInt8], at offset: inout Int) -> [UInt8]? {
        guard bytes.count - offset >= 4 else { return nil }
        let length = bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
        guard bytes.count - offset - 4 >= length else { return nil }
        let frame = Array(bytes[(offset + 4)..<(offset + 4 + length)])
        offset += 4 + length
        return frame
    }

    /// HELLO, then WELCOME and the first SNAPSHOT.
    func handshake() async throws {
        try await send(WebSocketSessionTests.hello)
        guard case .welcome = await next() else { throw TestFailure("no WELCOME over TCP") }
        guard case .snapshot = await next() else { throw TestFailure("no SNAPSHOT after WELCOME over TCP") }
    }

    /// SUBSCRIBE, then a PING round trip so the subscription is in place.
    func subscribe(_ pattern: String) async throws {
        try await send(.subscribe(Subscribe(id: 1, pattern: pattern)))
        try await send(.ping)
        let got = await messages(until: { $0 == .pong })
        guard got.last == .pong else { throw TestFailure("no PONG after SUBSCRIBE: \(got)") }
    }

    func close() async { await raw.close() }
}

@Suite struct TCPServerTests {
    static func isSet(_ address: String) -> (Message) -> Bool {
        { if case .set(let set) = $0 { return set.address == address } else { return false } }
    }

    static func errorCodes(_ messages: [Message]) -> [UInt16] {
        messages.compactMap { if case .error(let error) = $0 { return error.code } else { return nil } }
    }

    @Test func helloGetsWelcomeAndSnapshotOverTCP() async throws {
        try await DualTestServer.with { server in
            let client = try await server.tcpClient()
            try await client.handshake()
            #expect(await server.host.connectionCount() == 1)
            await client.close()
            #expect(await WebSocketSessionTests.waitForConnections(server.host, 0) == 0)
        }
    }

    @Test func setCrossesBetweenTCPAndWebSocket() async throws {
        try await DualTestServer.with { server in
            let tcp = try await server.tcpClient()
            try await tcp.handshake()
            let ws = try await server.webSocketSession()
            try await tcp.subscribe("/x/**")
            try await ws.sendBinary(WebSocketSessionTests.frame(.subscribe(Subscribe(id: 1, pattern: "/x/**"))))
            try await ws.sendBinary(WebSocketSessionTests.frame(.ping))
            _ = await ws.frames(until: { WebSocketSessionTests.decode($0) == .pong })

            // TCP → WebSocket
            try await tcp.send(.set(SetMessage(address: "/x/from-tcp", value: .int(7))))
            let atWS = await ws.frames(until: {
                WebSocketSessionTests.decode($0).map(Self.isSet("/x/from-tcp")) ?? false
            })
            guard case .set(let set) = atWS.last.flatMap(WebSocketSessionTests.decode) else {
                Issue.record("WebSocket subscriber got no SET from TCP: \(atWS)")
                return
            }
            #expect(set.value == .int(7))

            // WebSocket → TCP
            try await ws.sendBinary(WebSocketSessionTests.frame(.set(SetMessage(address: "/x/from-ws", value: .string("hi")))))
            let atTCP = await tcp.messages(until: Self.isSet("/x/from-ws"))
            guard case .set(let back) = atTCP.last else {
                Issue.record("TCP subscriber got no SET from WebSocket: \(atTCP)")
                return
            }
            #expect(back.value == .string("hi"))
        }
    }

    @Test func framesSplitAcrossWritesAndCoalescedInOneAreReassembled() async throws {
        try await DualTestServer.with { server in
            let client = try await server.tcpClient()
            // HELLO one byte at a time (prefix included).
            let hello = TCPTestClient.prefixed(try WebSocketSessionTests.hello.encodedFrame())
            for byte in hello {
                try await client.raw.write([byte])
            }
            guard case .welcome = await client.next() else { throw TestFailure("no WELCOME") }
            guard case .snapshot = await client.next() else { throw TestFailure("no SNAPSHOT") }

            // Three PINGs and a SUBSCRIBE in one write, then a frame cut in the middle of its prefix.
            let ping = TCPTestClient.prefixed(try Message.ping.encodedFrame())
            try await client.raw.write(ping + ping + ping)
            var pongs = 0
            while pongs < 3, let message = await client.next() {
                if message == .pong { pongs += 1 }
            }
            #expect(pongs == 3)
            try await client.raw.write(Array(ping[0..<2]))
            try await Task.sleep(for: .milliseconds(20))
            try await client.raw.write(Array(ping[2...]) + Array(ping[0..<5]))
            try await Task.sleep(for: .milliseconds(20))
            try await client.raw.write(Array(ping[5...]))
            #expect(await client.next() == .pong)
            #expect(await client.next() == .pong)
        }
    }

    @Test(arguments: [
        [UInt8(0x00), 0x01, 0x00, 0x0C],  // 65,548: one byte over the largest CLASP frame
        [UInt8(0xFF), 0xFF, 0xFF, 0xFF],
        [UInt8(0x00), 0x00, 0x00, 0x00],  // zero-length
    ])
    func badPrefixGetsError100AndCloseWhileOthersStay(prefix: [UInt8]) async throws {
        try await DualTestServer.with { server in
            let bystander = try await server.tcpClient()
            try await bystander.handshake()
            let bad = try await server.tcpClient()
            try await bad.handshake()
            try await bad.raw.write(prefix + [0x53])
            let tail = await bad.messages(until: { _ in false }, timeout: .seconds(3))
            #expect(Self.errorCodes(tail) == [100])
            #expect(await bad.raw.waitClosed())
            #expect(await WebSocketSessionTests.waitForConnections(server.host, 1) == 1)
            try await bystander.send(.ping)
            #expect(await bystander.next() == .pong)
        }
    }

    @Test func largestFrameIsAccepted() async throws {
        try await DualTestServer.with { server in
            let client = try await server.tcpClient()
            try await client.handshake()
            // A prefix of exactly 65,547 passes the framing; the router judges the content
            // (an ERROR 1xx at most), and the connection stays open.
            try await client.raw.write([0x00, 0x01, 0x00, 0x0B] + [UInt8](repeating: 0, count: 65_547))
            try await client.send(.ping)
            let got = await client.messages(until: { $0 == .pong })
            #expect(got.last == .pong)
            #expect(!client.raw.snapshot.closed)
        }
    }

    @Test func stalledHalfFrameIsClosedAfterTheReadTimeout() async throws {
        try await DualTestServer.with({ $0.readTimeout = 0.3 }) { server in
            let client = try await server.tcpClient()
            try await client.handshake()
            let started = ContinuousClock.now
            try await client.raw.write([0x00, 0x00, 0x00, 0x10, 0x53])
            #expect(await client.raw.waitClosed(timeout: .seconds(5)))
            #expect(ContinuousClock.now - started >= .milliseconds(250))
            let tail = await client.messages(until: { _ in false }, timeout: .milliseconds(200))
            #expect(Self.errorCodes(tail) == [100])
        }
    }

    @Test func steadyTrafficEndingMidFrameIsNotTimedOut() async throws {
        try await DualTestServer.with({ $0.readTimeout = 0.3 }) { server in
            let client = try await server.tcpClient()
            try await client.handshake()
            let ping = TCPTestClient.prefixed(try Message.ping.encodedFrame())
            // Each write completes the previous frame and starts a new one, 100 ms apart, for
            // longer than the read timeout.
            let middle = Array(repeating: Array(ping[3...]) + Array(ping[0..<3]), count: 8)
            try await client.raw.write([Array(ping[0..<3])] + middle + [Array(ping[3...])], every: .milliseconds(100))
            var pongs = 0
            while pongs < 9, let message = await client.next(timeout: .seconds(2)) {
                if message == .pong { pongs += 1 }
            }
            #expect(pongs == 9)
            #expect(!client.raw.snapshot.closed)
        }
    }

    @Test func slowConsumerGetsError503AndCloseWhileOthersKeepReceiving() async throws {
        try await DualTestServer.with({
            $0.listener.outboundQueueFrames = 64
            $0.listener.outboundQueueBytes = 256 * 1_024
            $0.listener.closeGracePeriod = 20
        }) { server in
            let slow = try await server.tcpClient(receiveBuffer: 4_096)
            let steady = try await server.tcpClient()
            let publisher = try await server.tcpClient()
            for client in [slow, steady, publisher] { try await client.handshake() }
            for client in [slow, steady] { try await client.subscribe("/load/**") }
            slow.raw.stopReading()

            let payload = Value.bytes(Array(repeating: 0x5A, count: 16_000))
            let event = Message.publish(Publish(address: "/load/e", signal: .event, value: payload))
            var sent = 0
            while sent < 4_000 {
                try await publisher.send(event)
                sent += 1
                if sent % 100 == 0, await server.host.connectionCount() < 3 { break }
            }
            #expect(await WebSocketSessionTests.waitForConnections(server.host, 2) == 2)

            var received = 0
            while received < sent, let next = await steady.next() {
                if case .publish = next { received += 1 }
            }
            #expect(received == sent)

            slow.raw.resumeReading()
            #expect(await slow.raw.waitClosed(timeout: .seconds(20)))
            let tail = await slow.messages(until: { _ in false }, timeout: .seconds(1))
            #expect(Self.errorCodes(tail) == [503])
        }
    }

    @Test func shutdownClosesTCPSessions() async throws {
        try await DualTestServer.with { server in
            let client = try await server.tcpClient()
            try await client.handshake()
            try await server.tcp.shutdown()
            #expect(await client.raw.waitClosed())
            #expect(await WebSocketSessionTests.waitForConnections(server.host, 0) == 0)
        }
    }
}

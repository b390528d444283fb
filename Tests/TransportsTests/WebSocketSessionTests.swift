import CLASP
import NIOCore
import Router
import Testing
import Transports

/// After the upgrade: CLASP frames through the real `RouterCore`, WebSocket control frames,
/// hostile frames, many clients, slow consumers, shutdown.
@Suite struct WebSocketSessionTests {
    static func frame(_ message: Message) throws -> [UInt8] {
        try message.encodedFrame()
    }

    static let hello = Message.hello(Hello(features: .allSignals, name: "transport-test"))

    static func decode(_ frame: ReceivedFrame?) -> Message? {
        guard let frame, frame.opcode == ReceivedFrame.binary else { return nil }
        return try? FrameCodec.decode(frame.payload).message
    }

    /// Upgrade, HELLO, and read WELCOME plus the first SNAPSHOT.
    static func session(_ server: TestServer, path: String = "/", receiveBuffer: Int? = nil) async throws -> WebSocketTestClient {
        let client = try await server.client(path: path, receiveBuffer: receiveBuffer)
        try await client.sendBinary(frame(hello))
        guard case .welcome = decode(await client.nextFrame()) else {
            throw TestFailure("no WELCOME")
        }
        guard case .snapshot = decode(await client.nextFrame()) else {
            throw TestFailure("no SNAPSHOT after WELCOME")
        }
        return client
    }

    static func waitForConnections(_ host: RouterHost, _ expected: Int, timeout: Duration = .seconds(10)) async -> Int {
        let deadline = ContinuousClock.now + timeout
        var count = await host.connectionCount()
        while count != expected, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
            count = await host.connectionCount()
        }
        return count
    }

    @Test(arguments: ["/", "/clasp"])
    func helloGetsWelcomeAndSnapshot(path: String) async throws {
        try await TestServer.with { server in
            let client = try await Self.session(server, path: path)
            #expect(await server.host.connectionCount() == 1)
            await client.close()
            #expect(await Self.waitForConnections(server.host, 0) == 0)
        }
    }

    @Test func setReachesAnotherSubscriberAcrossTheRouter() async throws {
        try await TestServer.with { server in
            let subscriber = try await Self.session(server)
            let publisher = try await Self.session(server)
            try await subscriber.sendBinary(Self.frame(.subscribe(Subscribe(id: 1, pattern: "/a/**"))))
            // SUBSCRIBE answers with a SNAPSHOT of matching params (none yet) or nothing;
            // a PING round trip makes sure the subscription is in place.
            try await subscriber.sendBinary(Self.frame(.ping))
            let afterSubscribe = await subscriber.frames(until: { Self.decode($0) == .pong })
            #expect(afterSubscribe.last.flatMap(Self.decode) == .pong)

            try await publisher.sendBinary(Self.frame(.set(SetMessage(address: "/a/x", value: .float(0.5)))))
            let delivered = await subscriber.frames(until: {
                if case .set(let set) = Self.decode($0) { return set.address == "/a/x" }
                return false
            })
            guard case .set(let set) = delivered.last.flatMap(Self.decode) else {
                Issue.record("subscriber got no SET: \(delivered)")
                return
            }
            #expect(set.value == .float(0.5))
        }
    }

    @Test func fragmentedHelloIsReassembledAndPingAnsweredInBetween() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            let bytes = try Self.frame(Self.hello)
            let cut1 = bytes.count / 3
            let cut2 = 2 * bytes.count / 3
            try await client.send(opcode: ReceivedFrame.binary, Array(bytes[..<cut1]), fin: false)
            try await client.send(opcode: 0x0, Array(bytes[cut1..<cut2]), fin: false)
            try await client.send(opcode: ReceivedFrame.ping, [7, 7])
            try await client.send(opcode: 0x0, Array(bytes[cut2...]), fin: true)
            #expect(await client.nextFrame() == ReceivedFrame(opcode: ReceivedFrame.pong, payload: [7, 7]))
            guard case .welcome = Self.decode(await client.nextFrame()) else {
                Issue.record("no WELCOME after a fragmented HELLO")
                return
            }
        }
    }

    @Test func helloSentWithTheUpgradeRequestIsNotLost() async throws {
        try await TestServer.with { server in
            let raw = try await server.raw()
            var request = "GET /clasp HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            request += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            let hello = WebSocketTestClient.encode(opcode: ReceivedFrame.binary, try Self.frame(Self.hello))
            try await raw.write(Array(request.utf8) + hello)
            let terminator = Array("\r\n\r\n".utf8)
            #expect(await raw.wait { bytes in
                guard let end = bytes.bytes.firstRange(of: terminator)?.upperBound,
                    let (frame, _) = WebSocketTestClient.parse(bytes.bytes, from: end)
                else { return false }
                if case .welcome = Self.decode(frame) { return true }
                return false
            })
        }
    }

    @Test func fragmentedTextMessageReachesTheRouterOnce() async throws {
        try await TestServer.with { server in
            let client = try await Self.session(server)
            try await client.send(opcode: ReceivedFrame.text, Array("ab".utf8), fin: false)
            try await client.send(opcode: 0x0, Array("cd".utf8), fin: true)
            try await client.sendBinary(Self.frame(.ping))
            let frames = await client.frames(until: { Self.decode($0) == .pong })
            let errors = frames.compactMap { frame -> UInt16? in
                if case .error(let error) = Self.decode(frame) { return error.code }
                return nil
            }
            #expect(errors == [101])
        }
    }

    @Test func textMessageReachesTheRouterAsText() async throws {
        try await TestServer.with { server in
            let client = try await Self.session(server)
            try await client.send(opcode: ReceivedFrame.text, Array("{\"type\":\"hello\"}".utf8))
            guard case .error(let error) = Self.decode(await client.nextFrame()) else {
                Issue.record("no ERROR for a text message")
                return
            }
            #expect(error.code == 101)
            #expect(!client.raw.snapshot.closed)
        }
    }

    @Test func pingGetsPong() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            try await client.send(opcode: ReceivedFrame.ping, [1, 2, 3])
            #expect(await client.nextFrame() == ReceivedFrame(opcode: ReceivedFrame.pong, payload: [1, 2, 3]))
        }
    }

    @Test func peerCloseIsAnsweredAndForgotten() async throws {
        try await TestServer.with { server in
            let client = try await Self.session(server)
            try await client.send(opcode: ReceivedFrame.close, [0x03, 0xE8])
            let reply = await client.nextFrame()
            #expect(reply?.opcode == ReceivedFrame.close)
            #expect(reply?.closeCode == 1000)
            #expect(await client.raw.waitClosed())
            #expect(await Self.waitForConnections(server.host, 0) == 0)
        }
    }

    @Test func frameAnnouncingTwoToTheFortyBytesClosesWith1009() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            let length = UInt64(1) << 40
            var header: [UInt8] = [0x82, 0x80 | 127]
            header += (0..<8).reversed().map { UInt8((length >> (8 * UInt64($0))) & 0xFF) }
            header += [1, 2, 3, 4]
            try await client.raw.write(header + Array(repeating: 0xAB, count: 1_000))
            let reply = await client.nextFrame()
            #expect(reply?.closeCode == 1009)
            #expect(await client.raw.waitClosed())
            #expect(await Self.waitForConnections(server.host, 0) == 0)
        }
    }

    @Test func fragmentedMessageOverTheCapClosesWith1009() async throws {
        try await TestServer.with({ $0.maxFrameBytes = 10_000 }) { server in
            let client = try await server.client()
            let chunk = Array(repeating: UInt8(0x53), count: 4_000)
            try await client.send(opcode: ReceivedFrame.binary, chunk, fin: false)
            try await client.send(opcode: 0x0, chunk, fin: false)
            try await client.send(opcode: 0x0, chunk, fin: true)
            #expect(await client.nextFrame()?.closeCode == 1009)
            #expect(await client.raw.waitClosed())
        }
    }

    @Test func continuationWithoutAMessageClosesWith1002() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            try await client.send(opcode: 0x0, [1, 2, 3], fin: true)
            #expect(await client.nextFrame()?.closeCode == 1002)
            #expect(await client.raw.waitClosed())
        }
    }

    @Test func twoHundredClientsConnectingAndLeavingAtOnceLeaveNoConnections() async throws {
        try await TestServer.with { server in
            let clients = try await withThrowingTaskGroup(of: WebSocketTestClient.self) { group in
                for _ in 0..<200 {
                    group.addTask { try await server.client() }
                }
                var clients: [WebSocketTestClient] = []
                for try await client in group { clients.append(client) }
                return clients
            }
            #expect(clients.count == 200)
            #expect(await Self.waitForConnections(server.host, 200) == 200)
            await withTaskGroup(of: Void.self) { group in
                for client in clients {
                    group.addTask { await client.close() }
                }
            }
            #expect(await Self.waitForConnections(server.host, 0) == 0)
        }
    }

    @Test func connectionsBeyondTheRouterLimitAreClosedWith1013() async throws {
        var router = RouterConfiguration()
        router.maxSessions = 1
        try await TestServer.with(router: router) { server in
            let first = try await Self.session(server)
            let second = try await server.client()
            #expect(await second.nextFrame()?.closeCode == 1013)
            #expect(await second.raw.waitClosed())
            #expect(!first.raw.snapshot.closed)
        }
    }

    @Test func slowConsumerGetsError503AndCloseWhileOthersKeepReceiving() async throws {
        try await TestServer.with({
            $0.listener.outboundQueueFrames = 64
            $0.listener.outboundQueueBytes = 256 * 1_024
            $0.listener.closeGracePeriod = 20
        }) { server in
            let slow = try await Self.session(server, receiveBuffer: 4_096)
            let steady = try await Self.session(server)
            let publisher = try await Self.session(server)
            for client in [slow, steady] {
                try await client.sendBinary(Self.frame(.subscribe(Subscribe(id: 1, pattern: "/load/**"))))
                try await client.sendBinary(Self.frame(.ping))
                _ = await client.frames(until: { Self.decode($0) == .pong })
            }
            slow.raw.stopReading()

            let payload = Value.bytes(Array(repeating: 0x5A, count: 16_000))
            let event = try Self.frame(.publish(Publish(address: "/load/e", signal: .event, value: payload)))
            var sent = 0
            // Publish until the slow session is dropped (bounded: at most 4,000 events, 64 MB).
            while sent < 4_000 {
                try await publisher.sendBinary(event)
                sent += 1
                if sent % 100 == 0, await server.host.connectionCount() < 3 { break }
            }
            #expect(await Self.waitForConnections(server.host, 2) == 2)

            // The steady subscriber got every event, in order, while the slow one was dropped.
            var received = 0
            while received < sent, let next = await steady.nextFrame() {
                if case .publish = Self.decode(next) { received += 1 }
            }
            #expect(received == sent)

            // The slow one, reading again, finds ERROR 503 and then a close frame.
            slow.raw.resumeReading()
            let tail = await slow.frames(until: { $0.opcode == ReceivedFrame.close }, timeout: .seconds(20))
            #expect(tail.last?.closeCode == 1008)
            let errors = tail.compactMap { frame -> ErrorMessage? in
                if case .error(let error) = Self.decode(frame) { return error }
                return nil
            }
            #expect(errors.map(\.code) == [503])
            #expect(await slow.raw.waitClosed())
        }
    }

    @Test func connectionsOnOtherLoopsHopToTheRouter() async throws {
        try await TestServer.with(threads: 3, { $0.listener.connectionsOnRouterLoop = false }) { server in
            var clients: [WebSocketTestClient] = []
            for _ in 0..<6 { clients.append(try await Self.session(server)) }
            #expect(await server.host.connectionCount() == 6)
            for client in clients {
                try await client.sendBinary(Self.frame(.subscribe(Subscribe(id: 9, pattern: "/x"))))
                try await client.sendBinary(Self.frame(.ping))
                _ = await client.frames(until: { Self.decode($0) == .pong })
            }
            try await clients[0].sendBinary(Self.frame(.publish(Publish(address: "/x", signal: .event, value: .int(1)))))
            for client in clients.dropFirst() {
                let got = await client.frames(until: {
                    if case .publish = Self.decode($0) { return true }
                    return false
                })
                guard case .publish(let publish) = got.last.flatMap(Self.decode) else {
                    Issue.record("no event delivered across loops")
                    continue
                }
                #expect(publish.value == .int(1))
            }
            for client in clients { await client.close() }
            #expect(await Self.waitForConnections(server.host, 0) == 0)
        }
    }

    @Test func upgradedPeerWithoutHelloIsClosedByTheRouter() async throws {
        var router = RouterConfiguration()
        // Long enough for the served client's HELLO to arrive on a busy machine.
        router.handshakeTimeout = 1
        try await TestServer.with(router: router) { server in
            // Taken before the connect: the router's timer starts at the upgrade, after this.
            let start = ContinuousClock.now
            let silent = try await server.client()
            let served = try await Self.session(server)
            let reply = await silent.nextFrame()
            #expect(reply?.closeCode == 1008)
            #expect(ContinuousClock.now - start >= .seconds(1))
            #expect(await silent.raw.waitClosed())
            #expect(!served.raw.snapshot.closed)
            #expect(await Self.waitForConnections(server.host, 1) == 1)
        }
    }

    @Test func routerRefusingTheHandshakeSendsItsErrorBeforeTheClose() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            try await client.sendBinary(Self.frame(.ping))
            let frames = await client.frames(until: { $0.opcode == ReceivedFrame.close })
            guard frames.count == 2, case .error(let error) = Self.decode(frames[0]) else {
                Issue.record("expected ERROR then close, got \(frames)")
                return
            }
            #expect(error.code == 101)
            #expect(frames[1].closeCode == 1008)
            #expect(await client.raw.waitClosed())
            #expect(await Self.waitForConnections(server.host, 0) == 0)
        }
    }

    @Test func upgradedConnectionOutlivesHandshakeTimeout() async throws {
        // 2 s: room for the upgrade on a loaded machine; then well past it.
        try await TestServer.with({ $0.handshakeTimeout = 2 }) { server in
            let client = try await Self.session(server)
            try await Task.sleep(for: .milliseconds(3_000))
            #expect(!client.raw.snapshot.closed)
            try await client.sendBinary(Self.frame(.ping))
            #expect(Self.decode(await client.nextFrame()) == .pong)
        }
    }

    @Test func serverShutdownSendsGoingAwayAndForgetsSessions() async throws {
        let server = try await TestServer.start()
        let client = try await Self.session(server)
        try await server.server.shutdown()
        #expect(await client.nextFrame()?.closeCode == 1001)
        #expect(await client.raw.waitClosed())
        #expect(await Self.waitForConnections(server.host, 0) == 0)
        await server.host.shutdown()
        try await server.group.shutdownGracefully()
    }

    @Test func serverShutdownClosesManySessionsWithinTheGracePeriod() async throws {
        let server = try await TestServer.start { $0.listener.closeGracePeriod = 1 }
        var clients: [WebSocketTestClient] = []
        for _ in 0..<50 { clients.append(try await Self.session(server)) }
        // One of them has stopped reading; it must not hold the others up.
        clients[0].raw.stopReading()
        let start = ContinuousClock.now
        try await server.server.shutdown()
        #expect(ContinuousClock.now - start < .seconds(3))
        for client in clients { #expect(await client.raw.waitClosed()) }
        #expect(await Self.waitForConnections(server.host, 0) == 0)
        await server.host.shutdown()
        try await server.group.shutdownGracefully()
    }

    @Test func routerShutdownClosesSessionsWithGoingAway() async throws {
        try await TestServer.with { server in
            let client = try await Self.session(server)
            await server.host.shutdown()
            #expect(await client.nextFrame()?.closeCode == 1001)
            #expect(await client.raw.waitClosed())
            // Late arrivals are turned away too.
            let late = try await server.client()
            #expect(await late.nextFrame()?.closeCode == 1001)
            #expect(await server.host.connectionCount() == 0)
        }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

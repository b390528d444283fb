import NIOCore
import Testing

/// HTTP phase: upgrade, subprotocol, probes and hostile peers before the upgrade.
@Suite struct WebSocketHandshakeTests {
    @Test(arguments: ["/", "/clasp"])
    func upgradeOnAnyPathEchoesClaspSubprotocol(path: String) async throws {
        try await TestServer.with { server in
            let client = try await server.client(path: path, protocols: "clasp")
            #expect(client.responseHeader("Sec-WebSocket-Protocol") == "clasp")
            #expect(client.responseHeader("Sec-WebSocket-Accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
            await client.close()
        }
    }

    @Test func claspAmongOtherSubprotocolsIsChosen() async throws {
        try await TestServer.with { server in
            let client = try await server.client(protocols: "chat, clasp")
            #expect(client.responseHeader("Sec-WebSocket-Protocol") == "clasp")
            await client.close()
        }
    }

    @Test(arguments: [nil, "chat", "chat, superchat"] as [String?])
    func upgradeWithoutClaspHasNoSubprotocolHeader(protocols: String?) async throws {
        try await TestServer.with { server in
            let client = try await server.client(protocols: protocols)
            #expect(client.responseHeader("Sec-WebSocket-Protocol") == nil)
            await client.close()
        }
    }

    @Test(arguments: [
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
        "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n",
    ])
    func plainHTTPRequestGetsOKAndClose(request: String) async throws {
        try await TestServer.with { server in
            let raw = try await server.raw()
            try await raw.write(request)
            #expect(await raw.waitClosed())
            let response = String(decoding: raw.snapshot.bytes, as: UTF8.self)
            #expect(response.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(response.hasSuffix("\r\n\r\nok\n"))
        }
    }

    @Test func headProbeGetsOKWithoutBody() async throws {
        try await TestServer.with { server in
            let raw = try await server.raw()
            try await raw.write("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(await raw.waitClosed())
            let response = String(decoding: raw.snapshot.bytes, as: UTF8.self)
            #expect(response.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(response.hasSuffix("\r\n\r\n"))
        }
    }

    @Test func malformedUpgradeRequestGetsBadRequest() async throws {
        try await TestServer.with { server in
            let raw = try await server.raw()
            try await raw.write("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n")
            #expect(await raw.waitClosed())
            let response = String(decoding: raw.snapshot.bytes, as: UTF8.self)
            #expect(response.hasPrefix("HTTP/1.1 400"))
        }
    }

    @Test func nonHTTPBytesClose() async throws {
        try await TestServer.with { server in
            let raw = try await server.raw()
            try await raw.write([0x53, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0xFF, 0xFE, 0x00, 0x0D, 0x0A, 0x0D, 0x0A])
            #expect(await raw.waitClosed(timeout: .seconds(2)))
            #expect(!String(decoding: raw.snapshot.bytes, as: UTF8.self).hasPrefix("HTTP/1.1 2"))
        }
    }

    @Test func oversizedRequestHeadCloses() async throws {
        try await TestServer.with { server in
            let raw = try await server.raw()
            let huge = String(repeating: "a", count: 20_000)
            try? await raw.write("GET /\(huge) HTTP/1.1\r\nHost: x\r\n")
            #expect(await raw.waitClosed(timeout: .seconds(2)))
            let response = String(decoding: raw.snapshot.bytes, as: UTF8.self)
            #expect(response.isEmpty || response.hasPrefix("HTTP/1.1 4"))
        }
    }

    @Test func silentPeerIsClosedAfterHandshakeTimeoutWhileOthersAreServed() async throws {
        // A timeout long enough that "served meanwhile" holds on a busy 2-core machine too.
        try await TestServer.with({ $0.handshakeTimeout = 6 }) { server in
            // Before connecting: the server's timer starts at accept, so no close can come
            // sooner than the timeout after this.
            let start = ContinuousClock.now
            let silent = try await server.raw()
            let halfUpgrade = try await server.raw()
            try await halfUpgrade.write("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")

            // Meanwhile others are served.
            let probe = try await server.raw()
            try await probe.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(await probe.waitClosed(timeout: .seconds(5)))
            let client = try await server.client()
            #expect(ContinuousClock.now - start < .seconds(5))
            #expect(!silent.snapshot.closed)

            #expect(await silent.waitClosed(timeout: .seconds(8)))
            #expect(await halfUpgrade.waitClosed(timeout: .seconds(8)))
            #expect(ContinuousClock.now - start >= .seconds(6))
            #expect(silent.snapshot.bytes.isEmpty)
            #expect(!client.raw.snapshot.closed || client.raw.snapshot.bytes.count > 0)
            await client.close()
        }
    }

    @Test func connectionsBeyondTheLimitAreClosedAtOnceAndRoomIsMadeAgain() async throws {
        try await TestServer.with({ $0.listener.maxConnections = 3; $0.handshakeTimeout = 30 }) { server in
            var idle: [RawClient] = []
            for _ in 0..<3 { idle.append(try await server.raw()) }
            let start = ContinuousClock.now
            let extra = try await server.raw()
            #expect(await extra.waitClosed(timeout: .seconds(2)))
            #expect(ContinuousClock.now - start < .seconds(2))  // not after the 30 s handshake timeout
            #expect(extra.snapshot.bytes.isEmpty)
            #expect(!idle[0].snapshot.closed)

            await idle[0].close()
            // Once one leaves, a new client is served (the server sees the close asynchronously).
            var served = false
            for _ in 0..<20 where !served {
                let probe = try await server.raw()
                try? await probe.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                served = await probe.wait(timeout: .seconds(1)) { !$0.bytes.isEmpty }
                await probe.close()
                if !served { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(served)
            for client in idle.dropFirst() { await client.close() }
        }
    }
}

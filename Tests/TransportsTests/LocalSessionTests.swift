import CLASP
import NIOPosix
import Router
import Synchronization
import Testing
import Transports

/// Messages a local session delivered, awaited with a deadline.
final class DeliveredMessages: Sendable {
    private let messages = Mutex<[Message]>([])

    func append(_ message: Message) { messages.withLock { $0.append(message) } }

    var all: [Message] { messages.withLock { $0 } }

    /// The SETs delivered so far, as (address, value, revision).
    var sets: [SetMessage] {
        all.compactMap { if case .set(let set) = $0 { set } else { nil } }
    }

    func wait(seconds: Double = 5, until done: ([Message]) -> Bool) async throws {
        let clock = ContinuousClock()
        let end = clock.now + .seconds(seconds)
        while !done(all) {
            guard clock.now < end else { throw TimedOut() }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    struct TimedOut: Error {}
}

@Suite("Local sessions")
struct LocalSessionTests {
    @Test func aLocalSessionSeesARemoteClientsSetAndTheRemoteSeesItsSet() async throws {
        try await TestServer.with { server in
            let delivered = DeliveredMessages()
            let local = try await LocalSession.open(host: server.host, name: "bridge:test") { delivered.append($0) }
            #expect(!local.welcome.session.isEmpty)
            try local.send(.subscribe(Subscribe(id: 1, pattern: "/from-remote/**")))

            let remote = try await WebSocketSessionTests.session(server)
            try await remote.sendBinary(WebSocketSessionTests.frame(.subscribe(Subscribe(id: 7, pattern: "/from-local/**"))))
            try await remote.sendBinary(WebSocketSessionTests.frame(.ping))
            _ = await remote.frames(until: { WebSocketSessionTests.decode($0) == .pong })

            try await remote.sendBinary(WebSocketSessionTests.frame(.set(SetMessage(address: "/from-remote/a", value: .float(0.5)))))
            try await delivered.wait { _ in delivered.sets.contains { $0.address == "/from-remote/a" && $0.value == .float(0.5) } }

            try local.send(.set(SetMessage(address: "/from-local/b", value: .int(7))))
            let frames = await remote.frames(until: {
                if case .set(let set) = WebSocketSessionTests.decode($0) { return set.address == "/from-local/b" }
                return false
            })
            guard case .set(let echo) = frames.last.flatMap(WebSocketSessionTests.decode) else {
                Issue.record("the remote client got no SET from the local session: \(frames)")
                return
            }
            #expect(echo.value == .int(7))
            #expect(echo.revision == 1)
            local.close()
        }
    }

    @Test func aLocalSessionIsNotClosedForBeingIdleWhileARemoteOneIs() async throws {
        var router = RouterConfiguration()
        // Long enough for the remote client's HELLO to arrive on a busy machine.
        router.idleTimeout = 1
        try await TestServer.with(router: router) { server in
            let local = try await LocalSession.open(host: server.host, name: "bridge:idle") { _ in }
            #expect(await server.host.connectionCount() == 1)
            _ = try await WebSocketSessionTests.session(server)
            #expect(await server.host.connectionCount() == 2)
            // Several ticks past the idle timeout: the remote one goes, the local one stays.
            let clock = ContinuousClock()
            let end = clock.now + .seconds(8)
            while await server.host.connectionCount() > 1, clock.now < end {
                try await Task.sleep(for: .milliseconds(50))
            }
            try await Task.sleep(for: .milliseconds(500))
            #expect(await server.host.connectionCount() == 1)
            local.close()
            try await Task.sleep(for: .milliseconds(50))
            #expect(await server.host.connectionCount() == 0)
        }
    }

    @Test func theRouterRefusesALocalSessionWhenFull() async throws {
        var router = RouterConfiguration()
        router.maxSessions = 1
        try await TestServer.with(router: router) { server in
            let first = try await LocalSession.open(host: server.host, name: "bridge:one") { _ in }
            await #expect(throws: LocalSession.OpenError.refused(.routerFull)) {
                _ = try await LocalSession.open(host: server.host, name: "bridge:two") { _ in }
            }
            first.close()
        }
    }

    @Test func aMessageThatCannotBeEncodedThrowsAndSendsNothing() async throws {
        try await TestServer.with { server in
            let local = try await LocalSession.open(host: server.host, name: "bridge:big") { _ in }
            let huge = Value.bytes([UInt8](repeating: 1, count: 70_000))
            #expect(throws: CodecError.self) {
                try local.send(.set(SetMessage(address: "/big", value: huge)))
            }
            local.close()
        }
    }
}

import CLASP
import NIOCore
import NIOPosix
import Router
import Synchronization
import Testing
import Transports

/// Between a client and the server: drops and duplicates a share of datagrams each way, from
/// a seeded generator, and holds one back now and then until the next passes (reordering).
final class LossyUDPProxy: Sendable {
    private let front: any Channel
    private let back: any Channel
    let port: Int

    private init(front: any Channel, back: any Channel) {
        self.front = front
        self.back = back
        self.port = front.localAddress?.port ?? 0
    }

    static func start(to serverPort: Int, seed: UInt64, group: any EventLoopGroup) async throws -> LossyUDPProxy {
        let loop = group.next()
        let server = try SocketAddress(ipAddress: "127.0.0.1", port: serverPort)
        let back = try await DatagramBootstrap(group: loop).bind(host: "127.0.0.1", port: 0).get()
        let front = try await DatagramBootstrap(group: loop).bind(host: "127.0.0.1", port: 0).get()
        try await loop.submit {
            let state = NIOLoopBound(LossState(seed: seed), eventLoop: loop)
            try front.pipeline.syncOperations.addHandler(LossyForwarder(state: state, direction: .up, out: back) { _ in server })
            try back.pipeline.syncOperations.addHandler(LossyForwarder(state: state, direction: .down, out: front) { state in state.client })
        }.get()
        return LossyUDPProxy(front: front, back: back)
    }

    func stop() async {
        try? await front.close()
        try? await back.close()
    }
}

final class LossState {
    enum Direction { case up, down }
    var random: SplitMix
    var client: SocketAddress?
    var held: [Direction: AddressedEnvelope<ByteBuffer>] = [:]
    var dropped = 0
    var duplicated = 0

    init(seed: UInt64) { random = SplitMix(state: seed) }
}

/// A tiny seeded generator, so a failing run can be repeated exactly.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

private final class LossyForwarder: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let state: NIOLoopBound<LossState>
    private let direction: LossState.Direction
    private let out: any Channel
    private let destination: (LossState) -> SocketAddress?

    init(state: NIOLoopBound<LossState>, direction: LossState.Direction, out: any Channel, destination: @escaping (LossState) -> SocketAddress?) {
        self.state = state
        self.direction = direction
        self.out = out
        self.destination = destination
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let state = self.state.value
        if direction == .up { state.client = envelope.remoteAddress }
        guard let target = destination(state) else { return }
        let forward = AddressedEnvelope(remoteAddress: target, data: envelope.data)
        let roll = Double.random(in: 0..<1, using: &state.random)
        if roll < 0.2 {
            state.dropped += 1
            return
        }
        let copies = roll < 0.35 ? 2 : 1
        state.duplicated += copies - 1
        if state.held[direction] == nil, Double.random(in: 0..<1, using: &state.random) < 0.15 {
            state.held[direction] = forward
            return
        }
        for _ in 0..<copies { out.write(forward, promise: nil) }
        if let late = state.held.removeValue(forKey: direction) {
            out.write(late, promise: nil)
        }
        out.flush()
    }
}

@Suite(.timeLimit(.minutes(1))) struct CLASPUDPClientTests {
    private var fast: CLASPUDPClient.Retransmission {
        var policy = CLASPUDPClient.Retransmission()
        policy.firstTimeout = .milliseconds(30)
        policy.maxTimeout = .milliseconds(300)
        policy.attempts = 30
        return policy
    }

    @Test func connectsAndGetsTheAckOfAReliableSet() async throws {
        try await UDPTestServer.with { server in
            let client = try await CLASPUDPClient.connect(host: "127.0.0.1", port: server.udp.localPort, name: "udp-client", group: server.group)
            #expect(!client.sessionID.isEmpty)
            let reply = try await client.sendReliably(.set(SetMessage(address: "/r/a", value: .int(1))))
            #expect(reply == .ack(Ack(address: "/r/a", revision: 1)))
            // A refused message is answered with its ERROR, not resent forever.
            let refused = try await client.sendReliably(.set(SetMessage(address: "no-slash", value: .int(1))))
            guard case .error(let error) = refused else { throw TestFailure("no ERROR for a bad address") }
            #expect(error.code == ErrorCode.invalidAddress.rawValue)
            await client.close()
        }
    }

    @Test func nothingListeningIsATimeoutNotAHang() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let silent = try await DatagramBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        var policy = CLASPUDPClient.Retransmission()
        policy.firstTimeout = .milliseconds(20)
        policy.attempts = 3
        await #expect(throws: CLASPClientError.timedOut("WELCOME after 3 sends")) {
            _ = try await CLASPUDPClient.connect(
                host: "127.0.0.1", port: silent.localAddress?.port ?? 0, group: group, retransmission: policy)
        }
        try await silent.close()
        try await group.shutdownGracefully()
    }

    @Test func overALossyLinkReliableSetsAndBundlesApplyExactlyOnceInOrder() async throws {
        try await UDPTestServer.with { server in
            let proxy = try await LossyUDPProxy.start(to: server.udp.localPort, seed: 7, group: server.group)
            let watcher = try await server.tcpSession()
            try await watcher.send(.subscribe(Subscribe(id: 1, pattern: "/lossy/**")))
            let client = try await CLASPUDPClient.connect(
                host: "127.0.0.1", port: proxy.port, name: "lossy", group: server.group, retransmission: fast)
            let count = 25
            for value in 0..<count {
                let qos: QoS = value.isMultiple(of: 2) ? .confirm : .commit
                guard case .ack(let ack) = try await client.sendReliably(.set(SetMessage(address: "/lossy/x", value: .int(Int64(value)))), qos: qos)
                else { throw TestFailure("no ACK for \(value)") }
                #expect(ack.revision == UInt64(value + 1))
            }
            let bundle = BundleMessage(messages: [.set(SetMessage(address: "/lossy/x", value: .int(99)))])
            #expect(try await client.sendReliably(.bundle(bundle)) == .ack(Ack(revision: UInt64(count + 1))))
            try await Task.sleep(for: .milliseconds(500))  // late duplicates reach the server
            try await watcher.send(.ping)
            var seen: [(Int64, UInt64)] = []
            while let message = await watcher.next(), message != .pong {
                if case .set(let set) = message, case .int(let value) = set.value { seen.append((value, set.revision ?? 0)) }
            }
            #expect(seen.map(\.0) == (0..<Int64(count)).map { $0 } + [99])
            #expect(seen.map(\.1) == (1...UInt64(count + 1)).map { $0 })
            #expect(await client.resendCount() > 0)
            await client.close()
            await proxy.stop()
        }
    }
}

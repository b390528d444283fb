import NIOCore
import NIOPosix

/// Where the broker under test listens.
struct Endpoint: Sendable {
    let wire: Wire
    let host: String
    let port: Int
    /// TLS under the wire, or nil for plain TCP.
    var tls: TLSWire? = nil
}

/// A connected, ready session and its channel.
struct ConnectedSession: Sendable {
    let channel: any Channel
    let session: LoadSession
}

enum Connector {
    /// Connects on `loop`, sends the handshake and `patterns`, and returns once the broker has
    /// answered the ping that follows them, or throws after `timeout`. `receiveBufferBytes`
    /// sets SO_RCVBUF before the connection (a small window for a peer that will stop reading).
    static func connect(
        _ endpoint: Endpoint, dialect: Dialect, name: String, patterns: [String], stats: LoopStats?,
        on loop: any EventLoop, timeout: TimeAmount, receiveBufferBytes: Int? = nil
    ) async throws -> ConnectedSession {
        let session = LoadSession(dialect: dialect, name: name, patterns: patterns, stats: stats, eventLoop: loop)
        let bootstrap = ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try endpoint.tls?.addHandler(to: channel)
                    let pipeline = channel.pipeline.syncOperations
                    switch endpoint.wire {
                    case .tcp:
                        try pipeline.addHandler(ByteToMessageHandler(LengthPrefixedFrameDecoder()))
                        try pipeline.addHandler(LengthPrefixedFrameEncoder())
                        try pipeline.addHandler(session)
                    case .mqtt:
                        try pipeline.addHandler(ByteToMessageHandler(MQTTPacketDecoder()))
                        try pipeline.addHandler(session)
                    case .websocket:
                        let upgraded = try WebSocketUpgrade.configure(channel, host: endpoint.host, port: endpoint.port) { channel in
                            try channel.pipeline.syncOperations.addHandler(session)
                        }
                        upgraded.whenComplete { result in
                            if case .success(true) = result { return session.begin(on: channel) }
                            session.abandon("\(name): WebSocket upgrade refused", channel: channel)
                        }
                    }
                }
            }
        let sized = receiveBufferBytes.map { bootstrap.channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue($0)) } ?? bootstrap
        let channel = try await sized.connect(host: endpoint.host, port: endpoint.port).get()
        let deadline = loop.scheduleTask(in: timeout) {
            session.abandon("\(name): not ready within \(timeout.nanoseconds / 1_000_000) ms", channel: channel)
        }
        defer { deadline.cancel() }
        try await session.ready.futureResult.get()
        return ConnectedSession(channel: channel, session: session)
    }

    /// Connects `count` sessions, `wave` at a time, each on `loops[i % loops.count]`.
    static func connectMany(
        _ count: Int, wave: Int, endpoint: Endpoint, dialect: Dialect, namePrefix: String, patterns: [String],
        loops: [any EventLoop], stats: [LoopStats], timeout: TimeAmount
    ) async throws -> [ConnectedSession] {
        var sessions: [ConnectedSession] = []
        sessions.reserveCapacity(count)
        for waveStart in stride(from: 0, to: count, by: wave) {
            try await withThrowingTaskGroup(of: ConnectedSession.self) { group in
                for index in waveStart..<min(count, waveStart + wave) {
                    let loop = index % loops.count
                    group.addTask {
                        try await connect(
                            endpoint, dialect: dialect, name: "\(namePrefix)-\(index)", patterns: patterns,
                            stats: stats[loop], on: loops[loop], timeout: timeout)
                    }
                }
                for try await session in group { sessions.append(session) }
            }
        }
        return sessions
    }
}

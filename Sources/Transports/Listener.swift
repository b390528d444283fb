import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// What every CLASP listener shares, whatever its framing: where it binds, how many
/// connections it holds, how they are queued and closed, and TLS.
public struct ListenerConfiguration: Sendable {
    public var host: String = "0.0.0.0"
    public var port: Int
    /// Per-session outbound queue limits (used while the peer cannot take more).
    public var outboundQueueFrames: Int = 8_192
    public var outboundQueueBytes: Int = 8 * 1_024 * 1_024
    /// Seconds a closing connection may take to get its last bytes out.
    public var closeGracePeriod: Double = 5
    /// Put accepted connections on the router's event loop (no hops between a channel
    /// and the router core). When false they spread over the group.
    public var connectionsOnRouterLoop: Bool = true
    public var listenBacklog: Int = 256
    /// Open connections at most (in their handshake or not). One more is closed as soon as it
    /// is accepted, so a flood of idle sockets cannot use up the process's file descriptors.
    /// Keep it above the router's session limit.
    public var maxConnections: Int = 4_096
    /// When set, every connection begins with a TLS handshake presenting this identity
    /// (`NIOSSLServerHandler` first in the pipeline, then `TLSErrorLogger`) and the framing
    /// runs inside it.
    public var tls: TLSIdentity?

    public init(port: Int) {
        self.port = port
    }
}

/// A bound listening socket and its open connections: the bootstrap, the connection limit
/// and the orderly shutdown that the WebSocket and TCP servers share. Each server adds its
/// own handlers behind TLS through `initializeConnection`.
final class Listener: Sendable {
    let configuration: ListenerConfiguration
    private let serverChannel: any Channel
    private let connections: ConnectionRegistry

    /// The port actually bound (useful with port 0).
    var localPort: Int { serverChannel.localAddress?.port ?? configuration.port }

    private init(configuration: ListenerConfiguration, serverChannel: any Channel, connections: ConnectionRegistry) {
        self.configuration = configuration
        self.serverChannel = serverChannel
        self.connections = connections
    }

    /// Binds and starts accepting. `initializeConnection` runs on the connection's loop and
    /// adds the transport's handlers (synchronously) once the connection is admitted.
    static func bind(
        _ configuration: ListenerConfiguration,
        host: RouterHost,
        group: any EventLoopGroup,
        logger: Logger,
        initializeConnection: @escaping @Sendable (any Channel) throws -> Void
    ) async throws -> Listener {
        let connections = ConnectionRegistry(limit: configuration.maxConnections)
        let tlsContext = try configuration.tls?.makeServerContext()
        let childGroup: any EventLoopGroup = configuration.connectionsOnRouterLoop ? host.eventLoop : group

        let bootstrap = ServerBootstrap(group: group, childGroup: childGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: Int32(clamping: configuration.listenBacklog))
            // Control data is small and latency-bound: no Nagle delay. Keepalive finds peers
            // that vanished without a FIN (power loss, cable pulled) on otherwise idle links.
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 64 * 1_024, high: 256 * 1_024))
            .childChannelInitializer { channel in
                guard connections.insert(channel) else {
                    logger.debug("connection refused: \(configuration.maxConnections) connections open")
                    return channel.close()
                }
                return channel.eventLoop.makeCompletedFuture {
                    if let tlsContext {
                        try channel.pipeline.syncOperations.addHandlers(
                            NIOSSLServerHandler(context: tlsContext), TLSErrorLogger(logger: logger))
                    }
                    try initializeConnection(channel)
                }
            }

        let channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        return Listener(configuration: configuration, serverChannel: channel, connections: connections)
    }

    /// Stops accepting, tells every connection the server is shutting down, closes whoever
    /// has not finished within the grace period and waits until all are closed.
    func shutdown() async {
        try? await serverChannel.close()
        await connections.closeAll(grace: .clamped(seconds: configuration.closeGracePeriod))
    }
}

extension TimeAmount {
    /// Whole nanoseconds of `seconds`, negative values as zero.
    static func clamped(seconds: Double) -> TimeAmount {
        .nanoseconds(Int64(max(0, min(seconds, 1e9)) * 1e9))
    }
}

public import Logging
public import NIOCore
import NIOPosix

/// The CLASP TCP listener (wire-format §1.5): each CLASP frame preceded by a 4-byte
/// big-endian length. Sessions join the same `RouterHost` as the WebSocket ones, so the two
/// transports share params, subscriptions and fan-out. No HTTP phase: the router's own
/// HELLO timeout bounds a connection that never says HELLO.
///
/// Pipeline of a connection: `TCPConnectionHandler` alone.
public final class TCPServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String = "0.0.0.0"
        public var port: Int = 7332
        /// Largest frame accepted: the largest CLASP frame (65,535-byte payload, 4-byte header,
        /// 8-byte timestamp). A prefix announcing more is answered with ERROR 100 and the
        /// connection closed, before any of the frame is buffered.
        public var maxFrameBytes: Int = 65_547
        /// Seconds a frame may take to arrive once its first byte has; a stalled half-frame
        /// is answered with ERROR 100 and the connection closed.
        public var readTimeout: Double = 10
        /// Per-session outbound queue limits (used while the peer cannot take more).
        public var outboundQueueFrames: Int = 8_192
        public var outboundQueueBytes: Int = 8 * 1_024 * 1_024
        /// Seconds a closing connection may take to get its last bytes out.
        public var closeGracePeriod: Double = 5
        /// Put accepted connections on the router's event loop (no hops between a channel
        /// and the router core). When false they spread over the group.
        public var connectionsOnRouterLoop: Bool = true
        public var listenBacklog: Int = 256
        /// Open connections at most; one more is closed as soon as it is accepted.
        public var maxConnections: Int = 4_096

        public init() {}
    }

    public let configuration: Configuration
    private let serverChannel: any Channel
    private let connections: ConnectionRegistry
    private let logger: Logger

    /// The port actually bound (useful with port 0).
    public var localPort: Int { serverChannel.localAddress?.port ?? configuration.port }

    private init(configuration: Configuration, serverChannel: any Channel, connections: ConnectionRegistry, logger: Logger) {
        self.configuration = configuration
        self.serverChannel = serverChannel
        self.connections = connections
        self.logger = logger
    }

    public static func start(
        configuration: Configuration,
        host: RouterHost,
        group: any EventLoopGroup,
        logger: Logger
    ) async throws -> TCPServer {
        let connections = ConnectionRegistry(limit: configuration.maxConnections)
        let cache = NIOLoopBoundBox.makeBoxSendingValue(
            WireFrameCache(encode: LengthPrefixFrameDecoder.encode), as: WireFrameCache.self, eventLoop: host.eventLoop)
        let settings = TCPConnectionHandler.Settings(
            maxFrameBytes: max(1, configuration.maxFrameBytes),
            readTimeout: .seconds(configuration.readTimeout),
            queueFrames: configuration.outboundQueueFrames,
            queueBytes: configuration.outboundQueueBytes,
            closeGracePeriod: .seconds(configuration.closeGracePeriod)
        )
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
                    logger.debug("tcp connection refused: \(configuration.maxConnections) connections open")
                    return channel.close()
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        TCPConnectionHandler(host: host, settings: settings, cache: cache, logger: logger)
                    )
                }
            }

        let channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        let server = TCPServer(configuration: configuration, serverChannel: channel, connections: connections, logger: logger)
        logger.info("TCP server listening", metadata: ["address": "\(configuration.host):\(server.localPort)"])
        return server
    }

    /// Stops accepting, closes every connection (after what is queued for it is written) and
    /// waits until all are closed.
    public func shutdown() async throws {
        try? await serverChannel.close()
        await connections.closeAll(grace: .seconds(configuration.closeGracePeriod))
        logger.info("TCP server stopped")
    }
}

extension TimeAmount {
    /// Whole nanoseconds of `seconds`, negative values as zero.
    fileprivate static func seconds(_ seconds: Double) -> TimeAmount {
        .nanoseconds(Int64(max(0, min(seconds, 1e9)) * 1e9))
    }
}

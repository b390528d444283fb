public import Logging
public import NIOCore

/// The CLASP TCP listener (wire-format §1.5): each CLASP frame preceded by a 4-byte
/// big-endian length. Sessions join the same `RouterHost` as the WebSocket ones, so the two
/// transports share params, subscriptions and fan-out. No HTTP phase: the router's own
/// HELLO timeout bounds a connection that never says HELLO (or never finishes its TLS
/// handshake).
///
/// Pipeline of a connection: `NIOSSLServerHandler` when TLS is on, then `TCPConnectionHandler`.
public final class TCPServer: Sendable {
    public struct Configuration: Sendable {
        /// Address, port, connection limits, queues, TLS.
        public var listener = ListenerConfiguration(port: 7332)
        /// Largest frame accepted: the largest CLASP frame (65,535-byte payload, 4-byte header,
        /// 8-byte timestamp). A prefix announcing more is answered with ERROR 100 and the
        /// connection closed, before any of the frame is buffered.
        public var maxFrameBytes: Int = 65_547
        /// Seconds a frame may take to arrive once its first byte has; a stalled half-frame
        /// is answered with ERROR 100 and the connection closed.
        public var readTimeout: Double = 10

        public init() {}
    }

    public let configuration: Configuration
    private let listener: Listener
    private let logger: Logger

    /// The port actually bound (useful with port 0).
    public var localPort: Int { listener.localPort }

    private init(configuration: Configuration, listener: Listener, logger: Logger) {
        self.configuration = configuration
        self.listener = listener
        self.logger = logger
    }

    public static func start(
        configuration: Configuration,
        host: RouterHost,
        group: any EventLoopGroup,
        logger: Logger
    ) async throws -> TCPServer {
        let common = configuration.listener
        let cache = NIOLoopBoundBox.makeBoxSendingValue(
            WireFrameCache(encode: LengthPrefixFrameDecoder.encode), as: WireFrameCache.self, eventLoop: host.eventLoop)
        let settings = TCPConnectionHandler.Settings(
            maxFrameBytes: max(1, configuration.maxFrameBytes),
            readTimeout: .clamped(seconds: configuration.readTimeout),
            queueFrames: common.outboundQueueFrames,
            queueBytes: common.outboundQueueBytes,
            closeGracePeriod: .clamped(seconds: common.closeGracePeriod)
        )
        let listener = try await Listener.bind(common, host: host, group: group, logger: logger) { channel in
            try channel.pipeline.syncOperations.addHandler(
                TCPConnectionHandler(host: host, settings: settings, cache: cache, logger: logger)
            )
        }
        let server = TCPServer(configuration: configuration, listener: listener, logger: logger)
        logger.info(
            common.tls == nil ? "TCP server listening" : "TCP+TLS server listening",
            metadata: ["address": "\(common.host):\(server.localPort)"])
        return server
    }

    /// Stops accepting, closes every connection (after what is queued for it is written) and
    /// waits until all are closed.
    public func shutdown() async throws {
        await listener.shutdown()
        logger.info(configuration.listener.tls == nil ? "TCP server stopped" : "TCP+TLS server stopped")
    }
}

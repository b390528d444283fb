public import Logging
public import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// The CLASP WebSocket listener (wire-format §1.5, §4.17): any request path, subprotocol
/// `clasp` echoed when offered, one CLASP frame per binary message, plain HTTP requests
/// answered `200 ok` (health probes).
///
/// Pipeline of a fresh connection: `HandshakeTimeoutHandler`, NIO's HTTP/1 server handlers
/// with the WebSocket upgrader, `HTTPProbeResponder`. After the upgrade: NIO's WebSocket frame
/// encoder/decoder and protocol error handler, then `WebSocketConnectionHandler`.
public final class WebSocketServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String = "0.0.0.0"
        public var port: Int = 7330
        /// Largest WebSocket message (and frame) accepted: one CLASP frame (65,547 bytes) plus
        /// a little. A frame announcing more is answered with close 1009 before any of it
        /// is buffered.
        public var maxFrameBytes: Int = 65_547 + 1_024
        /// Seconds a connection has to complete the HTTP upgrade.
        public var handshakeTimeout: Double = 10
        /// Per-session outbound queue limits (used while the peer cannot take more).
        public var outboundQueueFrames: Int = 8_192
        public var outboundQueueBytes: Int = 8 * 1_024 * 1_024
        /// Seconds a closing connection may take to get its last bytes out.
        public var closeGracePeriod: Double = 5
        /// Put accepted connections on the router's event loop (no hops between a channel
        /// and the router core). When false they spread over the group.
        public var connectionsOnRouterLoop: Bool = true
        /// HTTP request head limits before the upgrade.
        public var maxRequestHeadBytes: Int = 16 * 1_024
        public var listenBacklog: Int = 256
        /// Open connections at most, upgraded or not. One more is closed as soon as it is
        /// accepted, so a flood of idle sockets cannot use up the process's file descriptors
        /// while each waits out its handshake timeout. Keep it above the router's session limit.
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
    ) async throws -> WebSocketServer {
        let connections = ConnectionRegistry(limit: configuration.maxConnections)
        let cache = NIOLoopBoundBox.makeBoxSendingValue(
            WireFrameCache(encode: WireFrameCache.webSocketFrame), as: WireFrameCache.self, eventLoop: host.eventLoop)
        let settings = WebSocketConnectionHandler.Settings(
            maxMessageBytes: configuration.maxFrameBytes,
            queueFrames: configuration.outboundQueueFrames,
            queueBytes: configuration.outboundQueueBytes,
            closeGracePeriod: .nanoseconds(Int64(max(0, configuration.closeGracePeriod) * 1e9))
        )
        let handshakeTimeout = TimeAmount.nanoseconds(Int64(max(0.001, configuration.handshakeTimeout) * 1e9))
        let headLimits: NIOHTTPDecoderLimitConfiguration = {
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderFieldSize = configuration.maxRequestHeadBytes
            limits.maxHeaderListSize = configuration.maxRequestHeadBytes
            limits.maxHeaderFieldCount = 100
            return limits
        }()
        let maxFrameBytes = min(configuration.maxFrameBytes, Int(UInt32.max))
        let childGroup: any EventLoopGroup = configuration.connectionsOnRouterLoop ? host.eventLoop : group

        let bootstrap = ServerBootstrap(group: group, childGroup: childGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: Int32(clamping: configuration.listenBacklog))
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 64 * 1_024, high: 256 * 1_024))
            .childChannelInitializer { channel in
                guard connections.insert(channel) else {
                    logger.debug("connection refused: \(configuration.maxConnections) connections open")
                    return channel.close()
                }
                let upgrader = NIOWebSocketServerUpgrader(
                    maxFrameSize: maxFrameBytes,
                    automaticErrorHandling: true,
                    shouldUpgrade: { channel, head in
                        channel.eventLoop.makeSucceededFuture(WebSocketHandshake.responseHeaders(for: head))
                    },
                    upgradePipelineHandler: { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            let pipeline = channel.pipeline.syncOperations
                            pipeline.removeHandler(name: HTTPProbeResponder.name, promise: nil)
                            pipeline.removeHandler(name: HandshakeTimeoutHandler.name, promise: nil)
                            try pipeline.addHandler(
                                WebSocketConnectionHandler(host: host, settings: settings, cache: cache, logger: logger)
                            )
                        }
                    }
                )
                return channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(
                        HandshakeTimeoutHandler(timeout: handshakeTimeout, logger: logger),
                        name: HandshakeTimeoutHandler.name
                    )
                    try pipeline.configureHTTPServerPipeline(
                        withPipeliningAssistance: false,
                        withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }),
                        withErrorHandling: true,
                        withOutboundHeaderValidation: true,
                        withEncoderConfiguration: .init(),
                        withDecoderLimitConfiguration: headLimits
                    )
                    try pipeline.addHandler(HTTPProbeResponder(logger: logger), name: HTTPProbeResponder.name)
                }
            }

        let channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        let server = WebSocketServer(
            configuration: configuration,
            serverChannel: channel,
            connections: connections,
            logger: logger
        )
        logger.info(
            "WebSocket server listening",
            metadata: ["address": "\(configuration.host):\(server.localPort)"]
        )
        return server
    }

    /// Stops accepting, closes every connection (close 1001 for WebSocket sessions) and waits
    /// until all are closed.
    public func shutdown() async throws {
        try? await serverChannel.close()
        await connections.closeAll(
            grace: .nanoseconds(Int64(max(0, configuration.closeGracePeriod) * 1e9)))
        logger.info("WebSocket server stopped")
    }
}

/// The subprotocol rule of wire-format §4.17.
enum WebSocketHandshake {
    static let subprotocol = "clasp"

    /// Extra response headers for an acceptable upgrade request, `nil` to refuse it (only
    /// `GET` upgrades; other methods are answered as plain HTTP probes).
    static func responseHeaders(for head: HTTPRequestHead) -> HTTPHeaders? {
        guard head.method == .GET else { return nil }
        var headers = HTTPHeaders()
        if offersClasp(head.headers[canonicalForm: "sec-websocket-protocol"]) {
            headers.add(name: "Sec-WebSocket-Protocol", value: subprotocol)
        }
        return headers
    }

    /// True when one of the offered tokens is `clasp` (headers already split at commas).
    static func offersClasp(_ offered: [Substring]) -> Bool {
        offered.contains { $0.trimmingSpaces() == subprotocol }
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var slice = self
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return slice
    }
}

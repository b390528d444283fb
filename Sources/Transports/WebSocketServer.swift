public import Logging
public import NIOCore
import NIOHTTP1
import NIOWebSocket

/// The CLASP WebSocket listener (wire-format §1.5, §4.17): any request path, subprotocol
/// `clasp` echoed when offered, one CLASP frame per binary message, plain HTTP requests
/// answered `200 ok` (health probes).
///
/// Pipeline of a fresh connection: `NIOSSLServerHandler` (WSS only), `HandshakeTimeoutHandler`,
/// NIO's HTTP/1 server handlers with the WebSocket upgrader, `HTTPProbeResponder`. After the
/// upgrade: NIO's WebSocket frame encoder/decoder and protocol error handler, then
/// `WebSocketConnectionHandler`.
public final class WebSocketServer: Sendable {
    public struct Configuration: Sendable {
        /// Address, port, connection limits (upgraded or not), queues, TLS (WSS).
        public var listener = ListenerConfiguration(port: 7330)
        /// Largest WebSocket message (and frame) accepted: one CLASP frame (65,547 bytes) plus
        /// a little. A frame announcing more is answered with close 1009 before any of it
        /// is buffered.
        public var maxFrameBytes: Int = 65_547 + 1_024
        /// Seconds a connection has to complete the HTTP upgrade (and the TLS handshake
        /// before it, for WSS).
        public var handshakeTimeout: Double = 10
        /// HTTP request head limits before the upgrade.
        public var maxRequestHeadBytes: Int = 16 * 1_024

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
    ) async throws -> WebSocketServer {
        let common = configuration.listener
        let cache = NIOLoopBoundBox.makeBoxSendingValue(
            WireFrameCache(encode: WireFrameCache.webSocketFrame), as: WireFrameCache.self, eventLoop: host.eventLoop)
        let settings = WebSocketConnectionHandler.Settings(
            maxMessageBytes: configuration.maxFrameBytes,
            queueFrames: common.outboundQueueFrames,
            queueBytes: common.outboundQueueBytes,
            closeGracePeriod: .clamped(seconds: common.closeGracePeriod)
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

        let listener = try await Listener.bind(common, host: host, group: group, logger: logger) { channel in
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
        let server = WebSocketServer(configuration: configuration, listener: listener, logger: logger)
        logger.info(
            common.tls == nil ? "WebSocket server listening" : "WebSocket (TLS) server listening",
            metadata: ["address": "\(common.host):\(server.localPort)"]
        )
        return server
    }

    /// Stops accepting, closes every connection (close 1001 for WebSocket sessions) and waits
    /// until all are closed.
    public func shutdown() async throws {
        await listener.shutdown()
        logger.info(configuration.listener.tls == nil ? "WebSocket server stopped" : "WebSocket (TLS) server stopped")
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

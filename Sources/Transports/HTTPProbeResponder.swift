import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// Answers HTTP requests that are not a WebSocket upgrade (health probes: `GET /` without
/// `Upgrade`, `HEAD`, `POST`, `OPTIONS`, …) with `200 OK` and body `ok\n`, then closes
/// (wire-format §4.17). A malformed upgrade request (missing key, wrong version) gets `400`.
/// Sits after NIO's `HTTPServerUpgradeHandler`; the WebSocket upgrade removes it.
final class HTTPProbeResponder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let name = "clasp.http-probe"
    /// Request body bytes read before answering anyway.
    static let maxBodyBytes = 64 * 1024

    private let logger: Logger
    private var method: HTTPMethod?
    private var badUpgrade = false
    private var bodyBytes = 0
    private var answered = false

    init(logger: Logger) {
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            method = head.method
        case .body(let chunk):
            bodyBytes += chunk.readableBytes
            if bodyBytes > Self.maxBodyBytes { answer(context: context) }
        case .end:
            answer(context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let upgradeError = error as? NIOWebSocketUpgradeError {
            // `unsupportedWebSocketTarget`: we refused (not a GET); answer it like a probe.
            if upgradeError == .invalidUpgradeHeader { badUpgrade = true }
            return
        }
        if error is HTTPParserError {
            // NIO's HTTPServerProtocolErrorHandler has answered 400 and is closing.
            logger.debug("closing connection: malformed HTTP", metadata: ["peer": "\(Self.peer(context))", "error": "\(error)"])
        } else {
            logger.warning("HTTP connection error", metadata: ["peer": "\(Self.peer(context))", "error": "\(error)"])
        }
        context.close(promise: nil)
    }

    private static func peer(_ context: ChannelHandlerContext) -> String {
        context.channel.remoteAddress.map { "\($0)" } ?? "?"
    }

    private func answer(context: ChannelHandlerContext) {
        answered = true
        logger.debug(
            "answering plain HTTP request and closing",
            metadata: ["peer": "\(Self.peer(context))", "method": "\(method.map { "\($0)" } ?? "?")"]
        )
        let status: HTTPResponseStatus = badUpgrade ? .badRequest : .ok
        let body = badUpgrade ? "bad websocket upgrade request\n" : "ok\n"
        var head = HTTPResponseHead(version: .http1_1, status: status)
        head.headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        head.headers.add(name: "Content-Length", value: "\(body.utf8.count)")
        head.headers.add(name: "Connection", value: "close")
        context.write(Self.wrapOutboundOut(.head(head)), promise: nil)
        if method != .HEAD {
            let buffer = context.channel.allocator.buffer(string: body)
            context.write(Self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        context.writeAndFlush(Self.wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}

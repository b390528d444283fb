import Logging
import NIOCore
import NIOSSL

/// Right behind `NIOSSLServerHandler`: TLS failures are the peer's business (a client that
/// does not trust our certificate, a port scanner, a close without close_notify), so they are
/// logged at debug level and end the connection here instead of reaching the transport's
/// handlers, which would warn about them.
final class TLSErrorLogger: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is NIOSSLError || error is NIOSSLExtraError || error is BoringSSLError else {
            return context.fireErrorCaught(error)
        }
        let peer = context.channel.remoteAddress.map { "\($0)" } ?? "?"
        logger.debug("TLS connection closed", metadata: ["peer": "\(peer)", "error": "\(error)"])
        context.close(promise: nil)
    }
}

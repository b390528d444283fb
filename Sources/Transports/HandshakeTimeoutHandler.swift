import Logging
import NIOCore

/// First handler of a fresh connection: closes it if the HTTP upgrade has not completed within
/// `timeout`. The upgrade removes it (which cancels the timer); plain HTTP probes close the
/// connection themselves. Also closes the connection on `ServerShutdownEvent` while the
/// connection is still in its HTTP phase.
final class HandshakeTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    static let name = "clasp.handshake-timeout"

    private let timeout: TimeAmount
    private let logger: Logger
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount, logger: Logger) {
        self.timeout = timeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context: context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ServerShutdownEvent {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func arm(context: ChannelHandlerContext) {
        guard timer == nil else { return }
        let logger = self.logger
        let timeout = self.timeout
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            logger.debug(
                "closing connection: HTTP upgrade not completed in time",
                metadata: [
                    "peer": "\(context.channel.remoteAddress.map { "\($0)" } ?? "?")",
                    "timeout_ms": "\(timeout.nanoseconds / 1_000_000)",
                ]
            )
            context.close(promise: nil)
        }
    }
}

/// Fired into every open connection when the server shuts down.
struct ServerShutdownEvent: Sendable {}

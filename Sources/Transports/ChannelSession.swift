import NIOCore
import Router

/// What the channel-loop half of a connection (a transport's last pipeline handler) offers
/// the router-loop half. Called on the channel's loop only.
/// `SendableMetatype`: the loop hops in `ChannelSession` capture the handler's type.
protocol ChannelSessionHandler: AnyObject, SendableMetatype {
    func send(_ frame: OutboundFrame)
    func closeRequestedByRouter(_ reason: CloseReason)
}

/// A connection-oriented transport's handler (TCP, WebSocket): its channel may live on another
/// loop than the router, and a refusal closes it.
protocol StreamSessionHandler: ChannelSessionHandler {
    func refusedByRouter(_ reason: CloseReason)
}

/// The router-loop half of one connection: what `RouterCore` holds as its
/// `SessionConnection`. Lives on the router's loop only; forwards to the channel's handler,
/// directly when the channel shares the router's loop, else with one `execute` hop.
/// Transport-neutral: WebSocket, TCP and UDP differ only in their channel-loop half.
final class ChannelSession<Handler: ChannelSessionHandler>: SessionConnection {
    /// Set by `RouterCore.connect`; cleared once the core has been told the connection is gone.
    var id: ConnectionID?
    /// The core closed this connection (it has already forgotten it).
    var closedByRouter = false

    let maxFrameBytes: Int
    private let handler: NIOLoopBound<Handler>

    /// - Parameter maxFrameBytes: the transport's frame budget (datagram transports).
    init(handler: NIOLoopBound<Handler>, maxFrameBytes: Int = .max) {
        self.handler = handler
        self.maxFrameBytes = maxFrameBytes
    }

    func send(_ frame: OutboundFrame) {
        if handler.eventLoop.inEventLoop {
            handler.value.send(frame)
        } else {
            let handler = self.handler
            handler.eventLoop.execute { handler.value.send(frame) }
        }
    }

    func close(_ reason: CloseReason) {
        closedByRouter = true
        id = nil
        if handler.eventLoop.inEventLoop {
            handler.value.closeRequestedByRouter(reason)
        } else {
            let handler = self.handler
            handler.eventLoop.execute { handler.value.closeRequestedByRouter(reason) }
        }
    }

    /// Registers with the core (on the router's loop); the reason when refused.
    func connect(host: RouterHost) -> CloseReason? {
        guard !host.isShutDownOnLoop else { return .shutdown }
        guard let id = host.coreOnLoop.connect(self) else { return .routerFull }
        self.id = id
        return nil
    }

    /// Tells the core the connection is gone (on the router's loop), unless the core closed
    /// it itself or has been told already.
    func disconnect(from core: RouterCore) {
        guard !closedByRouter, let id else { return }
        self.id = nil
        core.disconnected(id)
    }
}

/// The router-loop half of one WebSocket connection.
typealias WebSocketSession = ChannelSession<WebSocketConnectionHandler>

extension ChannelSession where Handler: StreamSessionHandler {
    /// Makes the router-loop half for `handler` and registers it with the core: at once when the
    /// channel shares the router's loop, and the refusal (if any) is returned for the caller to
    /// handle once it holds the session; else after one hop, and a refusal reaches the handler
    /// on its own loop.
    static func join(
        _ handler: NIOLoopBound<Handler>, host: RouterHost
    ) -> (session: NIOLoopBoundBox<ChannelSession>, refusal: CloseReason?) {
        let session = ChannelSession(handler: handler)
        if host.eventLoop.inEventLoop {
            return (NIOLoopBoundBox(session, eventLoop: host.eventLoop), session.connect(host: host))
        }
        let box = NIOLoopBoundBox.makeBoxSendingValue(session, as: ChannelSession.self, eventLoop: host.eventLoop)
        host.execute { _ in
            if let refusal = box.value.connect(host: host) {
                handler.eventLoop.execute { handler.value.refusedByRouter(refusal) }
            }
        }
        return (box, nil)
    }
}

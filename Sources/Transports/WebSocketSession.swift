import NIOCore
import Router

/// The router-loop half of one WebSocket connection: what `RouterCore` holds as its
/// `SessionConnection`. Lives on the router's loop only; forwards to the channel's handler,
/// directly when the channel shares the router's loop, else with one `execute` hop.
final class WebSocketSession: SessionConnection {
    /// Set by `RouterCore.connect`; cleared once the core has been told the connection is gone.
    var id: ConnectionID?
    /// The core closed this connection (it has already forgotten it).
    var closedByRouter = false

    private let handler: NIOLoopBound<WebSocketConnectionHandler>

    init(handler: NIOLoopBound<WebSocketConnectionHandler>) {
        self.handler = handler
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
}

import CLASP
import Logging
import NIOCore
import NIOWebSocket
import Router

/// The channel-loop half of one upgraded WebSocket connection: last handler of the pipeline.
///
/// Inbound: reassembles binary messages (capped), hands each to `RouterCore.receive`, reports
/// text messages with `receiveText`, answers ping and close. Outbound: the shared
/// `OutboundPump` policy, each frame one binary WebSocket frame.
final class WebSocketConnectionHandler: ChannelInboundHandler, StreamSessionHandler, OutboundSink {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    struct Settings {
        var maxMessageBytes: Int
        var queueFrames: Int
        var queueBytes: Int
        /// How long a closing connection may take to get its last bytes out.
        var closeGracePeriod: TimeAmount
    }

    private enum State { case open, closing, closed }

    private enum Fragment {
        case binary(ByteBuffer)
        /// Text payloads are never buffered, only counted.
        case text(Int)
    }

    private let host: RouterHost
    private let settings: Settings
    private var logger: Logger
    /// The router loop's conversion cache, only when this channel runs on that loop.
    private let sharedCache: NIOLoopBoundBox<WireFrameCache>
    private var cache: WireFrameCache?

    private var context: ChannelHandlerContext?
    /// Context of the `WebSocketFrameEncoder`: pre-encoded frames are written from there.
    private var rawContext: ChannelHandlerContext?
    /// The router-loop half, bound to the router's loop.
    private var session: NIOLoopBoundBox<WebSocketSession>?
    /// The core has forgotten this connection or has been told it is gone.
    private var routerDone = false

    private var state = State.open
    private var pump: OutboundPump?
    /// The channel's writability and allocator, kept here: asking the channel goes through the
    /// pipeline's reference to it, once per delivered frame. Updated on every writability change.
    private var writable = false
    private var allocator = ByteBufferAllocator()
    private var fragment: Fragment?
    private var closeTimer: Scheduled<Void>?
    /// Why we are closing, for the close log line.
    private var closeReason: String?
    /// Reused for unmasking inbound messages (kept only while small).
    private var scratch: ByteBuffer?
    private static let maxScratchBytes = 16 * 1_024

    init(host: RouterHost, settings: Settings, cache: NIOLoopBoundBox<WireFrameCache>, logger: Logger) {
        self.host = host
        self.settings = settings
        self.sharedCache = cache
        self.logger = logger
    }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        writable = context.channel.isWritable
        allocator = context.channel.allocator
        self.rawContext = try? context.pipeline.syncOperations.context(handlerType: WebSocketFrameEncoder.self)
        pump = OutboundPump(
            queueFrames: settings.queueFrames, queueBytes: settings.queueBytes, eventLoop: context.eventLoop)
        let peer = context.channel.remoteAddress.map { "\($0)" } ?? "?"
        logger[metadataKey: "peer"] = "\(peer)"
        logger.debug("websocket connection open")

        if host.eventLoop.inEventLoop { cache = sharedCache.value }
        let joined = WebSocketSession.join(NIOLoopBound(self, eventLoop: context.eventLoop), host: host)
        session = joined.session
        if let refusal = joined.refusal { refusedByRouter(refusal) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let wasClosing = state != .open
        state = .closed
        closeTimer?.cancel()
        closeTimer = nil
        pump?.removeAll()
        fragment = nil
        scratch = nil
        notifyRouterGone()
        session = nil
        logger.debug(
            "websocket connection closed",
            metadata: ["reason": "\(closeReason ?? (wasClosing ? "closed by us" : "peer went away"))"]
        )
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // Normally after channelInactive; covers removal from a live pipeline too.
        notifyRouterGone()
        session = nil
        self.context = nil
        self.rawContext = nil
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ServerShutdownEvent {
            closeGracefully(code: .goingAway, reason: CloseReason.shutdown.description)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is NIOWebSocketError {
            // WebSocketProtocolErrorHandler has sent the close frame (1009 for an oversized
            // frame, 1002 otherwise) and closes once it is written; make sure a peer that does
            // not read cannot keep the connection.
            guard state == .open else { return }
            state = .closing
            closeReason = "websocket protocol error: \(error)"
            notifyRouterGone()
            closeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: settings.closeGracePeriod) {
                context.close(promise: nil)
            }
            return
        }
        if error is IOError || error is ChannelError {
            closeReason = closeReason ?? "I/O error: \(error)"
        } else {
            closeReason = closeReason ?? "error: \(error)"
            logger.warning("websocket connection error", metadata: ["error": "\(error)"])
        }
        context.close(promise: nil)
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard state == .open else { return }
        let frame = Self.unwrapInboundIn(data)
        switch frame.opcode {
        case .binary:
            guard fragment == nil else { return protocolError("new message inside a fragmented one") }
            if frame.fin {
                deliverBinary(frame, context: context)
            } else {
                var buffer = allocator.buffer(capacity: frame.length)
                var chunk = frame.unmaskedData
                buffer.writeBuffer(&chunk)
                fragment = .binary(buffer)
            }
        case .text:
            guard fragment == nil else { return protocolError("new message inside a fragmented one") }
            if frame.fin {
                deliverText()
            } else {
                fragment = .text(frame.length)
            }
        case .continuation:
            continueFragment(frame)
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            context.write(Self.wrapOutboundOut(pong), promise: nil)
            pump?.scheduleFlush(of: self)
        case .pong:
            break
        case .connectionClose:
            peerClosed(frame)
        default:
            protocolError("reserved opcode \(frame.opcode)")
        }
    }

    private func continueFragment(_ frame: WebSocketFrame) {
        switch fragment {
        case .none:
            protocolError("continuation frame without a message")
        case .binary(var buffer):
            fragment = nil
            guard buffer.readableBytes + frame.length <= settings.maxMessageBytes else {
                return messageTooLarge()
            }
            var chunk = frame.unmaskedData
            buffer.writeBuffer(&chunk)
            if frame.fin {
                deliverBinary(buffer)
            } else {
                fragment = .binary(buffer)
            }
        case .text(let length):
            fragment = nil
            let total = length + frame.length
            guard total <= settings.maxMessageBytes else { return messageTooLarge() }
            if frame.fin {
                deliverText()
            } else {
                fragment = .text(total)
            }
        }
    }

    /// A whole binary message in one frame. On the router's loop the payload is unmasked into
    /// a reused scratch buffer (the core only borrows the bytes during `receive`).
    private func deliverBinary(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        guard let key = frame.maskKey, host.eventLoop.inEventLoop else {
            return deliverBinary(frame.unmaskedData)
        }
        var buffer = scratch ?? allocator.buffer(capacity: max(1_024, frame.length))
        scratch = nil
        buffer.clear()
        buffer.writeImmutableBuffer(frame.data)
        buffer.webSocketUnmask(key)
        deliverBinary(buffer)
        if buffer.capacity <= Self.maxScratchBytes { scratch = buffer }
    }

    private func deliverBinary(_ buffer: ByteBuffer) {
        guard let box = session else { return }
        if host.eventLoop.inEventLoop {
            guard let id = box.value.id else { return }
            let core = host.coreOnLoop
            buffer.withUnsafeReadableBytes { core.receive($0, from: id) }
        } else {
            host.execute { core in
                guard let id = box.value.id else { return }
                buffer.withUnsafeReadableBytes { core.receive($0, from: id) }
            }
        }
    }

    private func deliverText() {
        guard let box = session else { return }
        if host.eventLoop.inEventLoop {
            guard let id = box.value.id else { return }
            host.coreOnLoop.receiveText(from: id)
        } else {
            host.execute { core in
                guard let id = box.value.id else { return }
                core.receiveText(from: id)
            }
        }
    }

    private func peerClosed(_ frame: WebSocketFrame) {
        guard let context else { return }
        state = .closing
        closeReason = "peer sent close"
        notifyRouterGone()
        var payload = frame.unmaskedData
        var reply = allocator.buffer(capacity: 2)
        if let code = payload.readWebSocketErrorCode() {
            reply.write(webSocketErrorCode: code)
        }
        writeCloseFrameThenClose(reply, context: context)
    }

    private func protocolError(_ why: String) {
        notifyRouterGone()
        closeGracefully(code: .protocolError, reason: why)
    }

    private func messageTooLarge() {
        notifyRouterGone()
        closeGracefully(code: .messageTooLarge, reason: "message over \(settings.maxMessageBytes) bytes")
    }

    // MARK: Outbound (called by WebSocketSession on this channel's loop)

    func send(_ frame: OutboundFrame) {
        guard state == .open, let pump else { return }
        if case .slowConsumer(let frames, let bytes) = pump.send(frame, to: self) {
            host.slowConsumerClosed()
            logger.warning("closing slow consumer", metadata: ["queued_frames": "\(frames)", "queued_bytes": "\(bytes)"])
            notifyRouterGone()
            closeGracefully(code: .policyViolation, reason: CloseReason.slowConsumer.description)
        }
    }

    func closeRequestedByRouter(_ reason: CloseReason) {
        routerDone = true
        guard state == .open else { return }
        pump?.drainAll(to: self)
        closeGracefully(code: Self.closeCode(for: reason), reason: reason.description)
    }

    func refusedByRouter(_ reason: CloseReason) {
        routerDone = true
        closeGracefully(code: Self.closeCode(for: reason), reason: reason.description)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        writable = context.channel.isWritable
        if writable, state == .open {
            pump?.drain(to: self)
        }
        context.fireChannelWritabilityChanged()
    }

    // MARK: OutboundSink

    var canWrite: Bool { context != nil && writable }

    func write(_ frame: OutboundFrame) {
        guard let context else { return }
        if let rawContext {
            let buffer = cache?.buffer(for: frame, allocator: allocator)
                ?? WireFrameCache.webSocketFrame(frame.bytes, allocator: allocator)
            rawContext.write(NIOAny(buffer), promise: nil)
        } else {
            let data = allocator.buffer(bytes: frame.bytes)
            context.write(Self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .binary, data: data)), promise: nil)
        }
    }

    func flush() {
        context?.flush()
    }

    // MARK: Closing

    private func closeGracefully(code: WebSocketErrorCode, reason: String) {
        guard state == .open, let context else { return }
        state = .closing
        closeReason = closeReason ?? reason
        var payload = allocator.buffer(capacity: 2 + 123)
        payload.write(webSocketErrorCode: code)
        payload.writeString(Self.truncatedUTF8(reason, maxBytes: 123))
        writeCloseFrameThenClose(payload, context: context)
    }

    private func writeCloseFrameThenClose(_ payload: ByteBuffer, context: ChannelHandlerContext) {
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: payload)
        context.writeAndFlush(Self.wrapOutboundOut(frame)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
        // A peer that does not read must not hold the connection open.
        closeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: settings.closeGracePeriod) {
            context.close(promise: nil)
        }
    }

    /// Tells the core the connection is gone, once, unless the core closed it itself.
    private func notifyRouterGone() {
        guard !routerDone, let box = session else { return }
        routerDone = true
        if host.eventLoop.inEventLoop {
            box.value.disconnect(from: host.coreOnLoop)
        } else {
            host.execute { core in box.value.disconnect(from: core) }
        }
    }

    static func closeCode(for reason: CloseReason) -> WebSocketErrorCode {
        switch reason {
        case .handshakeFailed, .handshakeTimeout, .tooManyBadFrames, .slowConsumer:
            return .policyViolation
        case .idleTimeout:
            return .normalClosure
        case .routerFull:
            return .unknown(1013)  // try again later
        case .shutdown:
            return .goingAway
        }
    }

    /// At most `maxBytes` of `text`'s UTF-8, cut at a scalar boundary.
    static func truncatedUTF8(_ text: String, maxBytes: Int) -> String {
        guard text.utf8.count > maxBytes else { return text }
        var result = String.UnicodeScalarView()
        var used = 0
        for scalar in text.unicodeScalars {
            let size = String(scalar).utf8.count
            guard used + size <= maxBytes else { break }
            used += size
            result.append(scalar)
        }
        return String(result)
    }
}

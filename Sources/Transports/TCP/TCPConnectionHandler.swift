import CLASP
import Logging
import NIOCore
import Router

/// One TCP connection (wire-format §1.5, length-prefixed CLASP frames): the only handler of
/// its pipeline and the channel-loop half of its router session.
///
/// Inbound: reassembles frames with `LengthPrefixFrameDecoder` and hands each to
/// `RouterCore.receive`. A bad prefix (0, or above the limit) or a frame left half-received
/// for `readTimeout` is answered with ERROR 100 and the connection is closed. Outbound: the
/// shared `OutboundPump` policy, each frame one prefixed write (prefixed once per fan-out on
/// the router's loop, through `WireFrameCache`).
final class TCPConnectionHandler: ChannelInboundHandler, StreamSessionHandler, OutboundSink {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    struct Settings {
        var maxFrameBytes: Int
        /// How long a started frame may take to arrive completely.
        var readTimeout: TimeAmount
        var queueFrames: Int
        var queueBytes: Int
        /// How long a closing connection may take to get its last bytes out.
        var closeGracePeriod: TimeAmount
    }

    private enum State { case open, closing, closed }

    private let host: RouterHost
    private let settings: Settings
    private var logger: Logger
    /// The router loop's prefixing cache, only when this channel runs on that loop.
    private let sharedCache: NIOLoopBoundBox<WireFrameCache>
    private var cache: WireFrameCache?

    private var context: ChannelHandlerContext?
    /// The router-loop half, bound to the router's loop.
    private var session: NIOLoopBoundBox<ChannelSession<TCPConnectionHandler>>?
    /// The core has forgotten this connection or has been told it is gone.
    private var routerDone = false

    private var state = State.open
    private var decoder: LengthPrefixFrameDecoder
    private var pump: OutboundPump?
    /// The channel's writability and allocator, kept here: asking the channel goes through the
    /// pipeline's reference to it, once per delivered frame. Updated on every writability change.
    private var writable = false
    private var allocator = ByteBufferAllocator()
    /// Armed while a frame is half-received; fires `readTimeout` after that frame began.
    private var readTimer: Scheduled<Void>?
    private var closeTimer: Scheduled<Void>?
    /// Why we are closing, for the close log line.
    private var closeReason: String?

    init(host: RouterHost, settings: Settings, cache: NIOLoopBoundBox<WireFrameCache>, logger: Logger) {
        self.host = host
        self.settings = settings
        self.sharedCache = cache
        self.logger = logger
        self.decoder = LengthPrefixFrameDecoder(maxFrameBytes: settings.maxFrameBytes)
    }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        writable = context.channel.isWritable
        allocator = context.channel.allocator
        pump = OutboundPump(
            queueFrames: settings.queueFrames, queueBytes: settings.queueBytes, eventLoop: context.eventLoop)
        if context.channel.isActive { open(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        open(context: context)
        context.fireChannelActive()
    }

    /// Registers the connection with the router, once.
    private func open(context: ChannelHandlerContext) {
        guard session == nil, state == .open else { return }
        let peer = context.channel.remoteAddress.map { "\($0)" } ?? "?"
        logger[metadataKey: "peer"] = "\(peer)"
        logger.debug("tcp connection open")

        if host.eventLoop.inEventLoop { cache = sharedCache.value }
        let joined = ChannelSession.join(NIOLoopBound(self, eventLoop: context.eventLoop), host: host)
        session = joined.session
        if let refusal = joined.refusal { refusedByRouter(refusal) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let wasClosing = state != .open
        state = .closed
        cancelTimers()
        pump?.removeAll()
        decoder.removeAll()
        notifyRouterGone()
        session = nil
        logger.debug(
            "tcp connection closed",
            metadata: ["reason": "\(closeReason ?? (wasClosing ? "closed by us" : "peer went away"))"]
        )
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimers()
        notifyRouterGone()
        session = nil
        self.context = nil
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ServerShutdownEvent {
            notifyRouterGone()
            closeGracefully(reason: CloseReason.shutdown.description)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is IOError || error is ChannelError {
            closeReason = closeReason ?? "I/O error: \(error)"
        } else {
            closeReason = closeReason ?? "error: \(error)"
            logger.warning("tcp connection error", metadata: ["error": "\(error)"])
        }
        context.close(promise: nil)
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard state == .open else { return }
        decoder.append(Self.unwrapInboundIn(data))
        var completed = false
        do {
            while state == .open, let frame = try decoder.next() {
                completed = true
                deliver(frame)
            }
        } catch {
            return badFrame(error)
        }
        guard state == .open else { return }
        if !decoder.hasPartialFrame {
            readTimer?.cancel()
            readTimer = nil
        } else if readTimer == nil || completed {
            // A new frame began in this read: its own deadline starts now. Progress on the
            // same frame does not extend it, so a trickling peer cannot hold a buffer forever.
            readTimer?.cancel()
            readTimer = context.eventLoop.assumeIsolated().scheduleTask(in: settings.readTimeout) {
                self.readTimedOut()
            }
        }
    }

    private func deliver(_ frame: ByteBuffer) {
        guard let box = session else { return }
        if host.eventLoop.inEventLoop {
            guard let id = box.value.id else { return }
            let core = host.coreOnLoop
            frame.withUnsafeReadableBytes { core.receive($0, from: id) }
        } else {
            host.execute { core in
                guard let id = box.value.id else { return }
                frame.withUnsafeReadableBytes { core.receive($0, from: id) }
            }
        }
    }

    private func badFrame(_ failure: LengthPrefixFrameDecoder.Failure) {
        switch failure {
        case .emptyFrame:
            closeWithError(.invalidFrame, "zero-length frame")
        case .frameTooLarge(let announced):
            closeWithError(.invalidFrame, "frame length \(announced) over the limit of \(settings.maxFrameBytes) bytes")
        }
    }

    private func readTimedOut() {
        readTimer = nil
        guard state == .open, decoder.hasPartialFrame else { return }
        let seconds = Double(settings.readTimeout.nanoseconds) / 1e9
        closeWithError(.invalidFrame, "frame incomplete after \(seconds) s")
    }

    /// Framing is lost: nothing more can be read from this stream. Queued output is dropped
    /// (the peer is misbehaving); the ERROR goes out, then the connection closes.
    private func closeWithError(_ code: ErrorCode, _ why: String) {
        guard state == .open else { return }
        logger.debug("closing tcp connection: \(why)")
        decoder.removeAll()
        pump?.removeAll()
        notifyRouterGone()
        let error = ErrorMessage(code: code.rawValue, message: why)
        // Cannot fail: a short message far below every codec limit.
        if let bytes = try? Message.error(error).encodedFrame() {
            write(OutboundFrame(bytes: bytes))
        }
        closeGracefully(reason: why)
    }

    // MARK: Outbound (called through ChannelSession on this channel's loop)

    func send(_ frame: OutboundFrame) {
        guard state == .open, let pump else { return }
        if case .slowConsumer(let frames, let bytes) = pump.send(frame, to: self) {
            host.slowConsumerClosed()
            logger.warning("closing slow consumer", metadata: ["queued_frames": "\(frames)", "queued_bytes": "\(bytes)"])
            notifyRouterGone()
            closeGracefully(reason: CloseReason.slowConsumer.description)
        }
    }

    func closeRequestedByRouter(_ reason: CloseReason) {
        routerDone = true
        guard state == .open else { return }
        pump?.drainAll(to: self)
        closeGracefully(reason: reason.description)
    }

    func refusedByRouter(_ reason: CloseReason) {
        routerDone = true
        closeGracefully(reason: reason.description)
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
        let buffer = cache?.buffer(for: frame, allocator: allocator)
            ?? LengthPrefixFrameDecoder.encode(frame.bytes, allocator: allocator)
        context.write(Self.wrapOutboundOut(buffer), promise: nil)
    }

    func flush() {
        context?.flush()
    }

    // MARK: Closing

    /// Flushes what has been written, then closes; a peer that does not read is cut off
    /// after the grace period.
    private func closeGracefully(reason: String) {
        guard state == .open, let context else { return }
        state = .closing
        closeReason = closeReason ?? reason
        readTimer?.cancel()
        readTimer = nil
        let empty = allocator.buffer(capacity: 0)
        context.writeAndFlush(Self.wrapOutboundOut(empty)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
        closeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: settings.closeGracePeriod) {
            context.close(promise: nil)
        }
    }

    private func cancelTimers() {
        readTimer?.cancel()
        readTimer = nil
        closeTimer?.cancel()
        closeTimer = nil
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
}

import CLASP
import NIOCore
import NIOWebSocket
import Router

/// The event-loop half of a `CLASPClient`: last handler of the pipeline, after NIO's WebSocket
/// frame codec and `NIOWebSocketFrameAggregator` (so every inbound frame is a whole message).
///
/// It sends HELLO and waits for WELCOME, matches SYNC replies to the requests it sent (t1 is
/// read right before the write, t4 as soon as the reply is handed to this handler), hands
/// every other frame to the `InboundFrames` buffer and holds socket reads while that buffer is
/// full, answers WebSocket pings and closes gracefully.
final class CLASPClientHandler: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    /// The four times of one SYNC exchange, µs.
    struct SyncExchange: Sendable {
        var t1, t2, t3, t4: UInt64
    }

    /// WELCOME and the local time it arrived.
    struct Welcomed: Sendable {
        var welcome: Welcome
        var receivedAt: UInt64
    }

    private struct PendingSync {
        var t1: UInt64
        var promise: EventLoopPromise<SyncExchange>
        var timeout: Scheduled<Void>
    }

    private enum State { case awaitingWelcome, open, closing, closed }

    private let eventLoop: any EventLoop
    private let clock: any RouterClock
    private let closeGracePeriod: TimeAmount
    private var state = State.awaitingWelcome
    private var context: ChannelHandlerContext?
    private var welcome: EventLoopPromise<Welcomed>?
    private var pendingSyncs: [PendingSync] = []
    private var inbound: InboundProducer.Source?
    /// The buffer is full: socket reads wait until the consumer takes frames.
    private var readsPaused = false
    private var readPending = false
    /// What the server's close frame said, or the error that ended the connection.
    private var closeCode: UInt16?
    private var closeReason: String?
    private var closeTimer: Scheduled<Void>?

    init(eventLoop: any EventLoop, clock: any RouterClock, closeGracePeriod: TimeAmount) {
        self.eventLoop = eventLoop
        self.clock = clock
        self.closeGracePeriod = closeGracePeriod
    }

    func attach(_ inbound: InboundProducer.Source) {
        self.inbound = inbound
    }

    // MARK: Calls from CLASPClient (on the event loop)

    /// Sends HELLO; the future completes with WELCOME.
    func start(hello: [UInt8]) -> EventLoopFuture<Welcomed> {
        guard let context, state == .awaitingWelcome, welcome == nil else {
            return failed(.closedBeforeWelcome(closeCode: closeCode, reason: closeReason ?? "connection closed"))
        }
        let promise = eventLoop.makePromise(of: Welcomed.self)
        welcome = promise
        write(hello, context: context, promise: nil)
        return promise.futureResult
    }

    /// Writes one CLASP frame as one binary WebSocket message and flushes it.
    func send(_ bytes: [UInt8]) -> EventLoopFuture<Void> {
        guard let context, state == .open else { return failed(.connectionClosed) }
        let promise = eventLoop.makePromise(of: Void.self)
        write(bytes, context: context, promise: promise)
        return promise.futureResult
    }

    /// Sends SYNC {t1 = now}; the future completes with the reply's times.
    func sync(timeout: TimeAmount) -> EventLoopFuture<SyncExchange> {
        guard let context, state == .open else { return failed(.connectionClosed) }
        let promise = eventLoop.makePromise(of: SyncExchange.self)
        let timer = eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            self.expireSync(promise)
        }
        // t1 as close to the write as it can be: only the 14-byte frame is built in between.
        let t1 = clock.wallMicroseconds()
        let frame: [UInt8]
        do {
            frame = try Message.sync(Sync(t1: t1)).encodedFrame(qos: .fire)
        } catch {
            timer.cancel()
            return failed(.encoding(error))
        }
        pendingSyncs.append(PendingSync(t1: t1, promise: promise, timeout: timer))
        write(frame, context: context, promise: nil)
        return promise.futureResult
    }

    /// Starts the WebSocket close handshake (close 1000) unless the connection is already
    /// closing; the server's close frame or the grace period ends the connection.
    func close() {
        guard let context, state == .awaitingWelcome || state == .open else { return }
        beginClose(code: .normalClosure, context: context)
    }

    // MARK: Calls from InboundDelegate (on the event loop)

    func resumeReading() {
        readsPaused = false
        if readPending, let context {
            readPending = false
            context.read()
        }
    }

    /// The consumer stopped iterating: drop frames from now on and keep reading.
    func consumerGone() {
        inbound = nil
        resumeReading()
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        switch frame.opcode {
        case .binary:
            // t4 of a SYNC reply: before anything else is done with the frame.
            let receivedAt = clock.wallMicroseconds()
            var payload = frame.unmaskedData
            let bytes = payload.readBytes(length: payload.readableBytes) ?? []
            received(bytes, at: receivedAt, context: context)
        case .ping:
            guard state == .awaitingWelcome || state == .open else { return }
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(Self.wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            peerClosed(frame, context: context)
        default:
            break  // pong; text (CLASP servers send binary only); continuations are aggregated
        }
    }

    func read(context: ChannelHandlerContext) {
        if readsPaused {
            readPending = true
        } else {
            context.read()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // WebSocketProtocolErrorHandler has already sent a close frame for protocol errors.
        closeReason = closeReason ?? "\(error)"
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        state = .closed
        closeTimer?.cancel()
        closeTimer = nil
        let reason = closeReason ?? "connection closed"
        welcome?.fail(CLASPClientError.closedBeforeWelcome(closeCode: closeCode, reason: reason))
        welcome = nil
        let syncs = pendingSyncs
        pendingSyncs = []
        for pending in syncs {
            pending.timeout.cancel()
            pending.promise.fail(CLASPClientError.connectionClosed)
        }
        inbound?.finish()
        inbound = nil
        context.fireChannelInactive()
    }

    // MARK: Inbound frames

    private func received(_ bytes: [UInt8], at receivedAt: UInt64, context: ChannelHandlerContext) {
        switch state {
        case .awaitingWelcome:
            handleFirstFrame(bytes, at: receivedAt, context: context)
        case .open, .closing:
            if !pendingSyncs.isEmpty, completeSync(bytes, at: receivedAt) { return }
            guard let inbound else { return }
            switch inbound.yield(InboundFrame(bytes: bytes, receivedAt: receivedAt)) {
            case .produceMore: break
            case .stopProducing: readsPaused = true
            case .dropped: self.inbound = nil
            }
        case .closed:
            break
        }
    }

    private func handleFirstFrame(_ bytes: [UInt8], at receivedAt: UInt64, context: ChannelHandlerContext) {
        let failure: CLASPClientError
        do {
            switch try FrameCodec.decode(bytes).message {
            case .welcome(let message):
                state = .open
                welcome?.succeed(Welcomed(welcome: message, receivedAt: receivedAt))
                welcome = nil
                return
            case .error(let error):
                failure = .serverError(code: error.code, message: error.message)
            case let other:
                failure = .unexpectedReply("\(other.kind.name) instead of WELCOME")
            }
        } catch {
            failure = .unexpectedReply("undecodable frame instead of WELCOME: \(error)")
        }
        welcome?.fail(failure)
        welcome = nil
        beginClose(code: .normalClosure, context: context)
    }

    /// True when `bytes` is the reply to a SYNC this client sent.
    private func completeSync(_ bytes: [UInt8], at t4: UInt64) -> Bool {
        guard case .sync(let reply)? = try? FrameCodec.decode(bytes).message,
              let t2 = reply.t2, let t3 = reply.t3,
              let index = pendingSyncs.firstIndex(where: { $0.t1 == reply.t1 })
        else { return false }
        let pending = pendingSyncs.remove(at: index)
        pending.timeout.cancel()
        pending.promise.succeed(SyncExchange(t1: reply.t1, t2: t2, t3: t3, t4: t4))
        return true
    }

    private func expireSync(_ promise: EventLoopPromise<SyncExchange>) {
        guard let index = pendingSyncs.firstIndex(where: { $0.promise.futureResult === promise.futureResult }) else {
            return
        }
        pendingSyncs.remove(at: index)
        promise.fail(CLASPClientError.timedOut("a SYNC reply"))
    }

    // MARK: Closing

    private func peerClosed(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        var payload = frame.unmaskedData
        closeCode = payload.readInteger(as: UInt16.self)
        let text = payload.readString(length: payload.readableBytes) ?? ""
        closeReason = closeReason ?? (text.isEmpty ? "the server closed the WebSocket" : text)
        guard state != .closing else {
            // The answer to our close frame: the close handshake is complete.
            context.close(promise: nil)
            return
        }
        state = .closing
        var reply = context.channel.allocator.buffer(capacity: 2)
        if let code = closeCode { reply.writeInteger(code) }
        writeCloseFrame(reply, context: context).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
        scheduleForcedClose(context: context)
    }

    private func beginClose(code: WebSocketErrorCode, context: ChannelHandlerContext) {
        state = .closing
        var payload = context.channel.allocator.buffer(capacity: 2)
        payload.write(webSocketErrorCode: code)
        _ = writeCloseFrame(payload, context: context)
        scheduleForcedClose(context: context)
    }

    private func writeCloseFrame(_ payload: ByteBuffer, context: ChannelHandlerContext) -> EventLoopFuture<Void> {
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: payload)
        return context.writeAndFlush(Self.wrapOutboundOut(frame))
    }

    /// A server that never answers our close (or never reads) must not keep the connection.
    private func scheduleForcedClose(context: ChannelHandlerContext) {
        closeTimer?.cancel()
        closeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: closeGracePeriod) {
            context.close(promise: nil)
        }
    }

    // MARK: Helpers

    /// One binary WebSocket frame (masked, as RFC 6455 requires of clients), flushed at once.
    private func write(_ bytes: [UInt8], context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        let data = context.channel.allocator.buffer(bytes: bytes)
        let frame = WebSocketFrame(fin: true, opcode: .binary, maskKey: .random(), data: data)
        context.writeAndFlush(Self.wrapOutboundOut(frame), promise: promise)
    }

    private func failed<Value>(_ error: CLASPClientError) -> EventLoopFuture<Value> {
        eventLoop.makeFailedFuture(error)
    }
}

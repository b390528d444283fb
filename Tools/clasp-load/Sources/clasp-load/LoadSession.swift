import NIOCore

/// One client connection: sends the handshake, its subscriptions and a ping, and is ready
/// when the ping's answer comes back (so every subscription is in place). Then it records
/// deliveries into its loop's stats, counts ACKs and snapshot params, and sends pings on
/// request (`ping(on:)`), whose answers are the publisher's drain barrier. Its state is touched on the channel's
/// loop only; it is `Sendable` so the connector can hand it to the channel initializer.
final class LoadSession: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let dialect: Dialect
    private let name: String
    private let patterns: [String]
    private let stats: LoopStats?
    /// Completed when the session is ready (its subscriptions in place), failed if refused.
    let ready: EventLoopPromise<Void>
    private var readySettled = false
    private var started = false
    private var pongs: [EventLoopPromise<Void>] = []
    /// Everything below is read on the channel's loop only.
    private(set) var snapshotParams = 0
    /// Deliveries this session received (its loop's stats count them too, if it has any).
    private(set) var deliveries = 0
    private(set) var ackTimes: [UInt64] = []
    private(set) var refusal: String?
    /// Called when the channel becomes writable again (the publisher's pump waits for it).
    var onWritable: (() -> Void)?

    init(dialect: Dialect, name: String, patterns: [String], stats: LoopStats?, eventLoop: any EventLoop) {
        self.dialect = dialect
        self.name = name
        self.patterns = patterns
        self.stats = stats
        self.ready = eventLoop.makePromise()
    }

    func channelActive(context: ChannelHandlerContext) {
        begin(on: context.channel)
        context.fireChannelActive()
    }

    /// Sends the handshake: when the connection is up (TCP, MQTT), or once the WebSocket
    /// upgrade has completed and the HTTP handlers are gone (the connector calls it then).
    func begin(on channel: any Channel) {
        guard !started else { return }
        started = true
        do {
            channel.writeAndFlush(try dialect.hello(name: name, allocator: channel.allocator), promise: nil)
        } catch {
            abandon("\(name): cannot encode HELLO: \(error)", channel: channel)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch dialect.parse(Self.unwrapInboundIn(data)) {
        case .delivery(let seq, let sentAt):
            deliveries += 1
            stats?.record(seq: seq, sentAt: sentAt, now: NIODeadline.now().uptimeNanoseconds)
        case .ack:
            ackTimes.append(NIODeadline.now().uptimeNanoseconds)
        case .snapshot(let params):
            snapshotParams += params
        case .ready:
            subscribeAndPing(context)
        case .pong:
            if !pongs.isEmpty { pongs.removeFirst().succeed() }
        case .refused(let reason):
            fail(context, reason)
        case .other:
            break
        }
    }

    private func subscribeAndPing(_ context: ChannelHandlerContext) {
        let allocator = context.channel.allocator
        do {
            for (index, pattern) in patterns.enumerated() {
                context.write(Self.wrapOutboundOut(try dialect.subscribe(index: index, pattern: pattern, allocator: allocator)), promise: nil)
            }
            let pong = context.eventLoop.makePromise(of: Void.self)
            pongs.append(pong)
            context.writeAndFlush(Self.wrapOutboundOut(try dialect.ping(allocator: allocator)), promise: nil)
            pong.futureResult.assumeIsolated().whenSuccess { [self] in settleReady(nil) }
        } catch {
            fail(context, "cannot encode SUBSCRIBE: \(error)")
        }
    }

    /// Sends a ping; the future completes when the broker has answered it, i.e. processed
    /// everything this session sent before. On the channel's loop.
    func ping(on channel: any Channel) -> EventLoopFuture<Void> {
        let pong = channel.eventLoop.makePromise(of: Void.self)
        pongs.append(pong)
        do {
            channel.writeAndFlush(try dialect.ping(allocator: channel.allocator), promise: nil)
        } catch {
            pong.fail(error)
        }
        return pong.futureResult
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { onWritable?() }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let reason = refusal ?? "\(name): connection closed"
        settleReady(LoadError.refused(reason))
        pongs.forEach { $0.fail(LoadError.refused(reason)) }
        pongs.removeAll()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context, "\(error)")
    }

    private func fail(_ context: ChannelHandlerContext, _ reason: String) {
        if refusal == nil { refusal = "\(name): \(reason)" }
        settleReady(LoadError.refused(refusal ?? reason))
        context.close(promise: nil)
    }

    /// Gives up on a session that never became ready (upgrade refused, deadline passed).
    func abandon(_ reason: String, channel: any Channel) {
        channel.eventLoop.execute { [self] in
            settleReady(LoadError.refused(reason))
            channel.close(promise: nil)
        }
    }

    private func settleReady(_ failure: LoadError?) {
        guard !readySettled else { return }
        readySettled = true
        if let failure { ready.fail(failure) } else { ready.succeed() }
    }
}

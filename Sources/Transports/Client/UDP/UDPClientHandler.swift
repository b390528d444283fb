import CLASP
import NIOCore

/// The event-loop half of a `CLASPUDPClient`: writes datagrams to the server, answers the
/// reliable sends, and hands every other message to the consumer.
///
/// Reliable sends go one at a time (stop-and-wait), in the order they were asked for, so the
/// router applies them in that order whatever the network reorders. The one in flight is
/// resent with doubling timeouts until its reply arrives or its attempts run out.
final class UDPClientHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    /// What answers a reliable send.
    enum Expectation {
        /// HELLO: WELCOME, or ERROR.
        case welcome
        /// ACK with this address (nil: a BUNDLE's), or ERROR about it. A SET's or BUNDLE's
        /// ACK must report a revision above `revisionAbove`: a late duplicate ACK of an
        /// earlier write to the same address is not taken for this one.
        case ack(address: String?, revisionAbove: UInt64?)

        func isAnswered(by message: Message) -> Bool {
            switch (self, message) {
            case (.welcome, .welcome), (.welcome, .error):
                return true
            case (.ack(let address, let floor), .ack(let ack)):
                guard ack.address == address else { return false }
                guard let floor else { return true }
                // A bundle of PUBLISHes only reports no revision.
                return ack.revision.map { $0 > floor } ?? (address == nil)
            case (.ack(let address?, _), .error(let error)):
                return error.address == address
            default:
                return false
            }
        }
    }

    private struct Pending {
        let frame: [UInt8]
        var expectation: Expectation
        let what: String
        let promise: EventLoopPromise<Message>
    }

    private let server: SocketAddress
    private let policy: CLASPUDPClient.Retransmission
    private let inbound: AsyncStream<Message>.Continuation
    private var context: ChannelHandlerContext?
    private var waiting: [Pending] = []
    private var inFlight: (pending: Pending, attempt: Int, timer: Scheduled<Void>)?
    /// Highest revision acknowledged per address (bundles under "").
    private var acknowledged: [String: UInt64] = [:]
    /// Resends so far.
    private(set) var resends = 0

    init(server: SocketAddress, policy: CLASPUDPClient.Retransmission, inbound: AsyncStream<Message>.Continuation) {
        self.server = server
        self.policy = policy
        self.inbound = inbound
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(.connectionClosed)
        inbound.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port unreachable and the like: a datagram socket keeps working; resends cover it.
    }

    // MARK: Sending

    func send(_ frame: [UInt8]) {
        write(frame)
        context?.flush()
    }

    /// Sends `frame` until `expectation` is met; the promise gets the answering message.
    func sendReliably(_ frame: [UInt8], expecting expectation: Expectation, what: String, promise: EventLoopPromise<Message>) {
        enqueue(Pending(frame: frame, expectation: expectation, what: what, promise: promise))
    }

    private func enqueue(_ pending: Pending) {
        guard context != nil else { return pending.promise.fail(CLASPClientError.connectionClosed) }
        waiting.append(pending)
        if inFlight == nil { startNext() }
    }

    private func startNext() {
        guard inFlight == nil, !waiting.isEmpty else { return }
        var next = waiting.removeFirst()
        if case .ack(let address, _?) = next.expectation {
            // The revision floor is the latest known when this one goes out, not when queued.
            next.expectation = .ack(address: address, revisionAbove: acknowledged[address ?? ""] ?? 0)
        }
        transmit(next, attempt: 0)
    }

    private func transmit(_ pending: Pending, attempt: Int) {
        guard let context else { return pending.promise.fail(CLASPClientError.connectionClosed) }
        if attempt > 0 { resends += 1 }
        send(pending.frame)
        let timeout = policy.timeout(forAttempt: attempt)
        let timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            self.timedOut()
        }
        inFlight = (pending, attempt, timer)
    }

    private func timedOut() {
        guard let (pending, attempt, _) = inFlight else { return }
        inFlight = nil
        if attempt + 1 < policy.attempts {
            transmit(pending, attempt: attempt + 1)
        } else {
            pending.promise.fail(CLASPClientError.timedOut("\(pending.what) after \(policy.attempts) sends"))
            startNext()
        }
    }

    private func settle(_ reply: Message) {
        guard let (pending, _, timer) = inFlight else { return }
        timer.cancel()
        inFlight = nil
        if case .ack(let ack) = reply, let revision = ack.revision {
            acknowledged[ack.address ?? "", default: 0] = max(acknowledged[ack.address ?? ""] ?? 0, revision)
        }
        pending.promise.succeed(reply)
        startNext()
    }

    // MARK: Receiving

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard envelope.remoteAddress == server,
            let message = envelope.data.withUnsafeReadableBytes({ try? FrameCodec.decode($0).message })
        else { return }
        if let pending = inFlight?.pending, pending.expectation.isAnswered(by: message) {
            settle(message)
        } else {
            inbound.yield(message)
        }
    }

    // MARK: Closing

    func failAll(_ error: CLASPClientError) {
        inFlight?.timer.cancel()
        inFlight?.pending.promise.fail(error)
        inFlight = nil
        for pending in waiting { pending.promise.fail(error) }
        waiting.removeAll()
    }

    private func write(_ frame: [UInt8]) {
        guard let context else { return }
        let envelope = AddressedEnvelope(remoteAddress: server, data: context.channel.allocator.buffer(bytes: frame))
        context.write(wrapOutboundOut(envelope), promise: nil)
    }
}

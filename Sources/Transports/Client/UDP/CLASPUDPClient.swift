public import CLASP
public import NIOCore
import NIOPosix
public import Router
import Synchronization

/// An outbound CLASP-over-UDP session (one frame per datagram): for the gateway's bridges
/// and for tests and benchmarks of the UDP transport.
///
/// `connect` sends HELLO, resending it until WELCOME arrives. `send` is one datagram, fire
/// and forget. `sendReliably` is QoS confirm or commit over a lossy link: the frame carries a
/// timestamp unique to the message (so the router applies a resent copy once, docs/router.md
/// "De-duplication") and is resent with doubling timeouts until its ACK — or an ERROR about
/// it — arrives, or `Retransmission.attempts` sends have gone unanswered. Reliable messages
/// go one at a time, in call order, so they are applied in that order.
///
/// ```swift
/// let client = try await CLASPUDPClient.connect(host: "10.0.0.2", port: 7333, name: "desk", group: group)
/// let reply = try await client.sendReliably(.set(SetMessage(address: "/go", value: .bool(true))))
/// for await message in client.messages { … }
/// await client.close()
/// ```
///
/// A PUBLISH's ACK carries only its address: two reliable PUBLISHes to one address in a row
/// cannot be told apart by their ACKs, so a late duplicate ACK of the first could answer the
/// second. SETs and BUNDLEs are matched by revision and do not have this limit.
public final class CLASPUDPClient: Sendable {
    /// How unanswered reliable sends (and HELLO) are resent.
    public struct Retransmission: Sendable {
        /// Wait for the first reply; doubled on every resend, up to `maxTimeout`.
        public var firstTimeout: Duration = .milliseconds(100)
        public var maxTimeout: Duration = .seconds(1)
        /// Sends in all before giving up.
        public var attempts = 10

        public init() {}

        func timeout(forAttempt attempt: Int) -> TimeAmount {
            let first = TimeAmount(firstTimeout)
            let scaled = first.nanoseconds << Int64(min(attempt, 20))
            return .nanoseconds(min(scaled, TimeAmount(maxTimeout).nanoseconds))
        }
    }

    /// What answered a reliable send.
    public enum Reply: Sendable, Equatable {
        case ack(Ack)
        /// The router refused the message (it will not be applied, however often resent).
        case error(ErrorMessage)
    }

    public let welcome: Welcome
    /// Everything the server sends except the replies to reliable sends.
    public let messages: AsyncStream<Message>

    private let channel: any Channel
    private let handler: NIOLoopBound<UDPClientHandler>
    private let clock: any RouterClock
    /// Last frame timestamp used, µs: timestamps only grow, so each identifies one message.
    private let lastTimestamp = Mutex<UInt64>(0)

    public var sessionID: String { welcome.session }

    private init(welcome: Welcome, messages: AsyncStream<Message>, channel: any Channel, handler: NIOLoopBound<UDPClientHandler>, clock: any RouterClock) {
        self.welcome = welcome
        self.messages = messages
        self.channel = channel
        self.handler = handler
        self.clock = clock
    }

    /// Opens a socket, says HELLO with `name` (resent per `retransmission`) and returns once
    /// WELCOME has arrived. `bufferedMessages`: inbound messages kept for a slow consumer
    /// (the oldest are dropped beyond it — a datagram link is lossy anyway).
    public static func connect(
        host: String,
        port: Int,
        name: String = "clasp-gateway",
        features: Features = .allSignals,
        group: any EventLoopGroup,
        retransmission: Retransmission = Retransmission(),
        bufferedMessages: Int = 4_096,
        clock: any RouterClock = SystemClock()
    ) async throws(CLASPClientError) -> CLASPUDPClient {
        let hello: [UInt8]
        let server: SocketAddress
        do {
            hello = try Message.hello(Hello(features: features, name: name)).encodedFrame()
        } catch {
            throw .encoding(error)
        }
        do {
            server = try SocketAddress.makeAddressResolvingHost(host, port: port)
        } catch {
            throw .connectionFailed(host: host, port: port, reason: "\(error)")
        }
        let (messages, inbound) = AsyncStream.makeStream(of: Message.self, bufferingPolicy: .bufferingNewest(max(1, bufferedMessages)))
        let channel: any Channel
        do {
            channel = try await DatagramBootstrap(group: group)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            UDPClientHandler(server: server, policy: retransmission, inbound: inbound))
                    }
                }
                .bind(host: server.protocol == .inet6 ? "::" : "0.0.0.0", port: 0)
                .get()
        } catch {
            throw .connectionFailed(host: host, port: port, reason: "\(error)")
        }
        let handler: NIOLoopBound<UDPClientHandler>
        do {
            handler = try await channel.eventLoop.submit {
                NIOLoopBound(try channel.pipeline.syncOperations.handler(type: UDPClientHandler.self), eventLoop: channel.eventLoop)
            }.get()
        } catch {
            try? await channel.close()
            throw .connectionClosed
        }
        let reply: Message
        do {
            reply = try await exchange(hello, expecting: .welcome, what: "WELCOME", channel: channel, handler: handler)
        } catch {
            try? await channel.close()
            throw error
        }
        switch reply {
        case .welcome(let welcome):
            return CLASPUDPClient(welcome: welcome, messages: messages, channel: channel, handler: handler, clock: clock)
        case .error(let error):
            try? await channel.close()
            throw .serverError(code: error.code, message: error.message)
        default:
            try? await channel.close()
            throw .unexpectedReply("\(reply)")
        }
    }

    // MARK: Sending

    /// One datagram, fire and forget.
    public func send(_ message: Message, qos: QoS = .fire, timestamp: UInt64? = nil) async throws(CLASPClientError) {
        let bytes: [UInt8]
        do {
            bytes = try message.encodedFrame(qos: qos, timestamp: timestamp)
        } catch {
            throw .encoding(error)
        }
        guard channel.isActive else { throw .connectionClosed }
        let handler = self.handler
        do {
            try await handler.eventLoop.submit { handler.value.send(bytes) }.get()
        } catch {
            throw .connectionClosed
        }
    }

    /// Sends a SET, PUBLISH or BUNDLE at `qos` (confirm or commit) until the router answers it.
    public func sendReliably(_ message: Message, qos: QoS = .confirm) async throws(CLASPClientError) -> Reply {
        let expectation: UDPClientHandler.Expectation
        switch message {
        case .set(let set): expectation = .ack(address: set.address, revisionAbove: 0)
        case .bundle: expectation = .ack(address: nil, revisionAbove: 0)
        case .publish(let publish): expectation = .ack(address: publish.address, revisionAbove: nil)
        default: throw .unexpectedReply("only SET, PUBLISH and BUNDLE are acknowledged; \(message.kind.name) is not")
        }
        let bytes: [UInt8]
        do {
            bytes = try message.encodedFrame(qos: qos == .fire ? .confirm : qos, timestamp: nextTimestamp())
        } catch {
            throw .encoding(error)
        }
        let what = "the ACK of \(message.kind.name)"
        switch try await Self.exchange(bytes, expecting: expectation, what: what, channel: channel, handler: handler) {
        case .ack(let ack): return .ack(ack)
        case .error(let error): return .error(error)
        case let other: throw .unexpectedReply("\(other)")
        }
    }

    /// Resends so far (HELLO included).
    public func resendCount() async -> Int {
        let handler = self.handler
        return (try? await handler.eventLoop.submit { handler.value.resends }.get()) ?? 0
    }

    public func close() async {
        if channel.isActive {
            try? await channel.close()
        }
    }

    /// Sends `frame` reliably (see `UDPClientHandler`) and waits for the message answering it.
    private static func exchange(
        _ frame: [UInt8], expecting expectation: UDPClientHandler.Expectation, what: String, channel: any Channel,
        handler: NIOLoopBound<UDPClientHandler>
    ) async throws(CLASPClientError) -> Message {
        guard channel.isActive else { throw .connectionClosed }
        do {
            return try await handler.eventLoop.flatSubmit {
                let promise = handler.eventLoop.makePromise(of: Message.self)
                handler.value.sendReliably(frame, expecting: expectation, what: what, promise: promise)
                return promise.futureResult
            }.get()
        } catch {
            throw error as? CLASPClientError ?? .connectionClosed
        }
    }

    /// A frame timestamp no earlier message of this client used: the local time in µs, or one
    /// more than the last one.
    private func nextTimestamp() -> UInt64 {
        let now = clock.wallMicroseconds()
        return lastTimestamp.withLock { last in
            last = max(last + 1, now)
            return last
        }
    }
}

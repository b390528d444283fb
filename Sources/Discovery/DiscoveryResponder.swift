public import CLASP
public import Logging
public import NIOCore
import NIOPosix
import Router

/// Answers the reference's UDP discovery (wire-format §4.18): a datagram holding a HELLO
/// frame gets a WELCOME by unicast to its sender — server name, features, time and a fresh
/// session id — and nothing else happens: no session is created, anything that is not a
/// HELLO is ignored without a reply.
///
/// Replies are capped per second (`maxRepliesPerSecond`), so a flood of HELLOs with forged
/// source addresses cannot turn the gateway into an amplifier (a WELCOME is ≈ 3× a HELLO).
public final class DiscoveryResponder: Sendable {
    public struct Configuration: Sendable {
        public var host = "0.0.0.0"
        /// The reference's discovery port.
        public var port = 7331
        public var name = "clasp-gateway"
        public var features: Features = .allSignals
        public var maxRepliesPerSecond = 100

        public init() {}
    }

    private let channel: any Channel
    public let localPort: Int

    private init(channel: any Channel, localPort: Int) {
        self.channel = channel
        self.localPort = localPort
    }

    public static func start(configuration: Configuration, group: any EventLoopGroup, logger: Logger) async throws -> DiscoveryResponder {
        let channel = try await DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.socketOption(.so_broadcast), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DiscoveryHandler(configuration: configuration, logger: logger))
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        return DiscoveryResponder(channel: channel, localPort: channel.localAddress?.port ?? configuration.port)
    }

    public func shutdown() async throws {
        try await channel.close()
    }
}

/// One datagram in, at most one out.
final class DiscoveryHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let configuration: DiscoveryResponder.Configuration
    private let logger: Logger
    private var random: any RandomNumberGenerator = SystemRandomNumberGenerator()
    private var windowStart = NIODeadline.now()
    private var repliesInWindow = 0

    init(configuration: DiscoveryResponder.Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let isHello = envelope.data.withUnsafeReadableBytes { bytes in
            if case .hello? = try? FrameCodec.decode(bytes).message { return true }
            return false
        }
        guard isHello, allowReply() else { return }
        let welcome = Welcome(
            features: configuration.features, time: SystemClock().wallMicroseconds(),
            session: RouterCore.uuid(using: &random), name: configuration.name)
        guard let frame = try? Message.welcome(welcome).encodedFrame() else { return }
        let reply = AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: context.channel.allocator.buffer(bytes: frame))
        context.writeAndFlush(wrapOutboundOut(reply), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A datagram socket keeps working after an error (e.g. ICMP port unreachable).
        logger.debug("discovery: \(error)")
    }

    private func allowReply() -> Bool {
        let now = NIODeadline.now()
        if now - windowStart >= .seconds(1) {
            windowStart = now
            repliesInWindow = 0
        }
        guard repliesInWindow < configuration.maxRepliesPerSecond else { return false }
        repliesInWindow += 1
        return true
    }
}

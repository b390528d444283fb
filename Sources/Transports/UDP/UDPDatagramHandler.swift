import CLASP
import Logging
import NIOCore
import Router

/// The UDP socket's only handler: routes each datagram to its peer's session (or the group
/// session), opens a session on a HELLO from an unknown peer, ends idle sessions, and writes
/// what the sessions send. Runs on the router's loop.
final class UDPDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let host: RouterHost
    private let configuration: UDPServer.Configuration
    private let groups: UDPGroups
    private var logger: Logger
    /// Encode once per fan-out: every recipient's datagram shares one buffer.
    private let cache = WireFrameCache { frame, allocator in allocator.buffer(bytes: frame) }

    private var context: ChannelHandlerContext?
    private var localPort = 0
    private var peers: [SocketAddress: UDPPeer] = [:]
    private var group: UDPGroupSession?
    private var sweep: Scheduled<Void>?
    private let idleTimeout: TimeAmount
    /// Often enough that a session outlives its timeout by at most a quarter of it.
    private var sweepInterval: TimeAmount { .nanoseconds(max(idleTimeout.nanoseconds / 4, 10_000_000)) }

    init(host: RouterHost, configuration: UDPServer.Configuration, groups: UDPGroups, logger: Logger) {
        self.host = host
        self.configuration = configuration
        self.groups = groups
        self.logger = logger
        self.idleTimeout = .nanoseconds(Int64(max(0.001, min(configuration.idleTimeout, 1e6)) * 1e9))
    }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        precondition(host.eventLoop.inEventLoop, "the UDP socket must live on the router's loop")
        self.context = context
        localPort = context.channel.localAddress?.port ?? configuration.port
        scheduleSweep()
        if configuration.usesGroups {
            let group = UDPGroupSession(
                transport: self, host: host, eventLoop: context.eventLoop, destinations: groups.destinations,
                configuration: configuration, logger: logger)
            self.group = group
            group.open()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        endAll()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        endAll()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ServerShutdownEvent {
            endAll()
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A datagram socket keeps working after an error (e.g. ICMP port unreachable).
        logger.debug("udp: \(error)")
    }

    private func endAll() {
        sweep?.cancel()
        sweep = nil
        let core = host.coreOnLoop
        for peer in Array(peers.values) { peer.end(core: core) }
        peers.removeAll()
        group?.end(core: core)
        group = nil
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let source = envelope.remoteAddress
        guard envelope.data.readableBytes > 0, !host.isShutDownOnLoop else { return }
        let core = host.coreOnLoop
        if configuration.usesGroups {
            if groups.isOwn(source, localPort: localPort) { return }
            if groups.isGroupFrame(envelope.metadata) {
                group?.receive(envelope.data, core: core)
                return
            }
        }
        let now = NIODeadline.now()
        if let peer = peers[source] {
            peer.receive(envelope.data, core: core, at: now)
            return
        }
        // Only a HELLO opens a session: stray datagrams (late ones of an ended session,
        // scans, spoofed sources) cost nothing and get no reply.
        let isHello = envelope.data.withUnsafeReadableBytes { bytes in
            if case .hello? = try? FrameCodec.decode(bytes).message { return true }
            return false
        }
        guard isHello else { return }
        guard peers.count < configuration.maxSessions else {
            logger.debug("udp session refused: \(configuration.maxSessions) sessions open", metadata: ["peer": "\(source)"])
            return
        }
        let peer = UDPPeer(address: source, transport: self, maxDatagramBytes: configuration.maxDatagramBytes, now: now)
        if let refusal = peer.connect(
            host: host, eventLoop: context.eventLoop, queueFrames: configuration.outboundQueueFrames,
            queueBytes: configuration.outboundQueueBytes)
        {
            logger.debug("udp session refused: \(refusal)", metadata: ["peer": "\(source)"])
            return
        }
        peers[source] = peer
        logger.debug("udp session open", metadata: ["peer": "\(source)"])
        peer.receive(envelope.data, core: core, at: now)
    }

    private func scheduleSweep() {
        guard let context else { return }
        sweep = context.eventLoop.assumeIsolated().scheduleTask(in: sweepInterval) {
            self.endIdleSessions()
            self.scheduleSweep()
        }
    }

    private func endIdleSessions() {
        let deadline = NIODeadline.now() - idleTimeout
        let idle = peers.values.filter { $0.lastHeard < deadline }
        guard !idle.isEmpty else { return }
        let core = host.coreOnLoop
        for peer in idle {
            logger.debug("udp session closed", metadata: ["peer": "\(peer.address)", "reason": "idle timeout"])
            peer.end(core: core)
        }
    }

    // MARK: For the sessions

    var canWrite: Bool { context?.channel.isWritable ?? false }

    func write(_ frame: OutboundFrame, to address: SocketAddress) {
        guard let context else { return }
        let buffer = cache.buffer(for: frame, allocator: context.channel.allocator)
        context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: address, data: buffer)), promise: nil)
    }

    func flush() { context?.flush() }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            for peer in peers.values { peer.drain() }
            group?.drain()
        }
        context.fireChannelWritabilityChanged()
    }

    /// The session's queue overflowed (its ERROR 503 is written): it ends.
    func slowConsumer(_ peer: UDPPeer) {
        logger.warning("closing slow consumer", metadata: ["peer": "\(peer.address)"])
        peer.end(core: host.coreOnLoop)
    }

    /// The session ended (either side): forget the address.
    func remove(_ peer: UDPPeer) {
        if peers[peer.address] === peer { peers[peer.address] = nil }
    }
}

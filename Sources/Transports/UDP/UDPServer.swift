public import Logging
import NIOCore
import NIOPosix

/// The CLASP UDP transport: one CLASP frame per datagram, no length prefix (wire-format §1.5).
///
/// A peer address becomes a router session when it sends HELLO, and stops being one after
/// `idleTimeout` without a datagram from it (or when the router closes the session). A frame
/// larger than `maxDatagramBytes` is never sent fragmented: the peer gets ERROR 402 in its
/// place. Optionally frames sent to a multicast group or a broadcast address are received
/// as one shared, fire-and-forget "group" session, and updates matching `groupSubscriptions`
/// are sent to the group (docs/udp.md).
///
/// The socket lives on the router's event loop: datagrams reach the core without a hop.
public final class UDPServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String = "0.0.0.0"
        /// 0 picks a free port.
        public var port: Int = 7333
        /// Largest datagram sent (one whole CLASP frame): 1,472 bytes fits an Ethernet MTU of
        /// 1,500 after the IPv4 (20) and UDP (8) headers, so nothing is fragmented by IP.
        public var maxDatagramBytes: Int = 1_472
        /// Seconds without a datagram from a peer after which its session ends.
        public var idleTimeout: Double = 60
        /// Sessions at most; a HELLO from one more peer is ignored.
        public var maxSessions: Int = 4_096
        /// Per-session outbound queue limits (used while the socket cannot take more).
        public var outboundQueueFrames: Int = 1_024
        public var outboundQueueBytes: Int = 1_024 * 1_024
        /// A multicast group (IPv4) to join and send to; nil: none.
        public var multicastGroup: String?
        /// Interface for multicast, by name ("eth0") or IPv4 address; nil: the system's choice.
        public var multicastInterface: String?
        public var multicastTTL: Int = 1
        /// Whether our multicast datagrams are looped back to this host's other sockets.
        public var multicastLoop: Bool = true
        /// Receive frames sent to broadcast addresses (and send group updates to
        /// `broadcastAddress`).
        public var broadcast: Bool = false
        public var broadcastAddress: String = "255.255.255.255"
        /// Patterns whose updates the group session sends to the group(s); empty: send nothing.
        public var groupSubscriptions: [String] = []

        public init() {}

        var usesGroups: Bool { multicastGroup != nil || broadcast }
    }

    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    public let configuration: Configuration
    private let channel: any Channel
    private let logger: Logger

    /// The port actually bound (useful with port 0).
    public let localPort: Int

    private init(configuration: Configuration, channel: any Channel, logger: Logger) {
        self.configuration = configuration
        self.channel = channel
        self.logger = logger
        self.localPort = channel.localAddress?.port ?? configuration.port
    }

    public static func start(configuration: Configuration, host: RouterHost, logger: Logger) async throws -> UDPServer {
        var groups = try UDPGroups(configuration: configuration)
        // No SO_REUSEADDR for plain unicast: a second gateway on the same port must fail to
        // start rather than share (and steal) its datagrams.
        var bootstrap = DatagramBootstrap(group: host.eventLoop)
            // The largest datagram (65,507 bytes over IPv4) is read whole, never truncated.
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
        if configuration.usesGroups {
            // The destination of each datagram tells group frames from unicast ones; other
            // group members on this host bind the same port.
            bootstrap = bootstrap.channelOption(.receivePacketInfo, value: true)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
        }
        if configuration.broadcast {
            bootstrap = bootstrap.channelOption(.socketOption(.so_broadcast), value: 1)
        }
        let channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        do {
            // Group destinations carry the port actually bound; the handler comes last, with
            // them. Nothing can have a session before it is there.
            try await groups.join(channel)
            let joined = groups
            try await channel.eventLoop.submit {
                let handler = UDPDatagramHandler(host: host, configuration: configuration, groups: joined, logger: logger)
                try channel.pipeline.syncOperations.addHandler(handler)
            }.get()
        } catch {
            try? await channel.close()
            throw error
        }
        let server = UDPServer(configuration: configuration, channel: channel, logger: logger)
        logger.info("UDP transport listening", metadata: ["address": "\(configuration.host):\(server.localPort)"])
        return server
    }

    /// Ends every session (the router forgets them) and closes the socket.
    public func shutdown() async throws {
        channel.pipeline.fireUserInboundEventTriggered(ServerShutdownEvent())
        try? await channel.close()
        logger.info("UDP transport stopped")
    }
}

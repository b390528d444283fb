import CLASP
import Logging
import NIOCore
import Router

/// The one router session of everything sent to the multicast group or a broadcast address
/// (docs/udp.md, "Groups"): fire-and-forget in, subscribed updates out.
///
/// In: each group datagram is one frame of this session, whoever sent it; the router's
/// replies (ACK, ERROR, PONG) have nowhere to go and are dropped. Out: the session
/// subscribes to `groupSubscriptions` and sends the SETs and PUBLISHes the router fans out to
/// it to every group destination. What a group frame itself causes (its echo) is never sent
/// back to the group, so updates cannot circle between group members. The transport opens
/// the session itself (HELLO, then the SUBSCRIBEs) and opens it again if the router ends it
/// (its idle timeout on a quiet group).
final class UDPGroupSession: ChannelSessionHandler, OutboundSink {
    static let clientName = "udp-group"

    private weak var transport: UDPDatagramHandler?
    private let host: RouterHost
    private let eventLoop: any EventLoop
    private let destinations: [SocketAddress]
    private let subscriptions: [String]
    private let maxDatagramBytes: Int
    private let queueFrames: Int
    private let queueBytes: Int
    private let logger: Logger
    private var session: ChannelSession<UDPGroupSession>?
    private var pump: OutboundPump?
    /// True while the router handles a group frame: what it sends now is that frame's echo
    /// or reply.
    private var receiving = false
    private var ended = false

    init(
        transport: UDPDatagramHandler, host: RouterHost, eventLoop: any EventLoop, destinations: [SocketAddress],
        configuration: UDPServer.Configuration, logger: Logger
    ) {
        self.transport = transport
        self.host = host
        self.eventLoop = eventLoop
        self.destinations = destinations
        self.subscriptions = configuration.groupSubscriptions
        self.maxDatagramBytes = configuration.maxDatagramBytes
        self.queueFrames = configuration.outboundQueueFrames
        self.queueBytes = configuration.outboundQueueBytes
        self.logger = logger
    }

    /// Connects, says HELLO and subscribes.
    func open() {
        guard !ended else { return }
        pump = OutboundPump(queueFrames: queueFrames, queueBytes: queueBytes, eventLoop: eventLoop)
        let session = ChannelSession(handler: NIOLoopBound(self, eventLoop: eventLoop), maxFrameBytes: maxDatagramBytes)
        if let refusal = session.connect(host: host) {
            logger.warning("udp group session refused by the router: \(refusal)")
            return
        }
        self.session = session
        var frames: [Message] = [.hello(Hello(features: .allSignals, name: Self.clientName))]
        for (index, pattern) in subscriptions.enumerated() {
            frames.append(.subscribe(Subscribe(id: UInt32(index + 1), pattern: pattern)))
        }
        let core = host.coreOnLoop
        for message in frames {
            guard let bytes = try? message.encodedFrame(), let id = session.id else { continue }
            bytes.withUnsafeBytes { core.receive($0, from: id) }
        }
    }

    /// One group datagram.
    func receive(_ datagram: ByteBuffer, core: RouterCore) {
        guard let id = session?.id else { return }
        receiving = true
        datagram.withUnsafeReadableBytes { core.receive($0, from: id) }
        receiving = false
    }

    func end(core: RouterCore) {
        ended = true
        session?.disconnect(from: core)
        session = nil
        pump?.removeAll()
    }

    func drain() { pump?.drain(to: self) }

    // MARK: ChannelSessionHandler

    func send(_ frame: OutboundFrame) {
        guard !receiving, !destinations.isEmpty, let pump else { return }
        if Self.isUpdate(frame.bytes) {
            if case .slowConsumer = pump.send(frame, to: self) {
                // The group cannot take the 503; drop what waited and keep serving.
                logger.warning("udp group: outbound queue overflowed, queued updates dropped")
            }
        } else if Self.kind(of: frame.bytes) == .error {
            let reason = (try? FrameCodec.decode(frame.bytes)).map { "\($0.message)" } ?? "undecodable"
            logger.warning("udp group session: the router answered with \(reason)")
        }
        // Anything else (WELCOME, SNAPSHOT, ACK, PONG) is a reply with no one to read it.
    }

    func closeRequestedByRouter(_ reason: CloseReason) {
        pump?.drainAll(to: self)
        session = nil
        guard reason != .shutdown, !ended else { return }
        logger.debug("udp group session ended by the router (\(reason)); opening it again")
        // After the router has finished closing this one.
        eventLoop.assumeIsolated().execute { self.open() }
    }

    // MARK: OutboundSink

    var canWrite: Bool { transport?.canWrite ?? false }

    func write(_ frame: OutboundFrame) {
        // Only updates: not the ERROR 503 the pump writes when its queue overflows.
        guard let transport, Self.isUpdate(frame.bytes) else { return }
        guard frame.bytes.count <= maxDatagramBytes else {
            logger.warning("udp group: \(frame.bytes.count)-byte update over the \(maxDatagramBytes)-byte datagram budget, not sent")
            return
        }
        for destination in destinations {
            transport.write(frame, to: destination)
        }
    }

    func flush() { transport?.flush() }

    /// A SET or PUBLISH: what goes out to the group.
    static func isUpdate(_ frame: [UInt8]) -> Bool {
        let kind = kind(of: frame)
        return kind == .set || kind == .publish
    }

    /// The message type of a frame the router encoded (binary payload).
    static func kind(of frame: [UInt8]) -> MessageKind? {
        let offset = frame.count > 1 && frame[1] & 0x20 != 0 ? CodecLimits.timestampedHeaderLength : CodecLimits.headerLength
        guard frame.count > offset else { return nil }
        return MessageKind(rawValue: frame[offset])
    }
}

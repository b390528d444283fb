import CLASP
import NIOCore
import Router

/// One peer address's router session on the UDP socket: the channel-loop half (which is the
/// router's loop, see `UDPServer`).
///
/// Outbound frames go through the shared `OutboundPump`; a frame larger than the datagram
/// budget is replaced by ERROR 402 naming its size (never sent fragmented).
final class UDPPeer: ChannelSessionHandler, OutboundSink {
    let address: SocketAddress
    /// Last time a datagram came from the peer.
    private(set) var lastHeard: NIODeadline

    private weak var transport: UDPDatagramHandler?
    private let maxDatagramBytes: Int
    private var session: ChannelSession<UDPPeer>?
    private var pump: OutboundPump?

    init(address: SocketAddress, transport: UDPDatagramHandler, maxDatagramBytes: Int, now: NIODeadline) {
        self.address = address
        self.transport = transport
        self.maxDatagramBytes = maxDatagramBytes
        self.lastHeard = now
    }

    /// Registers with the router; the reason when it refuses.
    func connect(host: RouterHost, eventLoop: any EventLoop, queueFrames: Int, queueBytes: Int) -> CloseReason? {
        pump = OutboundPump(queueFrames: queueFrames, queueBytes: queueBytes, eventLoop: eventLoop)
        let session = ChannelSession(handler: NIOLoopBound(self, eventLoop: eventLoop), maxFrameBytes: maxDatagramBytes)
        self.session = session
        return session.connect(host: host)
    }

    /// One datagram from the peer: one frame for the router.
    func receive(_ datagram: ByteBuffer, core: RouterCore, at now: NIODeadline) {
        lastHeard = now
        guard let id = session?.id else { return }
        datagram.withUnsafeReadableBytes { core.receive($0, from: id) }
    }

    /// Ends the session from the transport's side (idle, slow, shutdown): the router forgets it.
    func end(core: RouterCore) {
        session?.disconnect(from: core)
        finish()
    }

    /// Writes what waits, if the socket takes it.
    func drain() { pump?.drain(to: self) }

    // MARK: ChannelSessionHandler (called by the router on this loop)

    func send(_ frame: OutboundFrame) {
        guard let pump, let transport else { return }
        if case .slowConsumer = pump.send(frame, to: self) {
            transport.slowConsumer(self)
        }
    }

    func closeRequestedByRouter(_ reason: CloseReason) {
        pump?.drainAll(to: self)
        finish()
    }

    private func finish() {
        session = nil
        transport?.remove(self)
    }

    // MARK: OutboundSink

    var canWrite: Bool { transport?.canWrite ?? false }

    func write(_ frame: OutboundFrame) {
        guard let transport else { return }
        guard frame.bytes.count <= maxDatagramBytes else {
            transport.write(OutboundFrame(bytes: Self.tooLargeError(frame.bytes, budget: maxDatagramBytes)), to: address)
            return
        }
        transport.write(frame, to: address)
    }

    func flush() { transport?.flush() }

    /// ERROR 402 in place of a frame over the datagram budget, with the frame's address.
    static func tooLargeError(_ frame: [UInt8], budget: Int) -> [UInt8] {
        let decoded = try? FrameCodec.decode(frame)
        let kind = decoded.map { $0.message.kind.name } ?? "frame"
        var address: String?
        switch decoded?.message {
        case .set(let set)?: address = set.address
        case .publish(let publish)?: address = publish.address
        default: address = nil
        }
        let why = "\(kind) of \(frame.count) bytes is over the UDP datagram budget of \(budget) bytes; not sent"
        // Cannot fail: a short message (addresses are bounded far below the payload limit).
        let bytes = (try? Message.error(ErrorMessage(code: ErrorCode.invalidValue.rawValue, message: why, address: address)).encodedFrame()) ?? []
        guard bytes.count > budget else { return bytes }
        // A long address would make the ERROR itself too large: it goes without.
        return (try? Message.error(ErrorMessage(code: ErrorCode.invalidValue.rawValue, message: why)).encodedFrame()) ?? []
    }
}

/// A transport's handle on one connection, given to the router.
///
/// The router calls these on its own executor only. Implementations must not block: they
/// queue the bytes for the connection (applying the slow-consumer policy of
/// `OutboundQueue`) and return.
public protocol SessionConnection: AnyObject {
    /// Queue one encoded frame for the peer. The same `OutboundFrame` (same bytes) is
    /// handed to every recipient of a fan-out.
    func send(_ frame: OutboundFrame)
    /// Send what is queued, then close. The router has already forgotten the session
    /// when it calls this; the transport must not call `RouterCore.disconnected` back for
    /// it (doing so is harmless: unknown ids are ignored).
    func close(_ reason: CloseReason)
    /// Largest frame the transport carries to this peer (a datagram budget); SNAPSHOTs are
    /// cut to fit. Stream transports carry every CLASP frame: `Int.max`.
    var maxFrameBytes: Int { get }
}

extension SessionConnection {
    public var maxFrameBytes: Int { .max }
}

/// Why the router (or a transport) ends a connection. `description` is what gets logged.
public enum CloseReason: Sendable, Equatable, CustomStringConvertible {
    case handshakeFailed(String)
    case handshakeTimeout
    case idleTimeout
    case tooManyBadFrames
    case slowConsumer
    case routerFull
    case shutdown

    public var description: String {
        switch self {
        case .handshakeFailed(let why): return "handshake failed: \(why)"
        case .handshakeTimeout: return "no HELLO within the handshake timeout"
        case .idleTimeout: return "idle timeout"
        case .tooManyBadFrames: return "too many malformed frames"
        case .slowConsumer: return "slow consumer: outbound queue full"
        case .routerFull: return "router at its session limit"
        case .shutdown: return "gateway shutting down"
        }
    }
}

/// Identifies a connection inside one router (not the CLASP session id, which is a UUID
/// sent in WELCOME).
public struct ConnectionID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "#\(rawValue)" }
}

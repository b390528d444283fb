public import CLASP
import Logging
import NIOCore
public import Router

/// An in-process router session: a bridge (or any component inside the gateway) speaks CLASP
/// messages with the router without a socket. It joins through the same HELLO/WELCOME as a
/// remote client, so the router treats it like any other session — subscriptions, writes,
/// locks — except that it is never closed for being idle.
///
/// Messages for the session are decoded and handed to `deliver` on the router's loop, in
/// order: keep that closure short (copy what you need and return).
public final class LocalSession: Sendable {
    /// Why a local session could not open.
    public enum OpenError: Error, Equatable, CustomStringConvertible {
        case refused(CloseReason)
        case noWelcome

        public var description: String {
            switch self {
            case .refused(let reason): "the router refused the session: \(reason)"
            case .noWelcome: "the router did not answer HELLO with WELCOME"
            }
        }
    }

    /// What the router said in WELCOME.
    public let welcome: Welcome
    private let host: RouterHost
    private let connection: NIOLoopBoundBox<LocalConnection>

    private init(welcome: Welcome, host: RouterHost, connection: NIOLoopBoundBox<LocalConnection>) {
        self.welcome = welcome
        self.host = host
        self.connection = connection
    }

    /// Connects and completes the handshake.
    /// - Parameters:
    ///   - deliver: every message the router sends the session after WELCOME (the initial
    ///     snapshot first), on the router's loop.
    ///   - closed: the router ended the session (shutdown, router full, …); not called for
    ///     `close()`.
    public static func open(
        host: RouterHost,
        name: String,
        features: Features = .allSignals,
        deliver: @escaping @Sendable (Message) -> Void,
        closed: @escaping @Sendable (CloseReason) -> Void = { _ in }
    ) async throws -> LocalSession {
        let hello = try Message.hello(Hello(features: features, name: name)).encodedFrame()
        let logger = host.logger
        let opened = host.eventLoop.submit { () throws -> (Welcome, NIOLoopBoundBox<LocalConnection>) in
            let connection = LocalConnection(deliver: deliver, closed: closed, logger: logger)
            let box = NIOLoopBoundBox(connection, eventLoop: host.eventLoop)
            if host.isShutDownOnLoop { throw OpenError.refused(.shutdown) }
            try host.withCoreOnLoop { core in
                guard let id = core.connect(connection, closesWhenIdle: false) else {
                    throw OpenError.refused(.routerFull)
                }
                connection.id = id
                hello.withUnsafeBytes { core.receive($0, from: id) }
            }
            // The router answers HELLO within `receive`.
            guard let welcome = connection.welcome else { throw OpenError.noWelcome }
            return (welcome, box)
        }
        let (welcome, box) = try await opened.get()
        return LocalSession(welcome: welcome, host: host, connection: box)
    }

    /// Sends one message to the router (from any thread; calls from one thread arrive in
    /// order). Encoding happens on the caller's thread; a message that cannot be encoded
    /// (a value over the frame limit, say) throws and sends nothing.
    public func send(_ message: Message, qos: QoS = .fire, timestamp: UInt64? = nil) throws(CodecError) {
        let frame = try message.encodedFrame(qos: qos, timestamp: timestamp)
        let connection = self.connection
        host.execute { core in
            guard let id = connection.value.id else { return }
            frame.withUnsafeBytes { core.receive($0, from: id) }
        }
    }

    /// Leaves the router: the session and what it held (locks, subscriptions) are released.
    public func close() {
        let connection = self.connection
        host.execute { core in
            guard let id = connection.value.id else { return }
            connection.value.id = nil
            core.disconnected(id)
        }
    }
}

/// The router's side of a `LocalSession`; lives on the router's loop.
final class LocalConnection: SessionConnection {
    var id: ConnectionID?
    private(set) var welcome: Welcome?
    private let deliver: @Sendable (Message) -> Void
    private let closed: @Sendable (CloseReason) -> Void
    private let logger: Logger

    init(deliver: @escaping @Sendable (Message) -> Void, closed: @escaping @Sendable (CloseReason) -> Void, logger: Logger) {
        self.deliver = deliver
        self.closed = closed
        self.logger = logger
    }

    func send(_ frame: OutboundFrame) {
        let message: Message
        do {
            message = try FrameCodec.decode(frame.bytes).message
        } catch {
            // The router encoded it: a failure here is a codec bug, not bad input.
            logger.error("local session: undecodable frame from the router: \(error)")
            return
        }
        if welcome == nil, case .welcome(let answer) = message {
            welcome = answer
            return
        }
        deliver(message)
    }

    func close(_ reason: CloseReason) {
        id = nil
        closed(reason)
    }
}

public import CLASP

/// One running bridge: moves data between the router, where it is one in-process session,
/// and an outside protocol or device. Every kind has the same shape: its `BridgeKind` builds
/// it from validated options, `start` opens its sockets or devices, `receive` takes what the
/// router sends its session, `status` reports counters, `stop` closes everything.
public protocol Bridge: AnyObject, Sendable {
    /// Opens sockets and devices and subscribes through `link`. Throws a `BridgeError` with a
    /// clear reason when it cannot start; the supervisor reports it and tries again later.
    func start(link: any RouterLink) async throws
    /// A message for the bridge's session: SETs and PUBLISHes matching its subscriptions,
    /// snapshots, ERRORs. Called in order on the router's thread, possibly before `start`
    /// returns (the snapshot sent on joining): copy what is needed and return.
    func receive(_ message: Message)
    /// Closes sockets and devices; once it returns the bridge sends nothing more. May be
    /// called more than once, and after a `start` that failed.
    func stop() async
    /// Health and counters now.
    var status: BridgeStatus { get }
}

/// A bridge's session with the router.
public protocol RouterLink: Sendable {
    /// Sends one message as the bridge's session (from any thread; calls from one thread
    /// arrive in order). Throws when the message cannot be encoded.
    func send(_ message: Message) throws(CodecError)
    /// Leaves the router, releasing what the session held. Called by the supervisor.
    func close()
}

/// Why a bridge could not start or stopped working, in words for the operator.
public struct BridgeError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

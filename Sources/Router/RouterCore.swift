import CLASP

/// The CLASP router: a deterministic state machine. Not thread-safe by design: a host
/// (see `Transports.RouterHost`) confines it to one serial executor and feeds it input.
public final class RouterCore {
    public let configuration: RouterConfiguration
    let clock: any RouterClock

    public init(configuration: RouterConfiguration, clock: any RouterClock = SystemClock()) {
        self.configuration = configuration
        self.clock = clock
    }

    /// A transport accepted a connection. Returns `nil` (and closes nothing) when the
    /// router is full; the transport then closes the connection itself.
    public func connect(_ connection: any SessionConnection) -> ConnectionID? { nil }

    /// One complete transport message (one CLASP frame) arrived.
    public func receive(_ bytes: UnsafeRawBufferPointer, from id: ConnectionID) {}

    /// A text message arrived on a transport that only carries binary frames.
    public func receiveText(from id: ConnectionID) {}

    /// The transport lost or closed the connection.
    public func disconnected(_ id: ConnectionID) {}

    /// Timers: handshake and idle timeouts. Call every 100 ms or so.
    public func tick() {}

    /// Close every connection with `CloseReason.shutdown`.
    public func shutdown() {}

    public var connectionCount: Int { 0 }
}

public import CLASP
public import NIOCore
import NIOPosix
public import Router
import Synchronization

/// An outbound CLASP connection (wire-format §1.5, §4.17) over WebSocket or length-prefixed
/// TCP, each plain or over TLS (`CLASPEndpoint`): for the gateway's bridges and rendezvous,
/// and for benchmarks.
///
/// `connect` opens TCP (TCP_NODELAY), does the TLS handshake for `wss://` and `tcps://`
/// (checking the certificate against the system's trust store or a pinned fingerprint,
/// `Options.trust`), upgrades to WebSocket offering subprotocol `clasp` for `ws://` and
/// `wss://`, sends HELLO and returns once WELCOME has arrived. Every CLASP frame then travels
/// as one binary WebSocket message or one length-prefixed frame, written and flushed in one go. What the server sends after
/// WELCOME arrives in `frames` (raw) or `messages` (decoded), except the replies to `sync`.
///
/// ```swift
/// let client = try await CLASPClient.connect(host: "127.0.0.1", port: 7330, name: "desk", group: group)
/// try await client.send(.subscribe(Subscribe(id: 1, pattern: "/lights/**")))
/// try await client.send(.set(SetMessage(address: "/lights/1", value: .float(0.5))))
/// let clock = try await client.sync()  // clock.offset: server = local + offset, µs
/// for try await frame in client.messages { … }
/// await client.close()
/// ```
public final class CLASPClient: Sendable {
    public struct Options: Sendable {
        /// Request path of the upgrade for `connect(host:port:)` (the gateway accepts any).
        public var path = "/"
        /// HELLO token; `nil` sends none.
        public var token: String?
        /// Time for the whole of `connect`: TCP, TLS, WebSocket upgrade and WELCOME.
        public var timeout: Duration = .seconds(5)
        /// Time one SYNC reply may take before `sync` gives up.
        public var syncTimeout: Duration = .seconds(2)
        /// How long `close` waits for the server's close frame before closing the socket.
        public var closeGracePeriod: Duration = .seconds(2)
        /// Largest inbound message (WebSocket) or frame (TCP): a CLASP frame with a timestamp
        /// and a full payload.
        public var maxMessageBytes = CodecLimits.timestampedHeaderLength + CodecLimits.maxPayloadLength
        /// Inbound frames buffered for the consumer: reading stops at the high watermark and
        /// resumes once the consumer has brought the buffer down to the low one.
        public var inboundLowWatermark = 64
        public var inboundHighWatermark = 1_024
        /// The local clock: wall time for SYNC (t1, t4) and `InboundFrame.receivedAt`.
        public var clock: any RouterClock = SystemClock()
        /// Which server certificates `wss://` and `tcps://` accept.
        public var trust: CertificateTrust = .system

        public init() {}
    }

    /// The server's WELCOME.
    public let welcome: Welcome
    /// Local wall-clock time when WELCOME arrived, µs since the Unix epoch.
    public let welcomeReceivedAt: UInt64
    /// Inbound frames, raw. Shares its buffer with `messages`: iterate one of them, once.
    public let frames: InboundFrames

    private let channel: any Channel
    private let handler: NIOLoopBound<CLASPClientHandler>
    private let options: Options
    private let clockState = Mutex(ClockSync())

    /// Session id the server gave this connection.
    public var sessionID: String { welcome.session }
    /// Server name from WELCOME.
    public var serverName: String { welcome.name }
    /// Server clock in WELCOME, µs since the Unix epoch. `welcomeTime − welcomeReceivedAt` is a
    /// first offset, wrong by up to the connection's one-way delay; `sync` does better.
    public var welcomeTime: UInt64 { welcome.time }
    /// Inbound frames, decoded. Shares its buffer with `frames`: iterate one of them, once.
    public var messages: InboundMessages { InboundMessages(frames: frames) }
    /// The clock estimate so far (updated by `sync`).
    public var clock: ClockSync { clockState.withLock { $0 } }
    /// False once the connection is closed.
    public var isConnected: Bool { channel.isActive }

    private init(connection: Connection, welcomed: CLASPClientHandler.Welcomed, options: Options) {
        self.channel = connection.channel
        self.handler = connection.handler
        self.frames = InboundFrames(source: connection.inbound)
        self.welcome = welcomed.welcome
        self.welcomeReceivedAt = welcomed.receivedAt
        self.options = options
    }

    deinit {
        // A client dropped without `close()` must not leave its socket open.
        if channel.isActive { channel.close(promise: nil) }
    }

    // MARK: Connecting

    /// Connects over WebSocket to `host:port` (path `options.path`), sends HELLO with `name`
    /// and `features` and waits for WELCOME, all within `options.timeout`.
    public static func connect(
        host: String,
        port: Int,
        name: String = "clasp-gateway",
        features: Features = .allSignals,
        group: any EventLoopGroup,
        options: Options = Options()
    ) async throws(CLASPClientError) -> CLASPClient {
        let endpoint = CLASPEndpoint(scheme: .ws, host: host, port: port, path: options.path)
        return try await connect(to: endpoint, name: name, features: features, group: group, options: options)
    }

    /// Connects to a `ws://`, `wss://`, `tcp://` or `tcps://` URL (see `CLASPEndpoint`).
    public static func connect(
        to url: String,
        name: String = "clasp-gateway",
        features: Features = .allSignals,
        group: any EventLoopGroup,
        options: Options = Options()
    ) async throws(CLASPClientError) -> CLASPClient {
        try await connect(to: CLASPEndpoint(url: url), name: name, features: features, group: group, options: options)
    }

    /// Connects to `endpoint`: TCP (TCP_NODELAY), the TLS handshake for `wss`/`tcps` (the
    /// certificate checked as `options.trust` says), the WebSocket upgrade for `ws`/`wss`,
    /// then HELLO and WELCOME, all within `options.timeout`.
    public static func connect(
        to endpoint: CLASPEndpoint,
        name: String = "clasp-gateway",
        features: Features = .allSignals,
        group: any EventLoopGroup,
        options: Options = Options()
    ) async throws(CLASPClientError) -> CLASPClient {
        let hello: [UInt8]
        do {
            hello = try Message.hello(Hello(features: features, name: name, token: options.token)).encodedFrame()
        } catch {
            throw .encoding(error)
        }
        let timeout = TimeAmount(options.timeout)
        let deadline = NIODeadline.now() + timeout
        let host = endpoint.host
        let port = endpoint.port
        let refusal = TLSRefusal()
        let trust = options.trust
        let bootstrap = ClientBootstrap(group: group)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(timeout)
        let channel: any Channel
        let established: EventLoopFuture<Connection>
        do {
            if endpoint.scheme.isWebSocket {
                let pending = try await bootstrap
                    .channelOption(.allowRemoteHalfClosure, value: true)
                    .connect(host: host, port: port) { channel in
                        channel.eventLoop.makeCompletedFuture {
                            let pending = try ClientPipeline.configureWebSocket(channel, endpoint: endpoint, options: options)
                            if endpoint.scheme.usesTLS {
                                try ClientTLS.addHandlers(to: channel, host: host, trust: trust, refusal: refusal)
                            }
                            return pending
                        }
                    }
                channel = pending.channel
                established = pending.upgrade.flatMapThrowing { outcome in
                    switch outcome {
                    case .upgraded(let connection):
                        return connection
                    case .refused(let status):
                        throw CLASPClientError.upgradeRefused(status: status, reason: "the server answered without switching protocols")
                    }
                }
            } else {
                let connection = try await bootstrap.connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let connection = try ClientPipeline.configureTCP(channel, options: options)
                        if endpoint.scheme.usesTLS {
                            try ClientTLS.addHandlers(to: channel, host: host, trust: trust, refusal: refusal)
                        }
                        return connection
                    }
                }
                channel = connection.channel
                established = channel.eventLoop.makeSucceededFuture(connection)
            }
        } catch {
            throw ClientPipeline.connectError(error, host: host, port: port)
        }

        // One deadline for the TLS handshake, the upgrade and WELCOME: when it passes, the
        // channel is closed, which fails whichever step is waiting.
        let expired = ExpiryFlag()
        let timer = channel.eventLoop.scheduleTask(deadline: deadline) {
            expired.set()
            channel.close(promise: nil)
        }
        defer { timer.cancel() }

        let connection: Connection
        do {
            connection = try await established.get()
        } catch {
            channel.close(promise: nil)
            if let refused = refusal.error { throw refused }
            if expired.isSet { throw .timedOut(endpoint.scheme.usesTLS ? "the TLS handshake and WebSocket upgrade" : "the WebSocket upgrade") }
            throw ClientPipeline.upgradeError(error)
        }

        let handler = connection.handler
        do {
            let welcomed = try await handler.eventLoop.flatSubmit { handler.value.start(hello: hello) }.get()
            return CLASPClient(connection: connection, welcomed: welcomed, options: options)
        } catch {
            channel.close(promise: nil)
            if let refused = refusal.error { throw refused }
            if expired.isSet { throw .timedOut(endpoint.scheme.usesTLS ? "the TLS handshake and WELCOME" : "WELCOME") }
            throw error as? CLASPClientError ?? .closedBeforeWelcome(closeCode: nil, reason: "\(error)")
        }
    }

    // MARK: Sending

    /// Encodes `message` and sends it as one frame. Returns once the frame has been written to
    /// the socket, so a sender cannot run ahead of the connection.
    public func send(_ message: Message, qos: QoS = .fire, timestamp: UInt64? = nil) async throws(CLASPClientError) {
        let bytes: [UInt8]
        do {
            bytes = try message.encodedFrame(qos: qos, timestamp: timestamp)
        } catch {
            throw .encoding(error)
        }
        try await send(frameBytes: bytes)
    }

    /// Sends bytes that already form one complete CLASP frame (header and payload), unchanged.
    public func send(frameBytes: [UInt8]) async throws(CLASPClientError) {
        try await onLoop { $0.send(frameBytes) }
    }

    // MARK: Clock

    /// Runs `rounds` SYNC exchanges one after another, adds each to `clock`, and returns the
    /// updated estimate. Each reply must come within `options.syncTimeout`.
    @discardableResult
    public func sync(rounds: Int = 5) async throws(CLASPClientError) -> ClockSync {
        let timeout = TimeAmount(options.syncTimeout)
        var latest = clock
        for _ in 0..<max(0, rounds) {
            let exchange = try await onLoop { $0.sync(timeout: timeout) }
            latest = clockState.withLock { clock in
                clock.add(t1: exchange.t1, t2: exchange.t2, t3: exchange.t3, t4: exchange.t4)
                return clock
            }
        }
        return latest
    }

    /// The server's clock now, by the current estimate (µs since the Unix epoch).
    public func serverTime() -> UInt64 {
        clock.serverTime(atLocal: options.clock.wallMicroseconds())
    }

    // MARK: Closing

    /// Closes gracefully (WebSocket close 1000, then waits for the server's close frame, at
    /// most `options.closeGracePeriod`; over TCP the socket is simply closed) and returns once the connection is closed. Safe to
    /// call more than once, and after the server has closed.
    public func close() async {
        // A closed channel's loop may be shut down already: nothing to schedule there then.
        if channel.isActive {
            let handler = self.handler
            handler.eventLoop.execute { handler.value.close() }
        }
        try? await channel.closeFuture.get()
    }

    /// Runs `body` with the handler on its event loop and waits for the future it returns;
    /// any failure is a `CLASPClientError`. Refused without touching the loop (which may be
    /// shut down) once the channel is closed.
    private func onLoop<Value: Sendable>(
        _ body: @escaping @Sendable (CLASPClientHandler) -> EventLoopFuture<Value>
    ) async throws(CLASPClientError) -> Value {
        guard channel.isActive else { throw .connectionClosed }
        let handler = self.handler
        do {
            return try await handler.eventLoop.flatSubmit { body(handler.value) }.get()
        } catch {
            throw error as? CLASPClientError ?? .connectionClosed
        }
    }
}

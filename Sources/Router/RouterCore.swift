import CLASP

/// The CLASP router: a deterministic state machine.
///
/// Not thread-safe by design: a host (`Transports.RouterHost`) confines it to one serial
/// executor and feeds it input — transport messages, disconnects and timer ticks. All
/// time comes from the injected `RouterClock`, all randomness from the injected generator,
/// so tests drive it in memory, step by step.
public final class RouterCore {
    public let configuration: RouterConfiguration
    private let clock: any RouterClock
    private var random: any RandomNumberGenerator

    private var connections: [ConnectionID: Connection] = [:]
    private var sessionsByID: [String: ConnectionID] = [:]
    private var nextConnection: UInt64 = 1
    private var params = ParamTable()
    private var subscriptions = SubscriptionIndex()
    private var signals: [String: SignalDefinition] = [:]

    public init(
        configuration: RouterConfiguration,
        clock: any RouterClock = SystemClock(),
        random: any RandomNumberGenerator = SystemRandomNumberGenerator()
    ) {
        self.configuration = configuration
        self.clock = clock
        self.random = random
    }

    // MARK: - Input from transports

    /// A transport accepted a connection. Returns `nil` when the router is at its session
    /// limit; the transport then closes the connection.
    public func connect(_ connection: any SessionConnection) -> ConnectionID? {
        guard connections.count < configuration.maxSessions else { return nil }
        let id = ConnectionID(rawValue: nextConnection)
        nextConnection += 1
        connections[id] = Connection(sink: connection, openedAt: clock.monotonicNanoseconds())
        return id
    }

    /// One complete transport message (one CLASP frame) arrived.
    public func receive(_ bytes: UnsafeRawBufferPointer, from id: ConnectionID) {
        guard let connection = connections[id] else { return }
        connection.lastActivity = clock.monotonicNanoseconds()
        let frame: DecodedFrame
        do {
            frame = try FrameCodec.decode(bytes)
        } catch {
            reject(connection, id, code: error.isFrameLevel ? .invalidFrame : .invalidMessage, error.description)
            return
        }
        guard let session = connection.session else {
            handshake(frame, connection, id)
            return
        }
        handle(frame.message, qos: frame.header.qos, from: session, connection, id)
    }

    /// A text message arrived on a transport that carries binary frames only.
    public func receiveText(from id: ConnectionID) {
        guard let connection = connections[id] else { return }
        connection.lastActivity = clock.monotonicNanoseconds()
        reject(connection, id, code: .invalidMessage, "text messages are not CLASP frames; send binary messages")
    }

    /// The transport lost or closed the connection.
    public func disconnected(_ id: ConnectionID) {
        guard let connection = connections.removeValue(forKey: id) else { return }
        release(connection)
    }

    /// Timers: handshake and idle timeouts. Call every 100 ms or so.
    public func tick() {
        let now = clock.monotonicNanoseconds()
        let handshakeLimit = Self.nanoseconds(configuration.handshakeTimeout)
        let idleLimit = Self.nanoseconds(configuration.idleTimeout)
        for (id, connection) in connections {
            if connection.session == nil, now &- connection.openedAt >= handshakeLimit {
                close(id, .handshakeTimeout)
            } else if idleLimit > 0, now &- connection.lastActivity >= idleLimit {
                close(id, .idleTimeout)
            }
        }
    }

    /// Closes every connection with `CloseReason.shutdown`.
    public func shutdown() {
        for id in Array(connections.keys) {
            close(id, .shutdown)
        }
    }

    public var connectionCount: Int { connections.count }
    public var sessionCount: Int { sessionsByID.count }
    public var paramCount: Int { params.count }

    // MARK: - Handshake

    private func handshake(_ frame: DecodedFrame, _ connection: Connection, _ id: ConnectionID) {
        guard case .hello(let hello) = frame.message else {
            send(.error(ErrorMessage(
                code: ErrorCode.invalidMessage.rawValue,
                message: "expected HELLO as the first message, got \(frame.message.kind.name)"
            )), to: connection)
            close(id, .handshakeFailed("first message was \(frame.message.kind.name), not HELLO"))
            return
        }
        let session = Session(id: Self.uuid(using: &random), name: hello.name, features: hello.features)
        connection.session = session
        sessionsByID[session.id] = id
        send(.welcome(Welcome(
            features: configuration.features,
            time: clock.wallMicroseconds(),
            session: session.id,
            name: configuration.name
        )), to: connection)
        sendSnapshot(params.states(matching: nil), to: connection, evenIfEmpty: true)
    }

    // MARK: - Dispatch

    private func handle(_ message: Message, qos: QoS, from session: Session, _ connection: Connection, _ id: ConnectionID) {
        switch message {
        case .hello:
            reply(connection, .invalidMessage, "session already established; a second HELLO is refused")
        case .set(let set):
            handleSet(set, qos: qos, session, connection, id)
        case .get(let get):
            handleGet(get, connection)
        case .subscribe(let subscribe):
            handleSubscribe(subscribe, session, connection, id)
        case .unsubscribe(let unsubscribe):
            if let old = session.subscriptions.removeValue(forKey: unsubscribe.id) {
                subscriptions.remove(old)
            }
        case .publish(let publish):
            handlePublish(publish, qos: qos, session, connection, id)
        case .bundle(let bundle):
            handleBundle(bundle, qos: qos, session, connection, id)
        case .sync(let sync):
            let received = clock.wallMicroseconds()
            send(.sync(Sync(t1: sync.t1, t2: received, t3: clock.wallMicroseconds())), to: connection)
        case .ping:
            send(.pong, to: connection)
        case .pong:
            break
        case .announce(let announce):
            handleAnnounce(announce, qos: qos, connection)
        case .query(let query):
            handleQuery(query, connection)
        case .replay:
            reply(connection, .notImplemented, "REPLAY needs a journal, and this router keeps none")
        case .federationSync:
            if session.features.contains(.federation) {
                reply(connection, .notImplemented, "federation is not supported by this router")
            } else {
                reply(connection, .forbidden, "FederationSync requires federation feature")
            }
        case .welcome, .snapshot, .ack, .error, .result:
            // Router-to-client messages; a client echoing them changes nothing.
            break
        }
    }

    // MARK: - Params

    private func handleSet(_ set: SetMessage, qos: QoS, _ session: Session, _ connection: Connection, _ id: ConnectionID) {
        let echo: [UInt8]
        switch check(set, currentRevision: params[set.address]?.revision, newParams: 0) {
        case .failure(let refusal):
            reply(connection, refusal.code, refusal.message, address: set.address)
            return
        case .success(let bytes):
            echo = bytes
        }
        let param = params.write(set, writer: session.id, at: clock.wallMicroseconds())
        fanOutParam(set.address, echo)
        if wantsAck(qos) {
            send(.ack(Ack(address: set.address, revision: param.revision)), to: connection)
        }
    }

    private func wantsAck(_ qos: QoS) -> Bool {
        qos != .fire || !configuration.ackOnlyWhenAsked
    }

    private struct Refusal: Error {
        let code: ErrorCode
        let message: String
    }

    /// Everything that can refuse a SET, checked before anything changes. On success,
    /// the echo frame carrying the revision the write will get.
    private func check(_ set: SetMessage, currentRevision: UInt64?, newParams: Int) -> Swift.Result<[UInt8], Refusal> {
        if let problem = addressProblem(set.address) { return .failure(problem) }
        if let expected = set.revision, let currentRevision, expected != currentRevision {
            return .failure(Refusal(code: .revisionConflict, message: "revision conflict: expected \(expected), actual \(currentRevision)"))
        }
        if currentRevision == nil, params.count + newParams >= configuration.maxParams {
            return .failure(Refusal(code: .revisionConflict, message: "param limit reached (max \(configuration.maxParams))"))
        }
        var echo = set
        echo.revision = (currentRevision ?? 0) &+ 1
        // A value is stored only if it can be sent back: in this echo and in a snapshot entry.
        guard let bytes = try? Message.set(echo).encodedFrame(),
              SnapshotChunker.fitsEntry(address: set.address, value: set.value, echoFrameLength: bytes.count)
        else {
            return .failure(Refusal(code: .invalidValue, message: "value too large: it could not be sent back within the 65535-byte payload limit"))
        }
        return .success(bytes)
    }

    private func fanOutParam(_ address: String, _ bytes: [UInt8]) {
        deliver(OutboundFrame(bytes: bytes, coalescing: .param(address)), to: address, signal: .param, excluding: nil)
    }

    private func handleGet(_ get: Get, _ connection: Connection) {
        if let problem = addressProblem(get.address) {
            reply(connection, problem.code, problem.message, address: get.address)
        } else if let param = params[get.address] {
            sendSnapshot([param.state(at: get.address)], to: connection, evenIfEmpty: true)
        } else {
            reply(connection, .addressNotFound, "address not found: \(get.address)", address: get.address)
        }
    }

    // MARK: - Subscriptions

    private func handleSubscribe(_ subscribe: Subscribe, _ session: Session, _ connection: Connection, _ id: ConnectionID) {
        guard let pattern = parsePattern(subscribe.pattern, replyingTo: connection) else { return }
        let replacing = session.subscriptions[subscribe.id]
        if replacing == nil, session.subscriptions.count >= configuration.maxSubscriptionsPerSession {
            reply(connection, .limitReached, "subscription limit reached (max \(configuration.maxSubscriptionsPerSession))", address: subscribe.pattern)
            return
        }
        if let replacing { subscriptions.remove(replacing) }
        let subscription = Subscription(connection: id, id: subscribe.id, pattern: pattern, types: subscribe.types)
        session.subscriptions[subscribe.id] = subscription
        subscriptions.insert(subscription)
        if subscribe.types.admits(.param) {
            sendSnapshot(params.states(matching: pattern), to: connection, evenIfEmpty: false)
        }
    }

    // MARK: - Publish

    private func handlePublish(_ publish: Publish, qos: QoS, _ session: Session, _ connection: Connection, _ id: ConnectionID) {
        if let problem = addressProblem(publish.address) {
            reply(connection, problem.code, problem.message, address: publish.address)
            return
        }
        guard let bytes = encode(.publish(publish), replyingTo: connection, address: publish.address) else { return }
        if let target = P2P.target(of: publish.address) {
            guard let targetID = sessionsByID[target], let targetConnection = connections[targetID] else {
                reply(connection, .sessionNotFound, "target session not found: \(target)", address: publish.address)
                return
            }
            targetConnection.sink.send(OutboundFrame(bytes: bytes))
        } else {
            deliver(OutboundFrame(bytes: bytes, coalescing: Self.coalescing(publish)), to: publish.address, signal: publish.signal, excluding: id)
        }
        if wantsAck(qos) { send(.ack(Ack(address: publish.address)), to: connection) }
    }

    private static func coalescing(_ publish: Publish) -> CoalescingKey? {
        switch (publish.signal, publish.phase) {
        case (.stream, _): return .stream(publish.address)
        case (.gesture, .move): return .gestureMove(publish.address, publish.id ?? 0)
        default: return nil
        }
    }

    // MARK: - Bundles

    /// All-or-nothing: every item is checked before any is applied; items apply in the
    /// order sent. (Scheduling at the bundle's timestamp arrives with the State issue.)
    private func handleBundle(_ bundle: BundleMessage, qos: QoS, _ session: Session, _ connection: Connection, _ id: ConnectionID) {
        var revisions: [String: UInt64] = [:]  // address → revision after the earlier items
        var newParams = 0
        var echoes: [[UInt8]] = []
        for (index, item) in bundle.messages.enumerated() {
            var refusal: Refusal?
            switch item {
            case .set(let set):
                let current = revisions[set.address] ?? params[set.address]?.revision
                switch check(set, currentRevision: current, newParams: newParams) {
                case .failure(let problem):
                    refusal = problem
                case .success(let echo):
                    if current == nil { newParams += 1 }
                    revisions[set.address] = (current ?? 0) &+ 1
                    echoes.append(echo)
                }
            case .publish(let publish):
                refusal = addressProblem(publish.address)
            default:
                refusal = Refusal(code: .invalidMessage, message: "\(item.kind.name) cannot be bundled; only SET and PUBLISH can")
            }
            if let refusal {
                reply(connection, refusal.code, "bundle rejected at item \(index + 1): \(refusal.message)", address: Self.address(of: item))
                return
            }
        }
        var lastRevision: UInt64?
        var nextEcho = echoes.makeIterator()
        for item in bundle.messages {
            switch item {
            case .set(let set):
                lastRevision = params.write(set, writer: session.id, at: clock.wallMicroseconds()).revision
                if let echo = nextEcho.next() { fanOutParam(set.address, echo) }
            case .publish(let publish):
                if let bytes = try? Message.publish(publish).encodedFrame() {
                    deliver(OutboundFrame(bytes: bytes, coalescing: Self.coalescing(publish)), to: publish.address, signal: publish.signal, excluding: id)
                }
            default:
                break
            }
        }
        if wantsAck(qos) {
            send(.ack(Ack(revision: lastRevision)), to: connection)
        }
    }

    private static func address(of message: Message) -> String? {
        switch message {
        case .set(let set): return set.address
        case .publish(let publish): return publish.address
        default: return nil
        }
    }

    // MARK: - Signals

    private func handleAnnounce(_ announce: Announce, qos: QoS, _ connection: Connection) {
        for signal in announce.signals {
            signals[signal.address] = signal
        }
        if wantsAck(qos) { send(.ack(Ack(address: announce.namespace)), to: connection) }
    }

    private func handleQuery(_ query: Query, _ connection: Connection) {
        guard let pattern = parsePattern(query.pattern, replyingTo: connection) else { return }
        let found = signals.values
            .filter { pattern.matches($0.address) }
            .sorted { $0.address < $1.address }
            .map { SignalDefinition(address: $0.address, signal: $0.signal, datatype: $0.datatype, access: $0.access) }
        send(.result(QueryResult(signals: found)), to: connection)
    }

    // MARK: - Delivery

    /// Encodes once; hands the same bytes to every matching session (each once, however
    /// many of its subscriptions match).
    private func deliver(_ frame: OutboundFrame, to address: String, signal: SignalType, excluding sender: ConnectionID?) {
        let matches = subscriptions.matches(address)
        if matches.count == 1 {
            let only = matches[0]
            if only.connection != sender, only.types.admits(signal) {
                connections[only.connection]?.sink.send(frame)
            }
            return
        }
        var served: Swift.Set<ConnectionID> = []
        for subscription in matches where subscription.connection != sender && subscription.types.admits(signal) {
            guard served.insert(subscription.connection).inserted else { continue }
            connections[subscription.connection]?.sink.send(frame)
        }
    }

    private func sendSnapshot(_ states: [ParamState], to connection: Connection, evenIfEmpty: Bool) {
        guard !states.isEmpty || evenIfEmpty else { return }
        for bytes in SnapshotChunker.frames(for: states, chunkBytes: configuration.snapshotChunkBytes) {
            connection.sink.send(OutboundFrame(bytes: bytes))
        }
    }

    private func send(_ message: Message, to connection: Connection) {
        guard let bytes = try? message.encodedFrame() else { return }
        connection.sink.send(OutboundFrame(bytes: bytes))
    }

    /// Encodes a message to forward; a message that cannot be re-encoded gets ERROR 402.
    private func encode(_ message: Message, replyingTo connection: Connection, address: String) -> [UInt8]? {
        do {
            return try message.encodedFrame()
        } catch {
            reply(connection, .invalidValue, "message cannot be forwarded: \(error)", address: address)
            return nil
        }
    }

    private func reply(_ connection: Connection, _ code: ErrorCode, _ message: String, address: String? = nil) {
        send(.error(ErrorMessage(code: code.rawValue, message: message, address: address)), to: connection)
    }

    /// Answers a malformed frame. Before HELLO it ends the connection; after it, the
    /// connection survives unless bad frames keep coming.
    private func reject(_ connection: Connection, _ id: ConnectionID, code: ErrorCode, _ reason: String) {
        reply(connection, code, reason)
        guard connection.session != nil else {
            close(id, .handshakeFailed(reason))
            return
        }
        let now = clock.monotonicNanoseconds()
        if now &- connection.badFrameWindowStart >= 1_000_000_000 {
            connection.badFrameWindowStart = now
            connection.badFrames = 0
        }
        connection.badFrames += 1
        if connection.badFrames > configuration.maxBadFramesPerSecond {
            close(id, .tooManyBadFrames)
        }
    }

    /// The parsed pattern, or nil after answering ERROR 202 with the reference's text.
    private func parsePattern(_ text: String, replyingTo connection: Connection) -> AddressPattern? {
        do {
            return try AddressPattern(text, maxLength: configuration.maxAddressLength)
        } catch {
            reply(connection, .invalidPattern, "invalid address: \(error)", address: text)
            return nil
        }
    }

    private func addressProblem(_ address: String) -> Refusal? {
        do {
            try Address.validate(address, maxLength: configuration.maxAddressLength)
            return nil
        } catch {
            return Refusal(code: .invalidAddress, message: "invalid address: \(error)")
        }
    }

    // MARK: - Connection lifecycle

    private func close(_ id: ConnectionID, _ reason: CloseReason) {
        guard let connection = connections.removeValue(forKey: id) else { return }
        release(connection)
        connection.sink.close(reason)
    }

    /// Everything a session held is released with it.
    private func release(_ connection: Connection) {
        guard let session = connection.session else { return }
        for subscription in session.subscriptions.values {
            subscriptions.remove(subscription)
        }
        sessionsByID[session.id] = nil
    }

    private static func nanoseconds(_ seconds: Double) -> UInt64 {
        seconds > 0 ? UInt64(min(seconds, 1e9) * 1e9) : 0
    }

    /// A random UUID v4, lowercase 8-4-4-4-12, as the reference's session ids.
    static func uuid(using random: inout any RandomNumberGenerator) -> String {
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &random) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let digits = Array("0123456789abcdef")
        var text = ""
        text.reserveCapacity(36)
        for (index, byte) in bytes.enumerated() {
            if [4, 6, 8, 10].contains(index) { text.append("-") }
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return text
    }
}

/// Per-connection state.
private final class Connection {
    let sink: any SessionConnection
    let openedAt: UInt64
    var lastActivity: UInt64
    var session: Session?
    var badFrames = 0
    var badFrameWindowStart: UInt64 = 0

    init(sink: any SessionConnection, openedAt: UInt64) {
        self.sink = sink
        self.openedAt = openedAt
        self.lastActivity = openedAt
    }
}

/// A connection that completed the handshake.
private final class Session {
    let id: String
    let name: String
    let features: Features
    var subscriptions: [UInt32: Subscription] = [:]

    init(id: String, name: String, features: Features) {
        self.id = id
        self.name = name
        self.features = features
    }
}

/// Reserved P2P signalling addresses (wire-format §4.6).
enum P2P {
    static let signalPrefix = "/clasp/p2p/signal/"

    /// The target session of `/clasp/p2p/signal/<session id>`, nil for other addresses.
    static func target(of address: String) -> String? {
        guard address.hasPrefix(signalPrefix) else { return nil }
        let target = address.dropFirst(signalPrefix.count)
        return target.isEmpty || target.contains("/") ? nil : String(target)
    }
}

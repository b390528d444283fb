/// One CLASP message (wire-format §3). Each case's payload type lives in `Messages/`,
/// together with its binary layout.
public enum Message: Sendable, Equatable {
    case hello(Hello)
    case welcome(Welcome)
    case announce(Announce)
    case federationSync(FederationSync)
    case subscribe(Subscribe)
    case unsubscribe(Unsubscribe)
    case publish(Publish)
    case set(SetMessage)
    case get(Get)
    case snapshot(Snapshot)
    case replay(Replay)
    case bundle(BundleMessage)
    case sync(Sync)
    case ping
    case pong
    case ack(Ack)
    case error(ErrorMessage)
    case query(Query)
    case result(QueryResult)

    public var kind: MessageKind {
        switch self {
        case .hello: return .hello
        case .welcome: return .welcome
        case .announce: return .announce
        case .federationSync: return .federationSync
        case .subscribe: return .subscribe
        case .unsubscribe: return .unsubscribe
        case .publish: return .publish
        case .set: return .set
        case .get: return .get
        case .snapshot: return .snapshot
        case .replay: return .replay
        case .bundle: return .bundle
        case .sync: return .sync
        case .ping: return .ping
        case .pong: return .pong
        case .ack: return .ack
        case .error: return .error
        case .query: return .query
        case .result: return .result
        }
    }
}

/// Binary message type codes (first payload byte).
public enum MessageKind: UInt8, Sendable, CaseIterable {
    case hello = 0x01
    case welcome = 0x02
    case announce = 0x03
    case federationSync = 0x04
    case subscribe = 0x10
    case unsubscribe = 0x11
    case publish = 0x20
    case set = 0x21
    case get = 0x22
    case snapshot = 0x23
    case replay = 0x24
    case bundle = 0x30
    case sync = 0x40
    case ping = 0x41
    case pong = 0x42
    case ack = 0x50
    case error = 0x51
    case query = 0x60
    case result = 0x61

    /// Upper-case name used by the legacy MessagePack `type` tag and in logs.
    public var name: String {
        switch self {
        case .hello: return "HELLO"
        case .welcome: return "WELCOME"
        case .announce: return "ANNOUNCE"
        case .federationSync: return "FEDERATION_SYNC"
        case .subscribe: return "SUBSCRIBE"
        case .unsubscribe: return "UNSUBSCRIBE"
        case .publish: return "PUBLISH"
        case .set: return "SET"
        case .get: return "GET"
        case .snapshot: return "SNAPSHOT"
        case .replay: return "REPLAY"
        case .bundle: return "BUNDLE"
        case .sync: return "SYNC"
        case .ping: return "PING"
        case .pong: return "PONG"
        case .ack: return "ACK"
        case .error: return "ERROR"
        case .query: return "QUERY"
        case .result: return "RESULT"
        }
    }

    /// Default QoS written by the reference encoder (wire-format §1.6); PUBLISH depends on
    /// its signal, see `Message.defaultQoS`.
    var baseQoS: QoS {
        switch self {
        case .set, .subscribe, .unsubscribe, .replay, .federationSync: return .confirm
        case .bundle: return .commit
        default: return .fire
        }
    }
}

extension Message {
    /// The QoS the reference encoder writes for this message when the caller names none.
    public var defaultQoS: QoS {
        if case .publish(let publish) = self { return publish.signal.defaultQoS }
        return kind.baseQoS
    }
}

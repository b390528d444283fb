/// Signal kinds (PUBLISH flags bits 7-5, ANNOUNCE/RESULT definitions).
public enum SignalType: UInt8, Sendable, CaseIterable {
    case param = 0
    case event = 1
    case stream = 2
    case gesture = 3
    case timeline = 4

    /// Unknown codes (5-7) decode as `event`, as the reference does.
    public init(wireCode: UInt8) { self = SignalType(rawValue: wireCode) ?? .event }

    /// Default QoS the reference encoder writes for a PUBLISH of this signal (wire-format §1.6).
    public var defaultQoS: QoS {
        switch self {
        case .param, .event: return .confirm
        case .stream, .gesture: return .fire
        case .timeline: return .commit
        }
    }
}

/// Gesture phases (PUBLISH flags bits 2-0).
public enum GesturePhase: UInt8, Sendable, CaseIterable {
    case start = 0
    case move = 1
    case end = 2
    case cancel = 3

    /// Unknown codes (4-7) decode as `start`, as the reference does.
    public init(wireCode: UInt8) { self = GesturePhase(rawValue: wireCode) ?? .start }
}

/// SUBSCRIBE/REPLAY type filter. The empty set means "all types"; it is written as `0xFF`.
/// A wire mask with no known bit (such as `0x00`) decodes to the empty set.
public struct SignalTypeMask: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue & 0x1F }

    public static let param = SignalTypeMask(rawValue: 0x01)
    public static let event = SignalTypeMask(rawValue: 0x02)
    public static let stream = SignalTypeMask(rawValue: 0x04)
    public static let gesture = SignalTypeMask(rawValue: 0x08)
    public static let timeline = SignalTypeMask(rawValue: 0x10)
    public static let all: SignalTypeMask = []

    public init(_ signal: SignalType) { self.init(rawValue: 1 << signal.rawValue) }

    /// Whether a message of `signal` passes this filter.
    public func admits(_ signal: SignalType) -> Bool { isEmpty || contains(SignalTypeMask(signal)) }

    public init(wireByte: UInt8) { self.init(rawValue: wireByte == 0xFF ? 0 : wireByte) }
    public var wireByte: UInt8 { isEmpty ? 0xFF : rawValue }
}

/// HELLO/WELCOME feature bits.
public struct Features: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let param = Features(rawValue: 0x80)
    public static let event = Features(rawValue: 0x40)
    public static let stream = Features(rawValue: 0x20)
    public static let gesture = Features(rawValue: 0x10)
    public static let timeline = Features(rawValue: 0x08)
    /// HELLO only; never written in WELCOME.
    public static let federation = Features(rawValue: 0x04)

    /// What this gateway serves: every signal kind.
    public static let allSignals: Features = [.param, .event, .stream, .gesture, .timeline]
}

/// Frame QoS (flags bits 7-6). The reserved value 3 decodes as `fire`.
public enum QoS: UInt8, Sendable, CaseIterable {
    case fire = 0
    case confirm = 1
    case commit = 2
}

/// Per-param time to live carried by SET (wire-format §3.8).
public enum TTL: Sendable, Equatable {
    case never
    case sliding(seconds: UInt32)
    case absolute(seconds: UInt32)
}

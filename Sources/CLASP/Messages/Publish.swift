/// PUBLISH (0x20): events, stream samples, gestures, timelines (and param publishes).
public struct Publish: Sendable, Equatable {
    public var address: String
    public var signal: SignalType
    /// Always on the wire (bits 2-0); `start` unless a gesture says otherwise.
    public var phase: GesturePhase
    /// Value indicator 1.
    public var value: Value?
    /// Value indicator 2 (f64 sample batch). Ignored when `value` is set.
    public var samples: [Double]?
    /// Message-level timestamp, µs.
    public var timestamp: UInt64?
    /// Gesture id.
    public var id: UInt32?
    /// Written last, without a flag, when present.
    public var rate: UInt32?

    public init(address: String, signal: SignalType, phase: GesturePhase = .start, value: Value? = nil, samples: [Double]? = nil, timestamp: UInt64? = nil, id: UInt32? = nil, rate: UInt32? = nil) {
        self.address = address
        self.signal = signal
        self.phase = phase
        self.value = value
        self.samples = samples
        self.timestamp = timestamp
        self.id = id
        self.rate = rate
    }
}

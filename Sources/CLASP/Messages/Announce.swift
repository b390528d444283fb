/// ANNOUNCE (0x03): a client declares the signals it offers.
public struct Announce: Sendable, Equatable {
    public var namespace: String
    public var signals: [SignalDefinition]

    public init(namespace: String, signals: [SignalDefinition]) {
        self.namespace = namespace
        self.signals = signals
    }
}

/// A signal definition, in ANNOUNCE (with meta) and RESULT (meta never written).
public struct SignalDefinition: Sendable, Equatable {
    public var address: String
    public var signal: SignalType
    public var datatype: String?
    public var access: String?
    public var meta: SignalMeta?

    public init(address: String, signal: SignalType, datatype: String? = nil, access: String? = nil, meta: SignalMeta? = nil) {
        self.address = address
        self.signal = signal
        self.datatype = datatype
        self.access = access
        self.meta = meta
    }
}

public struct SignalMeta: Sendable, Equatable {
    public var unit: String?
    public var range: SignalRange?
    public var defaultValue: Value?
    public var description: String?

    public init(unit: String? = nil, range: SignalRange? = nil, defaultValue: Value? = nil, description: String? = nil) {
        self.unit = unit
        self.range = range
        self.defaultValue = defaultValue
        self.description = description
    }
}

public struct SignalRange: Sendable, Equatable {
    public var min: Double
    public var max: Double
    public init(min: Double, max: Double) {
        self.min = min
        self.max = max
    }
}

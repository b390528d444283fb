public import CLASP

/// How concurrent writers to one param are reconciled (design §7).
public enum ConflictStrategy: String, Sendable, CaseIterable {
    /// Last writer wins (the default).
    case lww
    /// Only a larger number is accepted.
    case max
    /// Only a smaller number is accepted.
    case min
    /// The first writer holds the param until it unlocks or its session ends; every write
    /// acts as if it carried the lock flag.
    case lock
}

/// The kinds of value a rule can admit. `number` admits both `int` and `float`.
public enum ValueKind: String, Sendable, CaseIterable {
    case null, bool, int, float, number, string, bytes, array, map

    func admits(_ value: Value) -> Bool {
        switch (self, value) {
        case (.null, .null), (.bool, .bool), (.int, .int), (.float, .float),
            (.number, .int), (.number, .float), (.string, .string), (.bytes, .bytes),
            (.array, .array), (.map, .map):
            return true
        default:
            return false
        }
    }

    static func name(of value: Value) -> String {
        switch value {
        case .null: "null"
        case .bool: "bool"
        case .int: "int"
        case .float: "float"
        case .string: "string"
        case .bytes: "bytes"
        case .array: "array"
        case .map: "map"
        }
    }
}

/// What a param's value must be. A range admits numbers only (int or float, not NaN).
public struct ValueConstraint: Sendable, Equatable {
    /// Kinds admitted; empty admits every kind.
    public var kinds: [ValueKind] = []
    public var minimum: Double?
    public var maximum: Double?

    public init(kinds: [ValueKind] = [], minimum: Double? = nil, maximum: Double? = nil) {
        self.kinds = kinds
        self.minimum = minimum
        self.maximum = maximum
    }

    /// Why `value` is refused, or nil when it is admitted.
    func problem(with value: Value) -> String? {
        if !kinds.isEmpty, !kinds.contains(where: { $0.admits(value) }) {
            let names = kinds.map(\.rawValue).joined(separator: " or ")
            return "expected \(names), got \(ValueKind.name(of: value))"
        }
        guard minimum != nil || maximum != nil else { return nil }
        guard let number = value.numericValue, !number.isNaN else {
            return "expected a number, got \(ValueKind.name(of: value))"
        }
        if let minimum, number < minimum { return "\(value.plainText) is below the minimum \(minimum.plainText)" }
        if let maximum, number > maximum { return "\(value.plainText) is above the maximum \(maximum.plainText)" }
        return nil
    }
}

/// Strategy and constraint for the params whose address matches `pattern`.
public struct ParamRule: Sendable, Equatable {
    public var pattern: AddressPattern
    public var strategy: ConflictStrategy
    public var constraint: ValueConstraint

    public init(pattern: AddressPattern, strategy: ConflictStrategy = .lww, constraint: ValueConstraint = ValueConstraint()) {
        self.pattern = pattern
        self.strategy = strategy
        self.constraint = constraint
    }
}

extension [ParamRule] {
    /// The first rule whose pattern matches (rules are tried in configuration order).
    func rule(for address: String) -> ParamRule? {
        first { $0.pattern.matches(address) }
    }
}

extension ConflictStrategy {
    /// Why `strategy` refuses replacing `old` with `new`, or nil when it accepts. `max` and
    /// `min` compare numbers only; a write where either side is not a number is accepted.
    func refusal(old: Value, new: Value) -> String? {
        guard self == .max || self == .min, let a = old.numericValue, let b = new.numericValue else { return nil }
        if self == .max, !(b > a) {
            return "conflict strategy max: \(new.plainText) is not above the current \(old.plainText)"
        }
        if self == .min, !(b < a) {
            return "conflict strategy min: \(new.plainText) is not below the current \(old.plainText)"
        }
        return nil
    }
}

extension Value {
    /// Ints and floats as a Double, for range checks and max/min.
    var numericValue: Double? {
        switch self {
        case .int(let i): Double(i)
        case .float(let f): f
        default: nil
        }
    }

    /// A number as written in an ERROR message.
    var plainText: String {
        switch self {
        case .int(let i): String(i)
        case .float(let f): f.plainText
        default: ValueKind.name(of: self)
        }
    }
}

extension Double {
    /// `1` rather than `1.0`, so messages read like the config that set them.
    var plainText: String {
        if self == rounded(), abs(self) < 1e15 { return String(Int64(self)) }
        return String(self)
    }
}

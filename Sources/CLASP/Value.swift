/// A CLASP value as it travels on the wire.
///
/// Integers and floats have one in-memory kind each, as in the reference: narrow wire
/// types (i8, i16, i32, f32) are widened on decode and re-encoded as i64/f64.
/// Map entries keep their wire order; a duplicated key keeps every entry here, and
/// `Value.map` lookups return the last one (the reference keeps the last value).
public enum Value: Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case array([Value])
    case map([(key: String, value: Value)])
}

extension Value: Equatable {
    /// Structural equality; floats compare by bit pattern so that NaN equals the same NaN
    /// and -0.0 differs from 0.0 (what travels on the wire is what is compared).
    public static func == (lhs: Value, rhs: Value) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case let (.float(a), .float(b)): return a.bitPattern == b.bitPattern
        case let (.string(a), .string(b)): return a == b
        case let (.bytes(a), .bytes(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.map(a), .map(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }
}

extension Value {
    /// The wire type code this value is encoded with (always the wide one for numbers).
    public var typeCode: ValueType {
        switch self {
        case .null: return .null
        case .bool: return .bool
        case .int: return .i64
        case .float: return .f64
        case .string: return .string
        case .bytes: return .bytes
        case .array: return .array
        case .map: return .map
        }
    }

    /// The last entry for `key` in a map value, `nil` otherwise.
    public subscript(key: String) -> Value? {
        guard case .map(let entries) = self else { return nil }
        return entries.last(where: { $0.key == key })?.value
    }
}

/// Wire type codes of values (wire-format §2.1).
public enum ValueType: UInt8, Sendable, CaseIterable {
    case null = 0x00
    case bool = 0x01
    case i8 = 0x02
    case i16 = 0x03
    case i32 = 0x04
    case i64 = 0x05
    case f32 = 0x06
    case f64 = 0x07
    case string = 0x08
    case bytes = 0x09
    case array = 0x0A
    case map = 0x0B
}

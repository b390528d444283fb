public import CLASP

extension JSON {
    /// A CLASP value as JSON: bytes as `{"bytes": "<hex>"}`, maps as objects.
    public init(_ value: Value) {
        switch value {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .int(let number): self = .integer(number)
        case .float(let number): self = .number(number)
        case .string(let text): self = .string(text)
        case .bytes(let bytes): self = .object([("bytes", .string(Secrets.hex(bytes)))])
        case .array(let items): self = .array(items.map(JSON.init))
        case .map(let entries): self = .object(entries.map { ($0.key, JSON($0.value)) })
        }
    }

    /// The CLASP value a JSON value stands for (the inverse of `init(_: Value)`).
    public var claspValue: Value {
        switch self {
        case .null: .null
        case .bool(let flag): .bool(flag)
        case .integer(let number): .int(number)
        case .number(let number): .float(number)
        case .string(let text): .string(text)
        case .array(let items): .array(items.map(\.claspValue))
        case .object(let members):
            if members.count == 1, members[0].0 == "bytes", let hex = members[0].1.stringValue, let bytes = Secrets.bytes(hex: hex) {
                .bytes(bytes)
            } else {
                .map(members.map { (key: $0.0, value: $0.1.claspValue) })
            }
        }
    }
}

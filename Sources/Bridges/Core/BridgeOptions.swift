/// One option value as the config file or the REST API gives it.
public enum OptionValue: Sendable, Equatable, CustomStringConvertible {
    case string(String)
    case integer(Int64)
    case number(Double)
    case bool(Bool)
    case list([OptionValue])

    public var description: String {
        switch self {
        case .string(let text): "\"\(text)\""
        case .integer(let number): String(number)
        case .number(let number): String(number)
        case .bool(let flag): flag ? "true" : "false"
        case .list(let items): "[" + items.map(\.description).joined(separator: ", ") + "]"
        }
    }
}

/// One option a bridge kind takes: its type, default and help, so the config file, the
/// REST API and the admin page's forms all validate and describe it the same way.
public struct BridgeField: Sendable {
    public enum FieldType: Sendable, Equatable {
        case string
        case integer(ClosedRange<Int64>)
        case number(ClosedRange<Double>)
        case bool
        /// One of these strings.
        case choice([String])
        case integerList(ClosedRange<Int64>)
        case stringList
    }

    public let name: String
    public let type: FieldType
    /// `nil`: the option is required.
    public let defaultValue: OptionValue?
    public let help: String

    public init(_ name: String, _ type: FieldType, default defaultValue: OptionValue? = nil, help: String) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.help = help
    }

    /// The value in this field's type (an integer given for a number is converted), or why not.
    func check(_ value: OptionValue) throws(BridgeConfigProblem) -> OptionValue {
        switch (type, value) {
        case (.string, .string), (.bool, .bool):
            return value
        case (.integer(let range), .integer(let number)):
            guard range.contains(number) else {
                throw problem("must be from \(range.lowerBound) to \(range.upperBound), got \(number)")
            }
            return value
        case (.integer, .number(let number)) where number.rounded() == number && number.magnitude < 1e15:
            // A whole number written as a float.
            return try check(.integer(Int64(number)))
        case (.number(let range), .number(let number)):
            guard number.isFinite, range.contains(number) else {
                throw problem("must be from \(range.lowerBound) to \(range.upperBound), got \(value)")
            }
            return value
        case (.number, .integer(let number)):
            return try check(.number(Double(number)))
        case (.choice(let names), .string(let name)):
            guard names.contains(name) else {
                throw problem("must be one of \(names.map { "\"\($0)\"" }.joined(separator: ", ")), got \(value)")
            }
            return value
        case (.integerList(let range), .list(let items)):
            for item in items {
                guard case .integer(let number) = item, range.contains(number) else {
                    throw problem("must be a list of integers from \(range.lowerBound) to \(range.upperBound), got \(value)")
                }
            }
            return value
        case (.stringList, .list(let items)):
            guard items.allSatisfy({ if case .string = $0 { true } else { false } }) else {
                throw problem("must be a list of strings, got \(value)")
            }
            return value
        default:
            throw problem("must be \(type.noun), got \(value)")
        }
    }

    private func problem(_ reason: String) -> BridgeConfigProblem {
        BridgeConfigProblem(field: name, reason: reason)
    }
}

extension BridgeField.FieldType {
    var noun: String {
        switch self {
        case .string: "a string"
        case .integer: "an integer"
        case .number: "a number"
        case .bool: "true or false"
        case .choice: "a string"
        case .integerList: "a list of integers"
        case .stringList: "a list of strings"
        }
    }
}

/// A bridge's options after validation: every declared field present (given or default),
/// each in its field's type. Accessors read by field name.
public struct BridgeOptions: Sendable, Equatable {
    public let values: [String: OptionValue]

    public init(validated values: [String: OptionValue]) {
        self.values = values
    }

    public func string(_ name: String) -> String {
        if case .string(let text) = values[name] { text } else { "" }
    }

    public func integer(_ name: String) -> Int {
        if case .integer(let number) = values[name] { Int(number) } else { 0 }
    }

    public func number(_ name: String) -> Double {
        switch values[name] {
        case .number(let number): number
        case .integer(let number): Double(number)
        default: 0
        }
    }

    public func bool(_ name: String) -> Bool {
        if case .bool(let flag) = values[name] { flag } else { false }
    }

    public func integers(_ name: String) -> [Int] {
        guard case .list(let items) = values[name] else { return [] }
        return items.compactMap { if case .integer(let number) = $0 { Int(number) } else { nil } }
    }

    public func strings(_ name: String) -> [String] {
        guard case .list(let items) = values[name] else { return [] }
        return items.compactMap { if case .string(let text) = $0 { text } else { nil } }
    }
}

/// A kind of bridge (`dmx`, `sacn`, `artnet`, …): the options it takes and how to build one.
public struct BridgeKind: Sendable {
    /// The `kind` value in config (`kind = "sacn"`).
    public let name: String
    /// One line for the operator (`sACN (E1.31) universes in and out`).
    public let summary: String
    public let fields: [BridgeField]
    /// Builds a bridge from options that passed the fields' checks; throws a `BridgeConfigProblem`
    /// for what only the kind can check (one option against another).
    public let make: @Sendable (BridgeOptions) throws(BridgeConfigProblem) -> any Bridge

    public init(
        name: String,
        summary: String,
        fields: [BridgeField],
        make: @escaping @Sendable (BridgeOptions) throws(BridgeConfigProblem) -> any Bridge
    ) {
        self.name = name
        self.summary = summary
        self.fields = fields
        self.make = make
    }

    /// Checks raw options against the fields: unknown names, types, ranges, required ones.
    /// Defaults fill what is left out.
    public func validate(_ raw: [String: OptionValue]) throws(BridgeConfigProblems) -> BridgeOptions {
        var problems: [BridgeConfigProblem] = []
        var values: [String: OptionValue] = [:]
        let known = Set(fields.map(\.name))
        for name in raw.keys.sorted() where !known.contains(name) {
            problems.append(BridgeConfigProblem(
                field: name,
                reason: "unknown option for bridge kind \(self.name); it takes \(fields.map(\.name).joined(separator: ", "))"))
        }
        for field in fields {
            guard let value = raw[field.name] ?? field.defaultValue else {
                problems.append(BridgeConfigProblem(field: field.name, reason: "is required (\(field.help))"))
                continue
            }
            do throws(BridgeConfigProblem) {
                values[field.name] = try field.check(value)
            } catch {
                problems.append(error)
            }
        }
        guard problems.isEmpty else { throw BridgeConfigProblems(problems) }
        return BridgeOptions(validated: values)
    }
}

/// One bridge as configured: `[bridges.<id>]` in the config file, or one entry of the REST API.
public struct BridgeConfig: Sendable, Equatable {
    /// Names the bridge in logs, status and its router session (`bridge:<id>`).
    public var id: String
    public var kind: String
    public var enabled: Bool
    public var options: [String: OptionValue]

    public init(id: String, kind: String, enabled: Bool = true, options: [String: OptionValue] = [:]) {
        self.id = id
        self.kind = kind
        self.enabled = enabled
        self.options = options
    }

    /// Letters, digits, `-` and `_`, 1–64 characters: safe in TOML keys, URLs and addresses.
    public static func isValidID(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count)
            && id.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == 0x2D || byte == 0x5F
            }
    }
}

/// What is wrong with one option of a bridge's config.
public struct BridgeConfigProblem: Error, Equatable, Sendable, CustomStringConvertible {
    /// The option's name; empty when the problem is with the bridge as a whole.
    public var field: String
    public var reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { field.isEmpty ? reason : "\(field): \(reason)" }
}

/// Every problem found in one bridge's config.
public struct BridgeConfigProblems: Error, Equatable, Sendable {
    public var problems: [BridgeConfigProblem]

    public init(_ problems: [BridgeConfigProblem]) {
        self.problems = problems
    }
}

/// The bridge kinds this build knows, by name.
public struct BridgeCatalog: Sendable {
    public let kinds: [BridgeKind]

    public init(_ kinds: [BridgeKind]) {
        self.kinds = kinds
    }

    public func kind(named name: String) -> BridgeKind? {
        kinds.first { $0.name == name }
    }

    /// Validates one bridge's config and builds the bridge, or throws every problem.
    public func build(_ config: BridgeConfig) throws(BridgeConfigProblems) -> any Bridge {
        guard BridgeConfig.isValidID(config.id) else {
            throw BridgeConfigProblems([BridgeConfigProblem(
                field: "", reason: "bridge id \"\(config.id)\" must be 1–64 letters, digits, '-' or '_'")])
        }
        guard let kind = kind(named: config.kind) else {
            let names = kinds.map { "\"\($0.name)\"" }.joined(separator: ", ")
            throw BridgeConfigProblems([BridgeConfigProblem(
                field: "kind", reason: "unknown bridge kind \"\(config.kind)\"; this build has \(names.isEmpty ? "none" : names)")])
        }
        let options = try kind.validate(config.options)
        do throws(BridgeConfigProblem) {
            return try kind.make(options)
        } catch {
            throw BridgeConfigProblems([error])
        }
    }
}

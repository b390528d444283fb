import Bridges
import Router

extension GatewaySettings {
    /// The settings as a config file: every key of the schema with its value, then the param
    /// rules and bridges. `applying(configText:)` reads it back to the same settings (the data
    /// directory is left out: the file is kept inside it).
    var configText: String {
        var out = "# clasp-gateway config (written by the gateway; edit freely, it is read back as is)\n"
        for table in ConfigSchema.tables {
            let lines = ConfigSchema.keys(in: table).compactMap { key in key.read(self).map { "\(key.key) = \($0.tomlText)" } }
            guard !lines.isEmpty else { continue }
            out += "\n[\(table)]\n" + lines.joined(separator: "\n") + "\n"
        }
        for rule in router.paramRules {
            out += "\n[params.\(TOMLValue.quoted(rule.pattern.text))]\n"
            out += "strategy = \(TOMLValue.string(rule.strategy.rawValue).tomlText)\n"
            if !rule.constraint.kinds.isEmpty {
                out += "type = \(TOMLValue.array(rule.constraint.kinds.map { .string($0.rawValue) }).tomlText)\n"
            }
            if let minimum = rule.constraint.minimum { out += "min = \(TOMLValue.float(minimum).tomlText)\n" }
            if let maximum = rule.constraint.maximum { out += "max = \(TOMLValue.float(maximum).tomlText)\n" }
        }
        for bridge in bridges {
            out += "\n[bridges.\(bridge.id)]\nkind = \(TOMLValue.string(bridge.kind).tomlText)\nenabled = \(bridge.enabled)\n"
            for name in bridge.options.keys.sorted() {
                guard let value = bridge.options[name] else { continue }
                out += "\(name) = \(value.tomlValue.tomlText)\n"
            }
        }
        return out
    }

    /// Keys whose value differs between `self` and `other` (bridges left out: they change live).
    func keysDiffering(from other: GatewaySettings) -> [String] {
        var keys = ConfigSchema.keys.filter { $0.read(self) != $0.read(other) }.map(\.path)
        if router.paramRules != other.router.paramRules { keys.append("params") }
        return keys
    }
}

extension OptionValue {
    var tomlValue: TOMLValue {
        switch self {
        case .string(let text): .string(text)
        case .integer(let number): .integer(number)
        case .number(let number): .float(number)
        case .bool(let flag): .boolean(flag)
        case .list(let items): .array(items.map(\.tomlValue))
        }
    }
}

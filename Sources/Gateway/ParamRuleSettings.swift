import CLASP
import Router

/// `[params."<pattern>"]` tables: a conflict strategy and a value constraint for the params
/// whose address matches the pattern. Rules apply in file order; the first match wins.
///
/// ```toml
/// [params."/mixer/*/fader"]
/// strategy = "lww"        # lww (default), max, min, lock
/// type = "number"         # or an array: ["int", "float"]
/// min = 0.0
/// max = 1.0
/// ```
enum ParamRuleSchema {
    static let prefix = "params."
    static let keys = ["strategy", "type", "min", "max"]

    static func isRuleTable(_ name: String) -> Bool { name.hasPrefix(prefix) }

    /// Builds one rule per `[params."…"]` table, in file order. Problems are appended with
    /// their line, and no rule is built from a table that has one.
    static func rules(from document: TOMLDocument, maxAddressLength: Int, source: String, problems: inout [(line: Int, message: String)]) -> [ParamRule] {
        var rules: [ParamRule] = []
        for table in document.tables where isRuleTable(table.name) {
            let text = String(table.name.dropFirst(prefix.count))
            let location = "(\(source) line \(table.line))"
            let pattern: AddressPattern
            do {
                pattern = try AddressPattern(text, maxLength: maxAddressLength)
            } catch {
                problems.append((table.line, "[params.\"\(text)\"]: invalid address pattern: \(error) \(location)"))
                continue
            }
            var rule = ParamRule(pattern: pattern)
            var valid = true
            for entry in document.entries where entry.table == table.name {
                let problem = apply(entry, to: &rule)
                if let problem {
                    valid = false
                    problems.append((entry.line, "params.\"\(text)\".\(entry.key): \(problem) (\(source) line \(entry.line))"))
                }
            }
            if let minimum = rule.constraint.minimum, let maximum = rule.constraint.maximum, minimum > maximum {
                valid = false
                problems.append((table.line, "[params.\"\(text)\"]: min (\(minimum)) is above max (\(maximum)) \(location)"))
            }
            if valid { rules.append(rule) }
        }
        return rules
    }

    private static func apply(_ entry: TOMLEntry, to rule: inout ParamRule) -> String? {
        switch entry.key {
        case "strategy":
            guard case .string(let name) = entry.value, let strategy = ConflictStrategy(rawValue: name) else {
                return "must be one of \(ConflictStrategy.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")), got \(entry.value.tomlText)"
            }
            rule.strategy = strategy
        case "type":
            let names: [TOMLValue]
            switch entry.value {
            case .string: names = [entry.value]
            case .array(let items) where !items.isEmpty: names = items
            default: names = []
            }
            let kinds = names.compactMap { if case .string(let name) = $0 { ValueKind(rawValue: name) } else { nil } }
            guard !names.isEmpty, kinds.count == names.count else {
                return "must be a type name or an array of them (\(ValueKind.allCases.map(\.rawValue).joined(separator: ", "))), got \(entry.value.tomlText)"
            }
            rule.constraint.kinds = kinds
        case "min", "max":
            let number: Double
            switch entry.value {
            case .integer(let value): number = Double(value)
            case .float(let value) where value.isFinite: number = value
            default: return "must be a finite number, got \(entry.value.tomlText)"
            }
            if entry.key == "min" { rule.constraint.minimum = number } else { rule.constraint.maximum = number }
        default:
            return "unknown key\(Suggest.hint(for: entry.key, among: keys)); a [params.\"…\"] table takes \(keys.joined(separator: ", "))"
        }
        return nil
    }
}

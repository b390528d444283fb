import Bridges

/// `[bridges.<id>]` tables: one bridge each. `kind` names the bridge kind, `enabled`
/// (default true) switches it, every other key is an option of that kind.
///
/// ```toml
/// [bridges.stage]
/// kind = "sacn"
/// universes = [1, 2]
/// ```
enum BridgeSettingsSchema {
    static let prefix = "bridges."

    static func isBridgeTable(_ name: String) -> Bool { name.hasPrefix(prefix) }

    /// One config per `[bridges.<id>]` table, in file order, each checked against its kind's
    /// fields. Problems are appended with their line.
    static func bridges(
        from document: TOMLDocument, catalog: BridgeCatalog, source: String,
        problems: inout [(line: Int, message: String)]
    ) -> [BridgeConfig] {
        var configs: [BridgeConfig] = []
        for table in document.tables where isBridgeTable(table.name) {
            let id = String(table.name.dropFirst(prefix.count))
            let location = "(\(source) line \(table.line))"
            var config = BridgeConfig(id: id, kind: "")
            var lines: [String: Int] = [:]
            var valid = true
            for entry in document.entries where entry.table == table.name {
                lines[entry.key] = entry.line
                switch entry.key {
                case "kind":
                    guard case .string(let kind) = entry.value else {
                        problems.append((entry.line, "bridges.\(id).kind: must be a string, got \(entry.value.tomlText) (\(source) line \(entry.line))"))
                        valid = false
                        continue
                    }
                    config.kind = kind
                case "enabled":
                    guard case .boolean(let enabled) = entry.value else {
                        problems.append((entry.line, "bridges.\(id).enabled: must be true or false, got \(entry.value.tomlText) (\(source) line \(entry.line))"))
                        valid = false
                        continue
                    }
                    config.enabled = enabled
                default:
                    config.options[entry.key] = entry.value.optionValue
                }
            }
            guard valid else { continue }
            if lines["kind"] == nil {
                let names = catalog.kinds.map { "\"\($0.name)\"" }.joined(separator: ", ")
                problems.append((table.line, "[bridges.\(id)]: kind is required (this build has \(names.isEmpty ? "no bridge kinds" : names)) \(location)"))
                continue
            }
            do throws(BridgeConfigProblems) {
                _ = try catalog.build(config)
            } catch {
                for problem in error.problems {
                    let line = lines[problem.field] ?? table.line
                    let key = problem.field.isEmpty ? "[bridges.\(id)]" : "bridges.\(id).\(problem.field)"
                    problems.append((line, "\(key): \(problem.reason) (\(source) line \(line))"))
                }
                continue
            }
            configs.append(config)
        }
        return configs
    }
}

extension TOMLValue {
    var optionValue: OptionValue {
        switch self {
        case .string(let text): .string(text)
        case .integer(let number): .integer(number)
        case .float(let number): .number(number)
        case .boolean(let flag): .bool(flag)
        case .array(let items): .list(items.map(\.optionValue))
        }
    }
}

import Bridges

/// How bridges, kinds and tokens look in the REST API.
extension AdminApp {
    static func json(_ token: AdminAuth.APIToken) -> JSON {
        .object([("id", .string(token.id)), ("name", .string(token.name)), ("created", .integer(token.created))])
    }

    static func json(_ option: OptionValue) -> JSON {
        switch option {
        case .string(let text): .string(text)
        case .integer(let number): .integer(number)
        case .number(let number): .number(number)
        case .bool(let flag): .bool(flag)
        case .list(let items): .array(items.map(json))
        }
    }

    static func json(_ kind: BridgeKind) -> JSON {
        .object([
            ("name", .string(kind.name)), ("summary", .string(kind.summary)),
            ("fields", .array(kind.fields.map { field in
                var object: [(String, JSON)] = [("name", .string(field.name))]
                switch field.type {
                case .string: object.append(("type", .string("string")))
                case .bool: object.append(("type", .string("bool")))
                case .integer(let range):
                    object += [("type", .string("integer")), ("min", .integer(range.lowerBound)), ("max", .integer(range.upperBound))]
                case .number(let range):
                    object += [("type", .string("number")), ("min", .number(range.lowerBound)), ("max", .number(range.upperBound))]
                case .choice(let names):
                    object += [("type", .string("choice")), ("choices", .array(names.map { .string($0) }))]
                case .integerList(let range):
                    object += [("type", .string("integer_list")), ("min", .integer(range.lowerBound)), ("max", .integer(range.upperBound))]
                case .stringList:
                    object.append(("type", .string("string_list")))
                }
                object.append(("required", .bool(field.defaultValue == nil)))
                if let value = field.defaultValue { object.append(("default", json(value))) }
                object.append(("help", .string(field.help)))
                return .object(object)
            })),
        ])
    }

    static func json(_ report: BridgeSupervisor.Report) -> JSON {
        var object: [(String, JSON)] = [
            ("id", .string(report.config.id)), ("kind", .string(report.config.kind)),
            ("enabled", .bool(report.config.enabled)),
            ("options", .object(report.config.options.keys.sorted().compactMap { key in
                report.config.options[key].map { (key, json($0)) }
            })),
        ]
        switch report.state {
        case .disabled:
            object.append(("state", .string("disabled")))
        case .starting:
            object.append(("state", .string("starting")))
        case .running(let status):
            object.append(("state", .string("running")))
            switch status.health {
            case .ok: object.append(("health", .string("ok")))
            case .degraded(let reason): object += [("health", .string("degraded")), ("reason", .string(reason))]
            }
            object.append(("counters", .object(status.counters.map { ($0.name, .integer(Int64(clamping: $0.value))) })))
        case .retrying(let reason, let retryIn):
            object += [("state", .string("retrying")), ("reason", .string(reason)), ("retry_in", .number(retryIn))]
        }
        return .object(object)
    }
}

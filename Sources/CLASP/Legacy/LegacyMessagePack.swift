/// Decodes legacy MessagePack payloads (wire-format §3.21): a MessagePack map with a `type`
/// tag and snake_case keys, as sent by the official Python client for BUNDLE and QUERY.
///
/// Rules (all of them follow what the reference accepts unless stated):
/// - The payload must be a map. Bytes after the map are ignored (reference leniency).
/// - `type` is the message name as a string (`"SET"`, see `MessageKind.name`) or, as an
///   integer, the position in `LegacyMessagePack.variantOrder` (0 = HELLO … 6 = SET … 18 =
///   RESULT). Anything else is an error.
/// - Keys are the reference's field names in snake_case. Unknown keys are ignored; a key
///   given twice is an error. A missing key and a `nil` value both mean "absent" (and
///   `lock`/`unlock` default to false, lists to empty), except where the key's type is a
///   value: SET/SNAPSHOT `value: nil` is `Value.null`. A missing required key is an error
///   naming it.
/// - Where a string is expected, a `bin` holding valid UTF-8 is accepted too.
/// - Enumerations are lowercase strings (`"event"`, `"move"`); TTL is `"Never"`,
///   `{"Sliding": n}` or `{"Absolute": n}`; FEDERATION_SYNC `op` is `"DeclareNamespaces"` etc.
/// - Values map by MessagePack type: nil, bool, integers (must fit Int64), floats, strings,
///   `bin` (a String when valid UTF-8; otherwise the whole message is rejected, as the
///   reference does), arrays, maps with string keys (wire order kept). Values may nest at
///   most `CodecLimits.maxValueDepth` arrays/maps; BUNDLE may nest at most
///   `CodecLimits.maxBundleDepth` levels.
/// - Not carried (ignored when present): PUBLISH `timeline` (keyframes are carried in a
///   later change), HELLO `capabilities`, ANNOUNCE's message-level `meta`, and the `meta` of
///   RESULT signal definitions (the binary RESULT has no meta either).
/// - An empty HELLO/WELCOME `token` is decoded as no token, like the binary decoder.
/// - PUBLISH without `signal` is an event and without `phase` starts (what the binary
///   encoder writes for them); its value is `value`, else `payload` (the Python client's
///   BUNDLE uses `payload`).
/// - A `uint64` above `Int64.max` inside a value is an error (the spec maps integers that
///   fit i64 to Int; we do not silently turn larger ones into floats).
enum LegacyMessagePack {
    /// The integer `type` tags: a message's position in this list (the reference's variant
    /// order, which is neither `MessageKind.allCases` order nor the binary codes).
    static let variantOrder: [MessageKind] = [
        .hello, .welcome, .announce, .subscribe, .unsubscribe, .publish, .set, .get,
        .snapshot, .replay, .federationSync, .bundle, .sync, .ping, .pong, .ack, .error,
        .query, .result,
    ]

    /// Deepest nesting of arrays/maps the reader accepts anywhere in a payload. It leaves
    /// room for the deepest legitimate message (values at their own limit inside bundles at
    /// theirs); the precise value and bundle limits are then checked while mapping.
    static let maxStructureDepth = CodecLimits.maxValueDepth + 2 * CodecLimits.maxBundleDepth + 8

    static func decodeMessage(_ payload: UnsafeRawBufferPointer) throws(CodecError) -> Message {
        guard let first = payload.first else { throw .legacy("empty payload") }
        guard (0x80...0x8F).contains(first) || first == 0xDE || first == 0xDF else {
            throw .legacy("payload does not start with a MessagePack map (first byte 0x\(String(first, radix: 16)))")
        }
        var reader = MessagePackReader(payload, maxDepth: maxStructureDepth)
        let root = try reader.readItem()
        // Trailing bytes after the map are ignored, as the reference does.
        let mapper = LegacyMapper(bytes: payload)
        return try mapper.message(root, path: "message", bundleDepth: 0)
    }

    /// Convenience for tests and tools.
    static func decodeMessage(_ bytes: [UInt8]) throws(CodecError) -> Message {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(CodecError) -> Message in try decodeMessage(buffer) }
        }
        return try result.get()
    }
}

/// The keys of one MessagePack map that stands for a struct.
private struct Fields {
    let path: String
    private var entries: [String: MessagePackItem]

    init(path: String, entries: [String: MessagePackItem]) {
        self.path = path
        self.entries = entries
    }

    /// The item under `key`; `nil` when the key is missing or its value is nil.
    subscript(key: String) -> MessagePackItem? {
        guard let item = entries[key] else { return nil }
        if case .null = item { return nil }
        return item
    }

    /// The raw item under `key` (a nil value included).
    func raw(_ key: String) -> MessagePackItem? { entries[key] }

    func field(_ key: String) -> String { "\(path).\(key)" }

    func renamed(_ newPath: String) -> Fields { Fields(path: newPath, entries: entries) }
}

/// Maps the MessagePack tree onto `Message`.
private struct LegacyMapper {
    let bytes: UnsafeRawBufferPointer

    // MARK: Messages

    func message(_ item: MessagePackItem, path: String, bundleDepth: Int) throws(CodecError) -> Message {
        let untagged = try fields(item, path: path)
        guard let tag = untagged.raw("type") else { throw .legacy("missing required key \"type\" in \(path)") }
        let kind = try messageKind(tag, field: untagged.field("type"))
        // Errors name the message: "SET.value", "BUNDLE.messages[1](PUBLISH).address".
        let f = untagged.renamed(bundleDepth == 0 ? kind.name : "\(path)(\(kind.name))")
        switch kind {
        case .hello:
            return .hello(Hello(
                version: UInt8(try requiredUnsigned(f, "version", max: UInt64(UInt8.max))),
                features: try features(f, "features"),
                name: try requiredString(f, "name"),
                token: try token(f)))
        case .welcome:
            return .welcome(Welcome(
                version: UInt8(try requiredUnsigned(f, "version", max: UInt64(UInt8.max))),
                features: try features(f, "features"),
                time: try requiredUnsigned(f, "time", max: UInt64.max),
                session: try requiredString(f, "session"),
                name: try requiredString(f, "name"),
                token: try token(f)))
        case .announce:
            let signals = try optionalArray(f, "signals") ?? []
            var definitions: [SignalDefinition] = []
            definitions.reserveCapacity(signals.count)
            for (index, signal) in signals.enumerated() {
                definitions.append(try signalDefinition(signal, path: "\(f.field("signals"))[\(index)]", withMeta: true))
            }
            return .announce(Announce(namespace: try requiredString(f, "namespace"), signals: definitions))
        case .subscribe:
            return .subscribe(Subscribe(
                id: UInt32(try requiredUnsigned(f, "id", max: UInt64(UInt32.max))),
                pattern: try requiredString(f, "pattern"),
                types: try typeMask(f, "types"),
                options: try subscribeOptions(f)))
        case .unsubscribe:
            return .unsubscribe(Unsubscribe(id: UInt32(try requiredUnsigned(f, "id", max: UInt64(UInt32.max)))))
        case .publish:
            return .publish(try publish(f))
        case .set:
            return .set(SetMessage(
                address: try requiredString(f, "address"),
                value: try requiredValue(f, "value"),
                revision: try optionalUnsigned(f, "revision", max: UInt64.max),
                lock: try optionalBool(f, "lock") ?? false,
                unlock: try optionalBool(f, "unlock") ?? false,
                ttl: try ttl(f)))
        case .get:
            return .get(Get(address: try requiredString(f, "address")))
        case .snapshot:
            guard let params = try optionalArray(f, "params") else { throw missing("params", in: f) }
            var states: [ParamState] = []
            states.reserveCapacity(params.count)
            for (index, param) in params.enumerated() {
                let p = try self.fields(param, path: "\(f.field("params"))[\(index)]")
                states.append(ParamState(
                    address: try requiredString(p, "address"),
                    value: try requiredValue(p, "value"),
                    revision: try requiredUnsigned(p, "revision", max: UInt64.max),
                    writer: try optionalString(p, "writer"),
                    timestamp: try optionalUnsigned(p, "timestamp", max: UInt64.max)))
            }
            return .snapshot(Snapshot(params: states))
        case .replay:
            return .replay(Replay(
                pattern: try requiredString(f, "pattern"),
                from: try optionalUnsigned(f, "from", max: UInt64.max),
                to: try optionalUnsigned(f, "to", max: UInt64.max),
                limit: try optionalUnsigned(f, "limit", max: UInt64(UInt32.max)).map { UInt32($0) },
                types: try typeMask(f, "types")))
        case .federationSync:
            return .federationSync(try federationSync(f))
        case .bundle:
            let depth = bundleDepth + 1
            guard depth <= CodecLimits.maxBundleDepth else { throw .nestingTooDeep(limit: CodecLimits.maxBundleDepth) }
            guard let items = try optionalArray(f, "messages") else { throw missing("messages", in: f) }
            var messages: [Message] = []
            messages.reserveCapacity(items.count)
            for (index, inner) in items.enumerated() {
                messages.append(try message(inner, path: "\(f.field("messages"))[\(index)]", bundleDepth: depth))
            }
            return .bundle(BundleMessage(timestamp: try optionalUnsigned(f, "timestamp", max: UInt64.max), messages: messages))
        case .sync:
            return .sync(Sync(
                t1: try requiredUnsigned(f, "t1", max: UInt64.max),
                t2: try optionalUnsigned(f, "t2", max: UInt64.max),
                t3: try optionalUnsigned(f, "t3", max: UInt64.max)))
        case .ping:
            return .ping
        case .pong:
            return .pong
        case .ack:
            return .ack(Ack(
                address: try optionalString(f, "address"),
                revision: try optionalUnsigned(f, "revision", max: UInt64.max),
                locked: try optionalBool(f, "locked"),
                holder: try optionalString(f, "holder"),
                correlationID: try optionalUnsigned(f, "correlation_id", max: UInt64(UInt32.max)).map { UInt32($0) }))
        case .error:
            return .error(ErrorMessage(
                code: UInt16(try requiredUnsigned(f, "code", max: UInt64(UInt16.max))),
                message: try requiredString(f, "message"),
                address: try optionalString(f, "address"),
                correlationID: try optionalUnsigned(f, "correlation_id", max: UInt64(UInt32.max)).map { UInt32($0) }))
        case .query:
            return .query(Query(pattern: try requiredString(f, "pattern")))
        case .result:
            guard let signals = try optionalArray(f, "signals") else { throw missing("signals", in: f) }
            var definitions: [SignalDefinition] = []
            definitions.reserveCapacity(signals.count)
            for (index, signal) in signals.enumerated() {
                definitions.append(try signalDefinition(signal, path: "\(f.field("signals"))[\(index)]", withMeta: false))
            }
            return .result(QueryResult(signals: definitions))
        }
    }

    private func messageKind(_ tag: MessagePackItem, field: String) throws(CodecError) -> MessageKind {
        switch tag {
        case .int(let index):
            guard index >= 0, index < Int64(LegacyMessagePack.variantOrder.count) else {
                throw .legacy("integer \(field) \(index) is not a message index (0...\(LegacyMessagePack.variantOrder.count - 1))")
            }
            return LegacyMessagePack.variantOrder[Int(index)]
        case .bigUInt(let index):
            throw .legacy("integer \(field) \(index) is not a message index (0...\(LegacyMessagePack.variantOrder.count - 1))")
        case .string, .binary:
            let name = try string(tag, field: field)
            guard let kind = LegacyMessagePack.variantOrder.first(where: { $0.name == name }) else {
                throw .legacy("unknown message type \"\(name)\" in \(field)")
            }
            return kind
        default:
            throw .legacy("\(field) must be a message name or index, found \(tag.typeName)")
        }
    }

    private func publish(_ f: Fields) throws(CodecError) -> Publish {
        var samples: [Double]?
        if let items = try optionalArray(f, "samples") {
            var list: [Double] = []
            list.reserveCapacity(items.count)
            for (index, item) in items.enumerated() {
                list.append(try double(item, field: "\(f.field("samples"))[\(index)]"))
            }
            samples = list
        }
        // The reference's binary encoder sends `value`, else `payload`: both are the value.
        let value = try optionalValue(f, "value")
        let payload = try optionalValue(f, "payload")
        return Publish(
            address: try requiredString(f, "address"),
            signal: try f["signal"].map { (item) throws(CodecError) in try signalType(item, field: f.field("signal")) } ?? .event,
            phase: try f["phase"].map { (item) throws(CodecError) in try phase(item, field: f.field("phase")) } ?? .start,
            value: value ?? payload,
            samples: samples,
            timestamp: try optionalUnsigned(f, "timestamp", max: UInt64.max),
            id: try optionalUnsigned(f, "id", max: UInt64(UInt32.max)).map { UInt32($0) },
            rate: try optionalUnsigned(f, "rate", max: UInt64(UInt32.max)).map { UInt32($0) })
    }

    private func federationSync(_ f: Fields) throws(CodecError) -> FederationSync {
        guard let opItem = f["op"] else { throw missing("op", in: f) }
        let opName = try string(opItem, field: f.field("op"))
        let op: FederationSync.Operation
        switch opName {
        case "DeclareNamespaces": op = .declareNamespaces
        case "RequestSync": op = .requestSync
        case "RevisionVector": op = .revisionVector
        case "SyncComplete": op = .syncComplete
        default: throw .legacy("unknown \(f.field("op")) \"\(opName)\"")
        }
        var patterns: [String] = []
        if let items = try optionalArray(f, "patterns") {
            patterns.reserveCapacity(items.count)
            for (index, item) in items.enumerated() {
                patterns.append(try string(item, field: "\(f.field("patterns"))[\(index)]"))
            }
        }
        var revisions: [FederationSync.RevisionEntry] = []
        if let item = f["revisions"] {
            let revisionsField = f.field("revisions")
            guard case .map(let entries) = item else {
                throw .legacy("\(revisionsField) must be a map, found \(item.typeName)")
            }
            revisions.reserveCapacity(entries.count)
            for entry in entries {
                let address = try mapKey(entry.key, field: revisionsField)
                let revision = try unsigned(entry.value, field: "\(revisionsField)[\"\(address)\"]", max: UInt64.max)
                revisions.append(.init(address: address, revision: revision))
            }
        }
        return FederationSync(
            op: op,
            patterns: patterns,
            revisions: revisions,
            sinceRevision: try optionalUnsigned(f, "since_revision", max: UInt64.max),
            origin: try optionalString(f, "origin"))
    }

    private func signalDefinition(_ item: MessagePackItem, path: String, withMeta: Bool) throws(CodecError) -> SignalDefinition {
        let f = try fields(item, path: path)
        guard let typeItem = f["type"] else { throw missing("type", in: f) }
        var meta: SignalMeta?
        if withMeta, let metaItem = f["meta"] {
            let m = try fields(metaItem, path: f.field("meta"))
            var range: SignalRange?
            if let rangeItem = m["range"] {
                guard case .array(let bounds) = rangeItem, bounds.count == 2 else {
                    throw .legacy("\(m.field("range")) must be an array of two numbers [min, max]")
                }
                range = SignalRange(
                    min: try double(bounds[0], field: "\(m.field("range"))[0]"),
                    max: try double(bounds[1], field: "\(m.field("range"))[1]"))
            }
            meta = SignalMeta(
                unit: try optionalString(m, "unit"),
                range: range,
                defaultValue: try optionalValue(m, "default"),
                description: try optionalString(m, "description"))
        }
        return SignalDefinition(
            address: try requiredString(f, "address"),
            signal: try signalType(typeItem, field: f.field("type")),
            datatype: try optionalString(f, "datatype"),
            access: try optionalString(f, "access"),
            meta: meta)
    }

    private func subscribeOptions(_ f: Fields) throws(CodecError) -> SubscribeOptions? {
        guard let item = f["options"] else { return nil }
        let o = try fields(item, path: f.field("options"))
        return SubscribeOptions(
            maxRate: try optionalUnsigned(o, "max_rate", max: UInt64(UInt32.max)).map { UInt32($0) },
            epsilon: try o["epsilon"].map { (item) throws(CodecError) in try double(item, field: o.field("epsilon")) },
            history: try optionalUnsigned(o, "history", max: UInt64(UInt32.max)).map { UInt32($0) },
            window: try optionalUnsigned(o, "window", max: UInt64(UInt32.max)).map { UInt32($0) })
    }

    private func ttl(_ f: Fields) throws(CodecError) -> TTL? {
        guard let item = f["ttl"] else { return nil }
        let field = f.field("ttl")
        switch item {
        case .string, .binary:
            let name = try string(item, field: field)
            guard name == "Never" else {
                throw .legacy("\(field) \"\(name)\" is not a TTL (\"Never\", {\"Sliding\": n} or {\"Absolute\": n})")
            }
            return .never
        case .map(let entries):
            guard entries.count == 1, let entry = entries.first else {
                throw .legacy("\(field) map must have exactly one key (\"Sliding\" or \"Absolute\")")
            }
            let mode = try mapKey(entry.key, field: field)
            switch mode {
            case "Sliding":
                return .sliding(seconds: UInt32(try unsigned(entry.value, field: "\(field).Sliding", max: UInt64(UInt32.max))))
            case "Absolute":
                return .absolute(seconds: UInt32(try unsigned(entry.value, field: "\(field).Absolute", max: UInt64(UInt32.max))))
            case "Never":
                guard case .null = entry.value else { throw .legacy("\(field).Never takes no value") }
                return .never
            default:
                throw .legacy("unknown TTL mode \"\(mode)\" in \(field)")
            }
        default:
            throw .legacy("\(field) must be \"Never\", {\"Sliding\": n} or {\"Absolute\": n}, found \(item.typeName)")
        }
    }

    private func token(_ f: Fields) throws(CodecError) -> String? {
        guard let token = try optionalString(f, "token"), !token.isEmpty else { return nil }
        return token
    }

    private func features(_ f: Fields, _ key: String) throws(CodecError) -> Features {
        var features: Features = []
        guard let items = try optionalArray(f, key) else { return features }
        for (index, item) in items.enumerated() {
            // Unknown names are ignored: the reference keeps them as text and the binary
            // encoder has no bit for them.
            switch try string(item, field: "\(f.field(key))[\(index)]") {
            case "param": features.insert(.param)
            case "event": features.insert(.event)
            case "stream": features.insert(.stream)
            case "gesture": features.insert(.gesture)
            case "timeline": features.insert(.timeline)
            case "federation": features.insert(.federation)
            default: break
            }
        }
        return features
    }

    private func typeMask(_ f: Fields, _ key: String) throws(CodecError) -> SignalTypeMask {
        var mask: SignalTypeMask = []
        guard let items = try optionalArray(f, key) else { return mask }
        for (index, item) in items.enumerated() {
            mask.insert(SignalTypeMask(try signalType(item, field: "\(f.field(key))[\(index)]")))
        }
        return mask
    }

    private func signalType(_ item: MessagePackItem, field: String) throws(CodecError) -> SignalType {
        let name = try string(item, field: field)
        switch name {
        case "param": return .param
        case "event": return .event
        case "stream": return .stream
        case "gesture": return .gesture
        case "timeline": return .timeline
        default: throw .legacy("unknown signal type \"\(name)\" in \(field)")
        }
    }

    private func phase(_ item: MessagePackItem, field: String) throws(CodecError) -> GesturePhase {
        let name = try string(item, field: field)
        switch name {
        case "start": return .start
        case "move": return .move
        case "end": return .end
        case "cancel": return .cancel
        default: throw .legacy("unknown gesture phase \"\(name)\" in \(field)")
        }
    }

    // MARK: Structs and keys

    private func entries(_ item: MessagePackItem, path: String) throws(CodecError) -> [String: MessagePackItem] {
        guard case .map(let pairs) = item else {
            throw .legacy("\(path) must be a map, found \(item.typeName)")
        }
        var entries: [String: MessagePackItem] = [:]
        entries.reserveCapacity(pairs.count)
        for pair in pairs {
            let key = try mapKey(pair.key, field: path)
            guard entries.updateValue(pair.value, forKey: key) == nil else {
                throw .legacy("duplicate key \"\(key)\" in \(path)")
            }
        }
        return entries
    }

    private func fields(_ item: MessagePackItem, path: String) throws(CodecError) -> Fields {
        Fields(path: path, entries: try entries(item, path: path))
    }

    private func mapKey(_ key: MessagePackItem, field: String) throws(CodecError) -> String {
        switch key {
        case .string, .binary: return try string(key, field: "a key of \(field)")
        default: throw .legacy("map keys in \(field) must be strings, found \(key.typeName)")
        }
    }

    private func missing(_ key: String, in f: Fields) -> CodecError {
        .legacy("missing required key \"\(key)\" in \(f.path)")
    }

    // MARK: Scalars

    private func requiredString(_ f: Fields, _ key: String) throws(CodecError) -> String {
        guard let item = f.raw(key) else { throw missing(key, in: f) }
        return try string(item, field: f.field(key))
    }

    private func optionalString(_ f: Fields, _ key: String) throws(CodecError) -> String? {
        guard let item = f[key] else { return nil }
        return try string(item, field: f.field(key))
    }

    private func string(_ item: MessagePackItem, field: String) throws(CodecError) -> String {
        switch item {
        case .string(let range):
            guard let text = utf8(range) else { throw .invalidUTF8(field: field) }
            return text
        case .binary(let range):
            guard let text = utf8(range) else { throw .invalidUTF8(field: field) }
            return text
        default:
            throw .legacy("\(field) must be a string, found \(item.typeName)")
        }
    }

    private func utf8(_ range: Range<Int>) -> String? {
        String(validating: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    private func requiredUnsigned(_ f: Fields, _ key: String, max: UInt64) throws(CodecError) -> UInt64 {
        guard let item = f.raw(key) else { throw missing(key, in: f) }
        return try unsigned(item, field: f.field(key), max: max)
    }

    private func optionalUnsigned(_ f: Fields, _ key: String, max: UInt64) throws(CodecError) -> UInt64? {
        guard let item = f[key] else { return nil }
        return try unsigned(item, field: f.field(key), max: max)
    }

    private func unsigned(_ item: MessagePackItem, field: String, max: UInt64) throws(CodecError) -> UInt64 {
        switch item {
        case .int(let value) where value >= 0 && UInt64(value) <= max:
            return UInt64(value)
        case .bigUInt(let value) where value <= max:
            return value
        case .int(let value):
            throw .legacy("\(field) must be an unsigned integer up to \(max), found \(value)")
        case .bigUInt(let value):
            throw .legacy("\(field) must be an unsigned integer up to \(max), found \(value)")
        default:
            throw .legacy("\(field) must be an unsigned integer, found \(item.typeName)")
        }
    }

    private func optionalBool(_ f: Fields, _ key: String) throws(CodecError) -> Bool? {
        guard let item = f[key] else { return nil }
        guard case .bool(let flag) = item else {
            throw .legacy("\(f.field(key)) must be a bool, found \(item.typeName)")
        }
        return flag
    }

    /// Any number, as the reference's f64 fields accept integers too.
    private func double(_ item: MessagePackItem, field: String) throws(CodecError) -> Double {
        switch item {
        case .float(let value): return value
        case .int(let value): return Double(value)
        case .bigUInt(let value): return Double(value)
        default: throw .legacy("\(field) must be a number, found \(item.typeName)")
        }
    }

    private func optionalArray(_ f: Fields, _ key: String) throws(CodecError) -> [MessagePackItem]? {
        guard let item = f[key] else { return nil }
        guard case .array(let elements) = item else {
            throw .legacy("\(f.field(key)) must be an array, found \(item.typeName)")
        }
        return elements
    }

    // MARK: Values

    /// A value whose key is required; an explicit nil is `Value.null`.
    private func requiredValue(_ f: Fields, _ key: String) throws(CodecError) -> Value {
        guard let item = f.raw(key) else { throw missing(key, in: f) }
        return try value(item, field: f.field(key), depth: 0)
    }

    /// An optional value; nil means absent.
    private func optionalValue(_ f: Fields, _ key: String) throws(CodecError) -> Value? {
        guard let item = f[key] else { return nil }
        return try value(item, field: f.field(key), depth: 0)
    }

    /// `depth` counts the arrays/maps around `item`.
    private func value(_ item: MessagePackItem, field: String, depth: Int) throws(CodecError) -> Value {
        switch item {
        case .null: return .null
        case .bool(let flag): return .bool(flag)
        case .int(let number): return .int(number)
        case .bigUInt(let number):
            throw .legacy("integer \(number) in \(field) does not fit in a signed 64-bit integer")
        case .float(let number): return .float(number)
        case .string(let range):
            guard let text = utf8(range) else { throw .invalidUTF8(field: field) }
            return .string(text)
        case .binary(let range):
            guard let text = utf8(range) else {
                throw .legacy("binary data in \(field) is not valid UTF-8 (legacy values carry text only)")
            }
            return .string(text)
        case .array(let elements):
            guard depth < CodecLimits.maxValueDepth else { throw .nestingTooDeep(limit: CodecLimits.maxValueDepth) }
            var values: [Value] = []
            values.reserveCapacity(elements.count)
            for (index, element) in elements.enumerated() {
                values.append(try value(element, field: "\(field)[\(index)]", depth: depth + 1))
            }
            return .array(values)
        case .map(let pairs):
            guard depth < CodecLimits.maxValueDepth else { throw .nestingTooDeep(limit: CodecLimits.maxValueDepth) }
            var entries: [(key: String, value: Value)] = []
            entries.reserveCapacity(pairs.count)
            for pair in pairs {
                let key = try mapKey(pair.key, field: field)
                entries.append((key, try value(pair.value, field: "\(field).\(key)", depth: depth + 1)))
            }
            return .map(entries)
        }
    }
}

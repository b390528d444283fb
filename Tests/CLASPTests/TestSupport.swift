import CLASP
import Foundation

// Helpers shared by the codec tests: hex, vector loading, and a JSON → `Message` converter
// for the `message` objects of clasp-frames.json (wire-format §6.1).

enum Hex {
    static func decode(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(hex.utf8.count / 2)
        var high: UInt8?
        for c in hex.utf8 {
            let nibble: UInt8
            switch c {
            case UInt8(ascii: "0") ... UInt8(ascii: "9"): nibble = c - UInt8(ascii: "0")
            case UInt8(ascii: "a") ... UInt8(ascii: "f"): nibble = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A") ... UInt8(ascii: "F"): nibble = c - UInt8(ascii: "A") + 10
            default: continue
            }
            if let h = high {
                out.append(h << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return out
    }

    static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        var s = ""
        s.reserveCapacity(bytes.count * 2)
        for b in bytes {
            s.append(digits[Int(b >> 4)])
            s.append(digits[Int(b & 0x0F)])
        }
        return s
    }
}

struct VectorFormatError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

enum VectorFiles {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Vectors")

    static func load(_ name: String) -> [[String: Any]] {
        let url = directory.appendingPathComponent(name)
        guard let data = try? Data(contentsOf: url),
              let array = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]]
        else { return [] }
        return array
    }
}

/// One entry of clasp-frames.json, reduced to Sendable fields.
struct ValidVector: Sendable, CustomStringConvertible {
    var name: String
    var bytes: [UInt8]
    var flagsQoS: Int
    var timestamp: UInt64?
    var encrypted: Bool
    var compressed: Bool
    var version: UInt8
    var payloadLength: Int
    var isLegacy: Bool
    /// The JSON message, converted (nil for legacy vectors, or when conversion failed).
    var expected: Message?
    var conversionError: String?
    var reencode: String
    var reencodedBytes: [UInt8]?

    var description: String { name }

    static let all: [ValidVector] = VectorFiles.load("clasp-frames.json").map(ValidVector.init(json:))
    static let binary: [ValidVector] = all.filter { !$0.isLegacy }
    static let legacy: [ValidVector] = all.filter { $0.isLegacy }

    init(json: [String: Any]) {
        name = json["name"] as? String ?? "?"
        bytes = Hex.decode(json["hex"] as? String ?? "")
        let frame = json["frame"] as? [String: Any] ?? [:]
        flagsQoS = JSONValue.int(frame["qos"]).map { Int($0) } ?? -1
        timestamp = JSONValue.uint(frame["timestamp"])
        encrypted = frame["encrypted"] as? Bool ?? false
        compressed = frame["compressed"] as? Bool ?? false
        version = UInt8(JSONValue.int(frame["version"]) ?? 0)
        payloadLength = Int(JSONValue.int(frame["payload_length"]) ?? -1)
        let message = json["message"] as? [String: Any] ?? [:]
        isLegacy = message["type"] as? String == "LEGACY_MSGPACK"
        let reference = json["reference_decoder"] as? [String: Any] ?? [:]
        reencode = reference["reencode"] as? String ?? "?"
        reencodedBytes = (reference["reencoded_hex"] as? String).map(Hex.decode)
        if !isLegacy {
            do {
                expected = try JSONMessage.message(message)
            } catch {
                conversionError = "\(error)"
            }
        }
    }
}

/// One entry of invalid-frames.json.
struct InvalidVector: Sendable, CustomStringConvertible {
    var name: String
    var category: String
    var transportUnit: String
    var bytes: [UInt8]
    var description: String { "\(category)/\(name)" }

    static let all: [InvalidVector] = VectorFiles.load("invalid-frames.json").map { json in
        InvalidVector(name: json["name"] as? String ?? "?", category: json["category"] as? String ?? "?",
                      transportUnit: json["transport_unit"] as? String ?? "?",
                      bytes: Hex.decode(json["hex"] as? String ?? ""))
    }
    static let decoderRejects: Set<String> = ["header", "message-type", "value", "utf8", "truncation", "nesting", "legacy"]
    static let rejectedByDecoder = all.filter { $0.transportUnit == "message" && decoderRejects.contains($0.category) }
    static let rejectedLater = all.filter { !decoderRejects.contains($0.category) }
}

/// Exact numbers out of JSONSerialization results.
enum JSONValue {
    static func int(_ any: Any?) -> Int64? {
        switch any {
        case let n as Int: return Int64(n)
        case let n as Int64: return n
        case let n as NSNumber: return n.int64Value
        default: return nil
        }
    }

    static func uint(_ any: Any?) -> UInt64? {
        switch any {
        case let n as Int: return n >= 0 ? UInt64(n) : nil
        case let n as UInt64: return n
        case let n as NSNumber: return n.uint64Value
        default: return nil
        }
    }

    static func double(_ any: Any?) -> Double? {
        switch any {
        case let s as String:
            switch s {
            case "NaN": return .nan
            case "Infinity": return .infinity
            case "-Infinity": return -.infinity
            default: return nil
            }
        case let n as Double: return n
        case let n as Int: return Double(n)
        case let n as NSNumber: return n.doubleValue
        default: return nil
        }
    }
}

/// JSON `message` objects → `Message`.
enum JSONMessage {
    typealias Object = [String: Any]

    static func message(_ json: Object) throws -> Message {
        let type = json["type"] as? String ?? ""
        switch type {
        case "HELLO":
            return .hello(Hello(version: UInt8(try int(json, "version")), features: try features(json["features"]),
                                name: try string(json, "name"), token: json["token"] as? String))
        case "WELCOME":
            return .welcome(Welcome(version: UInt8(try int(json, "version")), features: try features(json["features"]),
                                    time: try uint(json, "time"), session: try string(json, "session"),
                                    name: try string(json, "name"), token: json["token"] as? String))
        case "ANNOUNCE":
            return .announce(Announce(namespace: try string(json, "namespace"), signals: try definitions(json["signals"])))
        case "RESULT":
            return .result(QueryResult(signals: try definitions(json["signals"])))
        case "QUERY":
            return .query(Query(pattern: try string(json, "pattern")))
        case "SUBSCRIBE":
            var options: SubscribeOptions?
            if let o = json["options"] as? Object {
                options = SubscribeOptions(maxRate: JSONValue.uint(o["max_rate"]).map(UInt32.init),
                                           epsilon: JSONValue.double(o["epsilon"]),
                                           history: JSONValue.uint(o["history"]).map(UInt32.init),
                                           window: JSONValue.uint(o["window"]).map(UInt32.init))
            }
            let mask = SignalTypeMask(wireByte: UInt8(try int(json, "type_mask")))
            guard mask == (try typeList(json["types"])) else { throw VectorFormatError("types disagree with type_mask") }
            return .subscribe(Subscribe(id: UInt32(try uint(json, "id")), pattern: try string(json, "pattern"), types: mask, options: options))
        case "UNSUBSCRIBE":
            return .unsubscribe(Unsubscribe(id: UInt32(try uint(json, "id"))))
        case "SET":
            var ttl: TTL?
            if let t = json["ttl"] as? Object {
                switch t["mode"] as? String {
                case "never": ttl = .never
                case "sliding": ttl = .sliding(seconds: UInt32(try uint(t, "seconds")))
                case "absolute": ttl = .absolute(seconds: UInt32(try uint(t, "seconds")))
                default: throw VectorFormatError("bad ttl")
                }
            }
            return .set(SetMessage(address: try string(json, "address"), value: try value(json["value"]),
                                   revision: JSONValue.uint(json["revision"]), lock: json["lock"] as? Bool ?? false,
                                   unlock: json["unlock"] as? Bool ?? false, ttl: ttl))
        case "GET":
            return .get(Get(address: try string(json, "address")))
        case "SNAPSHOT":
            guard let params = json["params"] as? [Object] else { throw VectorFormatError("params") }
            return .snapshot(Snapshot(params: try params.map { p in
                ParamState(address: try string(p, "address"), value: try value(p["value"]), revision: try uint(p, "revision"),
                           writer: p["writer"] as? String, timestamp: JSONValue.uint(p["timestamp"]))
            }))
        case "REPLAY":
            return .replay(Replay(pattern: try string(json, "pattern"), from: JSONValue.uint(json["from"]), to: JSONValue.uint(json["to"]),
                                  limit: JSONValue.uint(json["limit"]).map(UInt32.init),
                                  types: SignalTypeMask(wireByte: UInt8(try int(json, "type_mask")))))
        case "PUBLISH":
            var samples: [Double]?
            if let list = json["samples"] as? [Any] { samples = try list.map { s in
                guard let d = JSONValue.double(s) else { throw VectorFormatError("sample") }
                return d
            } }
            return .publish(Publish(address: try string(json, "address"), signal: try signal(json["signal"]),
                                    phase: try phase(json["phase"]),
                                    value: json["value"] is NSNull || json["value"] == nil ? nil : try value(json["value"]),
                                    samples: samples, timestamp: JSONValue.uint(json["timestamp"]),
                                    id: JSONValue.uint(json["id"]).map(UInt32.init), rate: JSONValue.uint(json["rate"]).map(UInt32.init)))
        case "BUNDLE":
            guard let inner = json["messages"] as? [Object] else { throw VectorFormatError("messages") }
            return .bundle(BundleMessage(timestamp: JSONValue.uint(json["timestamp"]), messages: try inner.map(message)))
        case "SYNC":
            return .sync(Sync(t1: try uint(json, "t1"), t2: JSONValue.uint(json["t2"]), t3: JSONValue.uint(json["t3"])))
        case "PING": return .ping
        case "PONG": return .pong
        case "ACK":
            return .ack(Ack(address: json["address"] as? String, revision: JSONValue.uint(json["revision"]),
                            locked: json["locked"] as? Bool, holder: json["holder"] as? String,
                            correlationID: JSONValue.uint(json["correlation_id"]).map(UInt32.init)))
        case "ERROR":
            return .error(ErrorMessage(code: UInt16(try uint(json, "code")), message: try string(json, "message"),
                                       address: json["address"] as? String,
                                       correlationID: JSONValue.uint(json["correlation_id"]).map(UInt32.init)))
        case "FEDERATION_SYNC":
            let ops: [String: FederationSync.Operation] = ["declare_namespaces": .declareNamespaces, "request_sync": .requestSync,
                                                          "revision_vector": .revisionVector, "sync_complete": .syncComplete]
            guard let op = ops[json["op"] as? String ?? ""] else { throw VectorFormatError("op") }
            let revisions = try (json["revisions"] as? [[Any]] ?? []).map { pair in
                guard pair.count == 2, let a = pair[0] as? String, let r = JSONValue.uint(pair[1]) else { throw VectorFormatError("revision") }
                return FederationSync.RevisionEntry(address: a, revision: r)
            }
            return .federationSync(FederationSync(op: op, patterns: json["patterns"] as? [String] ?? [], revisions: revisions,
                                                  sinceRevision: JSONValue.uint(json["since_revision"]), origin: json["origin"] as? String))
        default:
            throw VectorFormatError("unknown message type \(type)")
        }
    }

    static func value(_ any: Any?) throws -> Value {
        guard let json = any as? Object, let type = json["type"] as? String else { throw VectorFormatError("value") }
        let v = json["value"]
        switch type {
        case "null": return .null
        case "bool":
            guard let b = v as? Bool else { throw VectorFormatError("bool") }
            return .bool(b)
        case "i8", "i16", "i32", "i64":
            guard let i = JSONValue.int(v) else { throw VectorFormatError("int") }
            return .int(i)
        case "f32":
            guard let d = JSONValue.double(v) else { throw VectorFormatError("f32") }
            return .float(Double(Float(d)))
        case "f64":
            guard let d = JSONValue.double(v) else { throw VectorFormatError("f64") }
            return .float(d)
        case "string":
            guard let s = v as? String else { throw VectorFormatError("string") }
            return .string(s)
        case "bytes":
            guard let s = v as? String else { throw VectorFormatError("bytes") }
            return .bytes(Hex.decode(s))
        case "array":
            guard let items = v as? [Any] else { throw VectorFormatError("array") }
            return .array(try items.map(value))
        case "map":
            guard let entries = v as? [[Any]] else { throw VectorFormatError("map") }
            return .map(try entries.map { pair in
                guard pair.count == 2, let key = pair[0] as? String else { throw VectorFormatError("map entry") }
                return (key: key, value: try value(pair[1]))
            })
        default:
            throw VectorFormatError("value type \(type)")
        }
    }

    static func definitions(_ any: Any?) throws -> [SignalDefinition] {
        guard let list = any as? [Object] else { throw VectorFormatError("signals") }
        return try list.map { d in
            var meta: SignalMeta?
            if let m = d["meta"] as? Object {
                var range: SignalRange?
                if let r = m["range"] as? [Any], r.count == 2, let lo = JSONValue.double(r[0]), let hi = JSONValue.double(r[1]) {
                    range = SignalRange(min: lo, max: hi)
                }
                let def = m["default"] is NSNull || m["default"] == nil ? nil : try value(m["default"])
                meta = SignalMeta(unit: m["unit"] as? String, range: range, defaultValue: def, description: m["description"] as? String)
            }
            return SignalDefinition(address: try string(d, "address"), signal: try signal(d["signal_type"]),
                                    datatype: d["datatype"] as? String, access: d["access"] as? String, meta: meta)
        }
    }

    static func features(_ any: Any?) throws -> Features {
        let names: [String: Features] = ["param": .param, "event": .event, "stream": .stream, "gesture": .gesture,
                                         "timeline": .timeline, "federation": .federation]
        var f: Features = []
        for name in any as? [String] ?? [] {
            guard let bit = names[name] else { throw VectorFormatError("feature \(name)") }
            f.insert(bit)
        }
        return f
    }

    static func typeList(_ any: Any?) throws -> SignalTypeMask {
        var mask: SignalTypeMask = []
        for name in any as? [String] ?? [] { mask.insert(SignalTypeMask(try signal(name))) }
        return mask
    }

    static func signal(_ any: Any?) throws -> SignalType {
        switch any as? String {
        case "param": return .param
        case "event": return .event
        case "stream": return .stream
        case "gesture": return .gesture
        case "timeline": return .timeline
        default: throw VectorFormatError("signal \(String(describing: any))")
        }
    }

    static func phase(_ any: Any?) throws -> GesturePhase {
        switch any as? String {
        case "start": return .start
        case "move": return .move
        case "end": return .end
        case "cancel": return .cancel
        default: throw VectorFormatError("phase")
        }
    }

    static func string(_ json: Object, _ key: String) throws -> String {
        guard let s = json[key] as? String else { throw VectorFormatError("missing \(key)") }
        return s
    }

    static func int(_ json: Object, _ key: String) throws -> Int64 {
        guard let i = JSONValue.int(json[key]) else { throw VectorFormatError("missing \(key)") }
        return i
    }

    static func uint(_ json: Object, _ key: String) throws -> UInt64 {
        guard let i = JSONValue.uint(json[key]) else { throw VectorFormatError("missing \(key)") }
        return i
    }
}

/// Deterministic generator for property tests and the fuzz loop (SplitMix64).
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Decodes `bytes`, returning the typed error instead of throwing (for `#expect`s).
func decodeResult(_ bytes: [UInt8]) -> Result<DecodedFrame, CodecError> {
    do throws(CodecError) { return .success(try FrameCodec.decode(bytes)) } catch { return .failure(error) }
}

/// Whether the legacy MessagePack decoder has landed (the placeholder throws "not supported yet").
let legacyDecoderAvailable: Bool = {
    // {"type": "PING"}
    let payload: [UInt8] = [0x81, 0xA4] + Array("type".utf8) + [0xA4] + Array("PING".utf8)
    let result: Result<Message, CodecError> = payload.withUnsafeBytes { raw in
        do throws(CodecError) { return .success(try FrameCodec.decodePayload(raw)) } catch { return .failure(error) }
    }
    if case .failure(.legacy(let reason)) = result, reason.contains("not supported yet") { return false }
    return true
}()

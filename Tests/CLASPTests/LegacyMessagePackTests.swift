import Foundation
import Testing
@testable import CLASP

// MARK: - Helpers

/// Builds MessagePack bytes by hand, with explicit widths where a test needs them.
private enum MP {
    static let null: [UInt8] = [0xC0]
    static func bool(_ flag: Bool) -> [UInt8] { [flag ? 0xC3 : 0xC2] }
    static func fixint(_ value: UInt8) -> [UInt8] { precondition(value < 0x80); return [value] }
    static func u8(_ value: UInt8) -> [UInt8] { [0xCC, value] }
    static func u16(_ value: UInt16) -> [UInt8] { [0xCD] + be(UInt64(value), 2) }
    static func u32(_ value: UInt32) -> [UInt8] { [0xCE] + be(UInt64(value), 4) }
    static func u64(_ value: UInt64) -> [UInt8] { [0xCF] + be(value, 8) }
    static func i8(_ value: Int8) -> [UInt8] { [0xD0, UInt8(bitPattern: value)] }
    static func i16(_ value: Int16) -> [UInt8] { [0xD1] + be(UInt64(UInt16(bitPattern: value)), 2) }
    static func i32(_ value: Int32) -> [UInt8] { [0xD2] + be(UInt64(UInt32(bitPattern: value)), 4) }
    static func i64(_ value: Int64) -> [UInt8] { [0xD3] + be(UInt64(bitPattern: value), 8) }
    static func f32(_ value: Float) -> [UInt8] { [0xCA] + be(UInt64(value.bitPattern), 4) }
    static func f64(_ value: Double) -> [UInt8] { [0xCB] + be(value.bitPattern, 8) }

    /// Smallest string header.
    static func str(_ text: String) -> [UInt8] {
        let body = Array(text.utf8)
        switch body.count {
        case 0..<32: return [0xA0 | UInt8(body.count)] + body
        case 0..<256: return str8(body)
        case 0..<65_536: return str16(body)
        default: return str32(body)
        }
    }
    static func str8(_ body: [UInt8]) -> [UInt8] { [0xD9, UInt8(body.count)] + body }
    static func str16(_ body: [UInt8]) -> [UInt8] { [0xDA] + be(UInt64(body.count), 2) + body }
    static func str32(_ body: [UInt8]) -> [UInt8] { [0xDB] + be(UInt64(body.count), 4) + body }
    static func bin8(_ body: [UInt8]) -> [UInt8] { [0xC4, UInt8(body.count)] + body }
    static func bin16(_ body: [UInt8]) -> [UInt8] { [0xC5] + be(UInt64(body.count), 2) + body }
    static func bin32(_ body: [UInt8]) -> [UInt8] { [0xC6] + be(UInt64(body.count), 4) + body }

    static func array(_ items: [[UInt8]]) -> [UInt8] {
        (items.count < 16 ? [0x90 | UInt8(items.count)] : array16Header(items.count)) + items.flatMap { $0 }
    }
    static func array16Header(_ count: Int) -> [UInt8] { [0xDC] + be(UInt64(count), 2) }
    static func array32(_ items: [[UInt8]]) -> [UInt8] { [0xDD] + be(UInt64(items.count), 4) + items.flatMap { $0 } }

    /// A map with string keys, in the given order.
    static func map(_ pairs: [(String, [UInt8])]) -> [UInt8] {
        let header: [UInt8] = pairs.count < 16 ? [0x80 | UInt8(pairs.count)] : [0xDE] + be(UInt64(pairs.count), 2)
        return header + pairs.flatMap { str($0.0) + $0.1 }
    }
    static func map16(_ pairs: [(String, [UInt8])]) -> [UInt8] {
        [0xDE] + be(UInt64(pairs.count), 2) + pairs.flatMap { str($0.0) + $0.1 }
    }
    static func map32(_ pairs: [(String, [UInt8])]) -> [UInt8] {
        [0xDF] + be(UInt64(pairs.count), 4) + pairs.flatMap { str($0.0) + $0.1 }
    }

    /// A message map whose first key is `type`.
    static func message(_ type: String, _ pairs: [(String, [UInt8])]) -> [UInt8] {
        map([("type", str(type))] + pairs)
    }

    static func be(_ value: UInt64, _ width: Int) -> [UInt8] {
        (0..<width).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64(width - 1 - $0))) }
    }
}

private func bytes(hex: String) -> [UInt8] {
    var result: [UInt8] = []
    var iterator = hex.makeIterator()
    while let high = iterator.next(), let low = iterator.next() {
        result.append(UInt8(String([high, low]), radix: 16)!)
    }
    return result
}

/// The payload of a frame without a timestamp: the bytes the header's length declares (or
/// fewer when the frame is cut short).
private func payload(ofFrameHex hex: String) -> [UInt8] {
    let frame = bytes(hex: hex)
    let declared = Int(frame[2]) << 8 | Int(frame[3])
    return Array(frame[4..<min(frame.count, 4 + declared)])
}

private func decode(_ payload: [UInt8]) throws(CodecError) -> Message {
    try LegacyMessagePack.decodeMessage(payload)
}

private func decodeError(_ payload: [UInt8]) -> CodecError? {
    do {
        _ = try LegacyMessagePack.decodeMessage(payload)
        return nil
    } catch {
        return error
    }
}

private func setValue(_ value: [UInt8]) -> [UInt8] {
    MP.message("SET", [("address", MP.str("/a")), ("value", value)])
}

private func decodedSetValue(_ value: [UInt8]) throws -> Value? {
    guard case .set(let set) = try decode(setValue(value)) else { return nil }
    return set.value
}


// MARK: - Shared vectors

/// The four valid legacy frames of `clasp-frames.json`, with the message each decodes to
/// (the same message as the vector's `reference_decoder.reencoded_hex`).
private let validLegacyVectors: [(name: String, hex: String, expected: Message)] = [
    ("query_python_msgpack",
     "5301001e82a474797065a55155455259a77061747465726ea92f6c756d656e2f2a2a",
     .query(Query(pattern: "/lumen/**"))),
    ("bundle_python_msgpack",
     "5301009383a474797065a642554e444c45a974696d657374616d70cf00060dd71022a6a0a86d657373616765739283a474797065a3534554a761646472657373a82f6c696768742f31a576616c7565cb3ff000000000000084a474797065a75055424c495348a761646472657373a92f6375652f66697265a67369676e616ca56576656e74a77061796c6f616481a26964a5696e74726f",
     .bundle(BundleMessage(timestamp: 1_704_067_200_100_000, messages: [
         .set(SetMessage(address: "/light/1", value: .float(1.0))),
         .publish(Publish(address: "/cue/fire", signal: .event, value: .map([(key: "id", value: .string("intro"))]))),
     ]))),
    ("bundle_python_msgpack_immediate",
     "5301004483a474797065a642554e444c45a974696d657374616d70c0a86d657373616765739183a474797065a3534554a761646472657373a82f6c696768742f31a576616c756500",
     .bundle(BundleMessage(timestamp: nil, messages: [.set(SetMessage(address: "/light/1", value: .int(0)))]))),
    ("legacy_msgpack_set_version0",
     "5340004586a474797065a3534554a761646472657373ab2f746573742f76616c7565a576616c7565cb3fe0000000000000a87265766973696f6e01a46c6f636bc2a6756e6c6f636bc2",
     .set(SetMessage(address: "/test/value", value: .float(0.5), revision: 1, lock: false, unlock: false))),
]

/// The `legacy` entries of `invalid-frames.json`.
private let invalidLegacyVectors: [(name: String, hex: String)] = [
    ("legacy_msgpack_truncated", "5300000681a474797065"),
    ("legacy_msgpack_unknown_variant", "5300000a81a474797065a3464f4f"),
    ("legacy_msgpack_missing_field", "5300001582a474797065a3534554a761646472657373a22f61"),
    ("legacy_msgpack_numeric_type_tag", "5300002183a47479706521a761646472657373a22f61a576616c7565cb3ff0000000000000"),
    ("prose_spec_appendix_a1_example", "5300001a82a47479706503a761646472657373b12f6c756d656e2f6f706163697479a576616c7565ca3f400000"),
]

private func loadVectors(_ file: String) -> [[String: Any]]? {
    let vectors = VectorFiles.load(file)
    return vectors.isEmpty ? nil : vectors
}

@Suite("Legacy MessagePack: shared vectors")
struct LegacyMessagePackVectorTests {
    @Test("valid legacy vectors decode to the reference's message", arguments: validLegacyVectors.indices)
    func validVectorDecodes(_ index: Int) throws {
        let vector = validLegacyVectors[index]
        #expect(try decode(payload(ofFrameHex: vector.hex)) == vector.expected, "\(vector.name)")
    }

    @Test("invalid legacy vectors are rejected", arguments: invalidLegacyVectors.indices)
    func invalidVectorThrows(_ index: Int) {
        let vector = invalidLegacyVectors[index]
        #expect(decodeError(payload(ofFrameHex: vector.hex)) != nil, "\(vector.name)")
    }

    @Test("the embedded vectors are exactly the legacy entries of the shared files")
    func embeddedVectorsMatchSharedFiles() throws {
        let frames = try #require(loadVectors("clasp-frames.json"))
        let legacyFrames = frames.filter { (($0["message"] as? [String: Any])?["type"] as? String) == "LEGACY_MSGPACK" }
        #expect(Set(legacyFrames.compactMap { $0["name"] as? String }) == Set(validLegacyVectors.map(\.name)))
        for frame in legacyFrames {
            let name = frame["name"] as? String
            #expect(validLegacyVectors.first { $0.name == name }?.hex == frame["hex"] as? String)
        }
        let invalid = try #require(loadVectors("invalid-frames.json"))
        let legacyInvalid = invalid.filter { $0["category"] as? String == "legacy" }
        #expect(Set(legacyInvalid.compactMap { $0["name"] as? String }) == Set(invalidLegacyVectors.map(\.name)))
        for entry in legacyInvalid {
            let name = entry["name"] as? String
            #expect(invalidLegacyVectors.first { $0.name == name }?.hex == entry["hex"] as? String)
        }
    }

    @Test("the numeric-tag vector fails because 33 is not a variant index")
    func numericTagVectorNamesTheIndex() {
        let error = decodeError(payload(ofFrameHex: invalidLegacyVectors[3].hex))
        #expect(error?.description.contains("33") == true)
    }

    @Test("the missing-field vector names the missing key")
    func missingFieldVectorNamesKey() {
        let error = decodeError(payload(ofFrameHex: invalidLegacyVectors[2].hex))
        #expect(error?.description.contains("\"value\"") == true)
        #expect(error?.description.contains("SET") == true)
    }

    @Test("every prefix of every valid legacy payload is rejected without crashing")
    func truncationAtEveryByteThrows() {
        for vector in validLegacyVectors {
            let full = payload(ofFrameHex: vector.hex)
            for length in 0..<full.count {
                #expect(decodeError(Array(full[0..<length])) != nil, "\(vector.name) cut at \(length)")
            }
        }
    }
}

// MARK: - Scalars and widths

@Suite("Legacy MessagePack: value types and widths")
struct LegacyMessagePackValueTests {
    @Test("every integer width decodes to Int64")
    func integerWidths() throws {
        let cases: [([UInt8], Int64)] = [
            (MP.fixint(0), 0), (MP.fixint(127), 127), ([0xFF], -1), ([0xE0], -32),
            (MP.u8(200), 200), (MP.u16(65_535), 65_535), (MP.u32(4_294_967_295), 4_294_967_295),
            (MP.u64(UInt64(Int64.max)), Int64.max),
            (MP.i8(-128), -128), (MP.i16(-32_768), -32_768), (MP.i32(Int32.min), Int64(Int32.min)),
            (MP.i64(Int64.min), Int64.min), (MP.i64(Int64.max), Int64.max), (MP.i8(5), 5),
        ]
        for (encoded, expected) in cases {
            #expect(try decodedSetValue(encoded) == .int(expected), "\(encoded)")
        }
    }

    @Test("a uint64 above Int64.max is refused")
    func uint64BeyondInt64Throws() {
        let error = decodeError(setValue(MP.u64(UInt64(Int64.max) + 1)))
        #expect(error?.description.contains("SET.value") == true)
    }

    @Test("float32 is widened, float64 kept bit for bit")
    func floats() throws {
        #expect(try decodedSetValue(MP.f32(0.5)) == .float(0.5))
        #expect(try decodedSetValue(MP.f32(-1.25)) == .float(-1.25))
        #expect(try decodedSetValue(MP.f64(-0.0)) == .float(-0.0))
        #expect(try decodedSetValue(MP.f64(.infinity)) == .float(.infinity))
        let nan = try decodedSetValue(MP.f64(.nan))
        guard case .float(let value)? = nan else { Issue.record("not a float"); return }
        #expect(value.isNaN)
    }

    @Test("nil and bool values")
    func nilAndBool() throws {
        #expect(try decodedSetValue(MP.null) == .null)
        #expect(try decodedSetValue(MP.bool(true)) == .bool(true))
        #expect(try decodedSetValue(MP.bool(false)) == .bool(false))
    }

    @Test("strings in every width decode")
    func stringWidths() throws {
        let text = "héllo"
        let body = Array(text.utf8)
        for encoded in [MP.str(text), MP.str8(body), MP.str16(body), MP.str32(body)] {
            #expect(try decodedSetValue(encoded) == .string(text))
        }
        let long = String(repeating: "x", count: 70_000)
        #expect(try decodedSetValue(MP.str(long)) == .string(long))
    }

    @Test("bin in every width becomes a String when it is valid UTF-8")
    func binWidths() throws {
        let body = Array("abc€".utf8)
        for encoded in [MP.bin8(body), MP.bin16(body), MP.bin32(body)] {
            #expect(try decodedSetValue(encoded) == .string("abc€"))
        }
        #expect(try decodedSetValue(MP.bin8([])) == .string(""))
    }

    @Test("bin that is not UTF-8 rejects the whole message")
    func binNotUTF8Throws() {
        #expect(decodeError(setValue(MP.bin8([0xFF, 0xFE]))) != nil)
        let bundle = MP.message("BUNDLE", [("messages", MP.array([setValue(MP.bin8([0xC3, 0x28]))]))])
        #expect(decodeError(bundle) != nil)
    }

    @Test("a str that is not UTF-8 is an invalidUTF8 error naming the key")
    func strNotUTF8Throws() {
        let payload = MP.message("SET", [("address", MP.str8([0x2F, 0xC3, 0x28])), ("value", MP.fixint(1))])
        #expect(decodeError(payload) == .invalidUTF8(field: "SET.address"))
    }

    @Test("arrays and maps in every width, map order kept")
    func containers() throws {
        let items = (0..<20).map { MP.fixint(UInt8($0)) }
        let expectedArray = Value.array((0..<20).map { .int(Int64($0)) })
        #expect(try decodedSetValue(MP.array(items)) == expectedArray)  // array16
        #expect(try decodedSetValue(MP.array32(items)) == expectedArray)
        #expect(try decodedSetValue(MP.array([])) == .array([]))
        let pairs: [(String, [UInt8])] = [("z", MP.fixint(1)), ("a", MP.str("x")), ("m", MP.null)]
        let expectedMap = Value.map([(key: "z", value: .int(1)), (key: "a", value: .string("x")), (key: "m", value: .null)])
        #expect(try decodedSetValue(MP.map(pairs)) == expectedMap)
        #expect(try decodedSetValue(MP.map16(pairs)) == expectedMap)
        #expect(try decodedSetValue(MP.map32(pairs)) == expectedMap)
        let nested = MP.map([("list", MP.array([MP.bool(true), MP.map([("k", MP.f64(2))])]))])
        #expect(try decodedSetValue(nested) == .map([(key: "list", value: .array([.bool(true), .map([(key: "k", value: .float(2))])]))]))
    }

    @Test("value map keys must be strings")
    func valueMapKeysMustBeStrings() {
        let payload = setValue([0x81] + MP.fixint(1) + MP.fixint(2))
        #expect(decodeError(payload) != nil)
    }

    @Test("extension types are refused", arguments: [
        [0xD4, 0x01, 0x00], [0xD5, 0x01, 0x00, 0x00], [0xD6, 0x01, 0, 0, 0, 0],
        [0xD7, 0x01] + [UInt8](repeating: 0, count: 8), [0xD8, 0x01] + [UInt8](repeating: 0, count: 16),
        [0xC7, 0x01, 0x01, 0x00], [0xC8, 0x00, 0x01, 0x01, 0x00], [0xC9, 0, 0, 0, 1, 0x01, 0x00], [0xC1],
    ] as [[UInt8]])
    func extensionTypesThrow(_ encoded: [UInt8]) {
        #expect(decodeError(setValue(encoded)) != nil)
    }

    @Test("declared lengths larger than the payload are refused before allocating")
    func hugeDeclaredLengthsThrow() {
        let huge: [[UInt8]] = [
            [0xDD, 0xFF, 0xFF, 0xFF, 0xFF], [0xDF, 0xFF, 0xFF, 0xFF, 0xFF], [0xDB, 0xFF, 0xFF, 0xFF, 0xFF],
            [0xC6, 0xFF, 0xFF, 0xFF, 0xFF], [0xDC, 0xFF, 0xFF], [0xDE, 0xFF, 0xFF], [0xDA, 0xFF, 0xFF],
            [0xC5, 0xFF, 0xFF], [0xD9, 0xFF], [0xC4, 0xFF], [0x9F], [0x8F], [0xBF],
        ]
        for prefix in huge {
            #expect(decodeError(setValue(prefix)) != nil, "\(prefix)")
        }
        // The top-level map itself.
        #expect(decodeError([0xDF, 0xFF, 0xFF, 0xFF, 0xFF, 0xA1, 0x61]) != nil)
    }
}

// MARK: - Mapping onto messages

@Suite("Legacy MessagePack: message mapping")
struct LegacyMessagePackMappingTests {
    @Test("the integer type tag is the reference's variant position")
    func integerTags() throws {
        let set = MP.map([("type", MP.fixint(6)), ("address", MP.str("/a")), ("value", MP.f64(1))])
        #expect(try decode(set) == .set(SetMessage(address: "/a", value: .float(1))))
        #expect(try decode(MP.map([("type", MP.fixint(13))])) == .ping)
        #expect(try decode(MP.map([("type", MP.fixint(14))])) == .pong)
        #expect(try decode(MP.map([("type", MP.u16(17)), ("pattern", MP.str("/x"))])) == .query(Query(pattern: "/x")))
        #expect(decodeError(MP.map([("type", MP.fixint(33)), ("address", MP.str("/a")), ("value", MP.f64(1))])) != nil)
        #expect(decodeError(MP.map([("type", MP.fixint(19))])) != nil)
        #expect(decodeError(MP.map([("type", [0xFF])])) != nil)
        #expect(decodeError(MP.map([("type", MP.u64(UInt64.max))])) != nil)
    }

    @Test("the variant order table lists every message once, in the reference's order")
    func variantOrder() {
        let names = LegacyMessagePack.variantOrder.map(\.name)
        #expect(names == ["HELLO", "WELCOME", "ANNOUNCE", "SUBSCRIBE", "UNSUBSCRIBE", "PUBLISH", "SET", "GET",
                          "SNAPSHOT", "REPLAY", "FEDERATION_SYNC", "BUNDLE", "SYNC", "PING", "PONG", "ACK",
                          "ERROR", "QUERY", "RESULT"])
        #expect(Set(LegacyMessagePack.variantOrder) == Set(MessageKind.allCases))
    }

    @Test("unknown type names, a missing type and a non-map payload are refused")
    func badTags() {
        #expect(decodeError(MP.map([("type", MP.str("FOO"))]))?.description.contains("FOO") == true)
        #expect(decodeError(MP.map([("type", MP.str("set"))])) != nil)  // names are upper-case
        #expect(decodeError(MP.map([("address", MP.str("/a"))]))?.description.contains("\"type\"") == true)
        #expect(decodeError(MP.map([("type", MP.f64(6))])) != nil)
        #expect(decodeError(MP.map([("type", MP.null)])) != nil)
        #expect(decodeError([]) != nil)
        #expect(decodeError(MP.array([MP.str("SET")])) != nil)
        #expect(decodeError([0x21, 0x00]) != nil)
    }

    @Test("a missing required key is named in the error", arguments: [
        ("SET", [("address", MP.str("/a"))], "value"),
        ("SET", [("value", MP.fixint(1))], "address"),
        ("HELLO", [("name", MP.str("n"))], "version"),
        ("SUBSCRIBE", [("pattern", MP.str("/a"))], "id"),
        ("BUNDLE", [], "messages"),
        ("SYNC", [], "t1"),
        ("ERROR", [("code", MP.fixint(1))], "message"),
        ("QUERY", [], "pattern"),
        ("RESULT", [], "signals"),
        ("SNAPSHOT", [], "params"),
        ("FEDERATION_SYNC", [], "op"),
        ("WELCOME", [("version", MP.fixint(1)), ("session", MP.str("s")), ("name", MP.str("n"))], "time"),
    ] as [(String, [(String, [UInt8])], String)])
    func missingRequiredKey(_ type: String, _ pairs: [(String, [UInt8])], _ key: String) {
        let error = decodeError(MP.message(type, pairs))
        #expect(error?.description.contains("missing required key \"\(key)\"") == true, "\(String(describing: error))")
    }

    @Test("a key of the wrong type is named in the error")
    func wrongTypeForKey() {
        let cases: [([UInt8], String)] = [
            (MP.message("SET", [("address", MP.fixint(1)), ("value", MP.fixint(1))]), "SET.address"),
            (MP.message("SET", [("address", MP.str("/a")), ("value", MP.fixint(1)), ("revision", MP.i8(-1))]), "SET.revision"),
            (MP.message("SET", [("address", MP.str("/a")), ("value", MP.fixint(1)), ("lock", MP.fixint(1))]), "SET.lock"),
            (MP.message("SUBSCRIBE", [("id", MP.u64(1 << 32)), ("pattern", MP.str("/a"))]), "SUBSCRIBE.id"),
            (MP.message("SUBSCRIBE", [("id", MP.fixint(1)), ("pattern", MP.str("/a")), ("types", MP.str("param"))]), "SUBSCRIBE.types"),
            (MP.message("HELLO", [("version", MP.u16(256)), ("name", MP.str("n"))]), "HELLO.version"),
            (MP.message("PUBLISH", [("address", MP.str("/a")), ("signal", MP.str("Event"))]), "PUBLISH.signal"),
            (MP.message("PUBLISH", [("address", MP.str("/a")), ("phase", MP.str("moved"))]), "PUBLISH.phase"),
            (MP.message("ERROR", [("code", MP.u32(70_000)), ("message", MP.str("m"))]), "ERROR.code"),
            (MP.message("SYNC", [("t1", MP.f64(1))]), "SYNC.t1"),
            (MP.message("BUNDLE", [("messages", MP.map([]))]), "BUNDLE.messages"),
            (MP.message("BUNDLE", [("messages", MP.array([MP.message("SET", [("address", MP.fixint(3)), ("value", MP.null)])]))]),
             "BUNDLE.messages[0](SET).address"),
        ]
        for (payload, field) in cases {
            let error = decodeError(payload)
            #expect(error?.description.contains(field) == true, "expected \(field) in \(String(describing: error))")
        }
    }

    @Test("a key given twice is refused")
    func duplicateKeyThrows() {
        let payload = MP.message("SET", [("address", MP.str("/a")), ("value", MP.fixint(1)), ("address", MP.str("/b"))])
        #expect(decodeError(payload)?.description.contains("duplicate key \"address\"") == true)
        #expect(decodeError(MP.map([("type", MP.str("PING")), ("type", MP.str("PONG"))])) != nil)
    }

    @Test("nil means absent; SET value nil is Null; unknown keys are ignored")
    func nilAndUnknownKeys() throws {
        let payload = MP.message("SET", [
            ("address", MP.str("/a")), ("value", MP.null), ("revision", MP.null), ("lock", MP.null),
            ("unlock", MP.bool(true)), ("ttl", MP.null), ("extra", MP.array([MP.null])),
        ])
        #expect(try decode(payload) == .set(SetMessage(address: "/a", value: .null, unlock: true)))
    }

    @Test("bytes after the top-level map are ignored")
    func trailingBytesIgnored() throws {
        let payload = MP.message("PING", []) + [0xFF, 0x00, 0xC1]
        #expect(try decode(payload) == .ping)
    }

    @Test("TTL forms")
    func ttlForms() throws {
        func ttl(_ encoded: [UInt8]) throws -> TTL? {
            guard case .set(let set) = try decode(MP.message("SET", [("address", MP.str("/a")), ("value", MP.fixint(1)), ("ttl", encoded)])) else { return nil }
            return set.ttl
        }
        #expect(try ttl(MP.str("Never")) == .never)
        #expect(try ttl(MP.map([("Sliding", MP.fixint(60))])) == .sliding(seconds: 60))
        #expect(try ttl(MP.map([("Absolute", MP.u32(4_000_000_000))])) == .absolute(seconds: 4_000_000_000))
        #expect(try ttl(MP.map([("Never", MP.null)])) == .never)
        for bad in [MP.fixint(60), MP.str("never"), MP.map([("Sliding", MP.i8(-1))]), MP.map([("Weekly", MP.fixint(1))]),
                    MP.map([("Sliding", MP.fixint(1)), ("Absolute", MP.fixint(1))]), MP.map([("Sliding", MP.u64(1 << 32))])] {
            #expect(throws: CodecError.self) { try ttl(bad) }
        }
    }

    @Test("HELLO and WELCOME features are lists of names; unknown names are ignored")
    func helloAndWelcome() throws {
        let hello = MP.message("HELLO", [
            ("version", MP.fixint(1)), ("name", MP.str("CLASP Python Client")),
            ("features", MP.array([MP.str("param"), MP.str("event"), MP.str("stream"), MP.str("teleport")])),
            ("capabilities", MP.map([("encryption", MP.bool(false))])), ("token", MP.str("cpsk_abc")),
        ])
        #expect(try decode(hello) == .hello(Hello(version: 1, features: [.param, .event, .stream], name: "CLASP Python Client", token: "cpsk_abc")))
        let bare = MP.message("HELLO", [("version", MP.fixint(2)), ("name", MP.str("n")), ("token", MP.str(""))])
        #expect(try decode(bare) == .hello(Hello(version: 2, features: [], name: "n", token: nil)))
        let welcome = MP.message("WELCOME", [
            ("version", MP.fixint(1)), ("session", MP.str("s-1")), ("name", MP.str("Clasp Router")),
            ("features", MP.array(["param", "event", "stream", "gesture", "timeline"].map(MP.str))),
            ("time", MP.u64(1_704_067_200_000_000)),
        ])
        #expect(try decode(welcome) == .welcome(Welcome(version: 1, features: Features.allSignals, time: 1_704_067_200_000_000, session: "s-1", name: "Clasp Router")))
        #expect(decodeError(MP.message("HELLO", [("version", MP.fixint(1)), ("name", MP.str("n")), ("features", MP.array([MP.fixint(1)]))])) != nil)
    }

    @Test("SUBSCRIBE types become a mask, options map onto SubscribeOptions")
    func subscribe() throws {
        let payload = MP.message("SUBSCRIBE", [
            ("id", MP.fixint(42)), ("pattern", MP.str("/lumen/**")),
            ("types", MP.array([MP.str("param"), MP.str("gesture")])),
            ("options", MP.map([("max_rate", MP.fixint(60)), ("epsilon", MP.f64(0.01)), ("history", MP.fixint(10)), ("window", MP.u16(100)), ("maxRate", MP.fixint(1))])),
        ])
        #expect(try decode(payload) == .subscribe(Subscribe(id: 42, pattern: "/lumen/**", types: [.param, .gesture],
                                                            options: SubscribeOptions(maxRate: 60, epsilon: 0.01, history: 10, window: 100))))
        let plain = MP.message("SUBSCRIBE", [("id", MP.fixint(1)), ("pattern", MP.str("/a")), ("types", MP.array([])), ("options", MP.map([("epsilon", MP.fixint(2))]))])
        #expect(try decode(plain) == .subscribe(Subscribe(id: 1, pattern: "/a", types: .all, options: SubscribeOptions(epsilon: 2))))
        #expect(decodeError(MP.message("SUBSCRIBE", [("id", MP.fixint(1)), ("pattern", MP.str("/a")), ("types", MP.array([MP.str("video")]))])) != nil)
        #expect(try decode(MP.message("UNSUBSCRIBE", [("id", MP.u32(7))])) == .unsubscribe(Unsubscribe(id: 7)))
    }

    @Test("PUBLISH: signal and phase strings, value before payload, samples, gesture fields; timeline ignored")
    func publish() throws {
        let gesture = MP.message("PUBLISH", [
            ("address", MP.str("/input/touch")), ("signal", MP.str("gesture")), ("phase", MP.str("move")),
            ("id", MP.fixint(7)), ("timestamp", MP.u64(1_704_067_200_000_000)), ("rate", MP.fixint(60)),
            ("payload", MP.map([("x", MP.f64(0.5))])),
            ("timeline", MP.map([("keyframes", MP.array([MP.map([("time", MP.fixint(0)), ("value", MP.fixint(1))])])), ("loop_", MP.bool(true))])),
        ])
        #expect(try decode(gesture) == .publish(Publish(address: "/input/touch", signal: .gesture, phase: .move,
                                                         value: .map([(key: "x", value: .float(0.5))]),
                                                         timestamp: 1_704_067_200_000_000, id: 7, rate: 60)))
        let both = MP.message("PUBLISH", [("address", MP.str("/a")), ("payload", MP.fixint(2)), ("value", MP.fixint(1))])
        #expect(try decode(both) == .publish(Publish(address: "/a", signal: .event, value: .int(1))))
        let stream = MP.message("PUBLISH", [("address", MP.str("/s")), ("signal", MP.str("stream")), ("samples", MP.array([MP.f64(0.25), MP.fixint(1), MP.f32(2)]))])
        #expect(try decode(stream) == .publish(Publish(address: "/s", signal: .stream, samples: [0.25, 1, 2])))
        for (name, phase) in [("start", GesturePhase.start), ("end", .end), ("cancel", .cancel)] {
            let message = MP.message("PUBLISH", [("address", MP.str("/g")), ("signal", MP.str("gesture")), ("phase", MP.str(name))])
            #expect(try decode(message) == .publish(Publish(address: "/g", signal: .gesture, phase: phase)))
        }
        for (name, signal) in [("param", SignalType.param), ("event", .event), ("timeline", .timeline)] {
            let message = MP.message("PUBLISH", [("address", MP.str("/p")), ("signal", MP.str(name)), ("value", MP.null)])
            #expect(try decode(message) == .publish(Publish(address: "/p", signal: signal, value: nil)))
        }
    }

    @Test("ANNOUNCE and RESULT signal definitions")
    func announceAndResult() throws {
        let definition = MP.map([
            ("address", MP.str("/mixer/*/gain")), ("type", MP.str("param")), ("datatype", MP.str("f32")), ("access", MP.str("rw")),
            ("meta", MP.map([("unit", MP.str("dB")), ("range", MP.array([MP.i8(-60), MP.f64(6)])), ("default", MP.f64(0)), ("description", MP.str("gain"))])),
        ])
        let announce = MP.message("ANNOUNCE", [("namespace", MP.str("/mixer")), ("signals", MP.array([definition])), ("meta", MP.map([]))])
        let meta = SignalMeta(unit: "dB", range: SignalRange(min: -60, max: 6), defaultValue: .float(0), description: "gain")
        #expect(try decode(announce) == .announce(Announce(namespace: "/mixer", signals: [
            SignalDefinition(address: "/mixer/*/gain", signal: .param, datatype: "f32", access: "rw", meta: meta),
        ])))
        #expect(try decode(MP.message("ANNOUNCE", [("namespace", MP.str("/x"))])) == .announce(Announce(namespace: "/x", signals: [])))
        let result = MP.message("RESULT", [("signals", MP.array([definition, MP.map([("address", MP.str("/e")), ("type", MP.str("event"))])]))])
        #expect(try decode(result) == .result(QueryResult(signals: [
            SignalDefinition(address: "/mixer/*/gain", signal: .param, datatype: "f32", access: "rw"),
            SignalDefinition(address: "/e", signal: .event),
        ])))
        let badRange = MP.message("ANNOUNCE", [("namespace", MP.str("/x")), ("signals", MP.array([MP.map([
            ("address", MP.str("/a")), ("type", MP.str("param")), ("meta", MP.map([("range", MP.array([MP.fixint(1)]))])),
        ])]))])
        #expect(decodeError(badRange)?.description.contains("range") == true)
    }

    @Test("GET, SNAPSHOT, REPLAY, SYNC, ACK, ERROR, QUERY, PING, PONG")
    func remainingMessages() throws {
        #expect(try decode(MP.message("GET", [("address", MP.str("/a"))])) == .get(Get(address: "/a")))
        let snapshot = MP.message("SNAPSHOT", [("params", MP.array([
            MP.map([("address", MP.str("/a")), ("value", MP.fixint(1)), ("revision", MP.fixint(3)), ("writer", MP.str("w")), ("timestamp", MP.u32(99))]),
            MP.map([("address", MP.str("/b")), ("value", MP.null), ("revision", MP.fixint(0))]),
        ]))])
        #expect(try decode(snapshot) == .snapshot(Snapshot(params: [
            ParamState(address: "/a", value: .int(1), revision: 3, writer: "w", timestamp: 99),
            ParamState(address: "/b", value: .null, revision: 0),
        ])))
        #expect(decodeError(MP.message("SNAPSHOT", [("params", MP.array([MP.map([("address", MP.str("/a")), ("value", MP.fixint(1))])]))]))?
            .description.contains("\"revision\"") == true)
        let replay = MP.message("REPLAY", [("pattern", MP.str("/a/**")), ("from", MP.fixint(1)), ("to", MP.u16(500)), ("limit", MP.fixint(10)), ("types", MP.array([MP.str("event")]))])
        #expect(try decode(replay) == .replay(Replay(pattern: "/a/**", from: 1, to: 500, limit: 10, types: .event)))
        #expect(try decode(MP.message("SYNC", [("t1", MP.fixint(1)), ("t2", MP.fixint(2)), ("t3", MP.null)])) == .sync(Sync(t1: 1, t2: 2)))
        let ack = MP.message("ACK", [("address", MP.str("/a")), ("revision", MP.fixint(2)), ("locked", MP.bool(true)), ("holder", MP.str("h")), ("correlation_id", MP.fixint(9))])
        #expect(try decode(ack) == .ack(Ack(address: "/a", revision: 2, locked: true, holder: "h", correlationID: 9)))
        #expect(try decode(MP.message("ACK", [])) == .ack(Ack()))
        let error = MP.message("ERROR", [("code", MP.u16(404)), ("message", MP.str("Not found")), ("address", MP.str("/a")), ("correlation_id", MP.null)])
        #expect(try decode(error) == .error(ErrorMessage(code: 404, message: "Not found", address: "/a")))
        #expect(try decode(MP.message("QUERY", [("pattern", MP.str("/lumen/**"))])) == .query(Query(pattern: "/lumen/**")))
        #expect(try decode(MP.message("PING", [("extra", MP.fixint(1))])) == .ping)
        #expect(try decode(MP.message("PONG", [])) == .pong)
    }

    @Test("FEDERATION_SYNC: op names, patterns, revisions map")
    func federationSync() throws {
        let payload = MP.message("FEDERATION_SYNC", [
            ("op", MP.str("RevisionVector")), ("patterns", MP.array([MP.str("/x/**")])),
            ("revisions", MP.map([("/x/a", MP.fixint(4)), ("/x/b", MP.u64(1 << 40))])),
            ("since_revision", MP.fixint(3)), ("origin", MP.str("router-2")),
        ])
        #expect(try decode(payload) == .federationSync(FederationSync(
            op: .revisionVector, patterns: ["/x/**"],
            revisions: [.init(address: "/x/a", revision: 4), .init(address: "/x/b", revision: 1 << 40)],
            sinceRevision: 3, origin: "router-2")))
        for (name, op) in [("DeclareNamespaces", FederationSync.Operation.declareNamespaces), ("RequestSync", .requestSync), ("SyncComplete", .syncComplete)] {
            #expect(try decode(MP.message("FEDERATION_SYNC", [("op", MP.str(name))])) == .federationSync(FederationSync(op: op)))
        }
        #expect(decodeError(MP.message("FEDERATION_SYNC", [("op", MP.str("declare_namespaces"))])) != nil)
        #expect(decodeError(MP.message("FEDERATION_SYNC", [("op", MP.fixint(1))])) != nil)
    }

    @Test("bundle in bundle decodes up to the bundle depth limit")
    func bundleDepth() throws {
        func nested(_ levels: Int) -> [UInt8] {
            var inner = MP.message("PING", [])
            for _ in 0..<levels { inner = MP.message("BUNDLE", [("messages", MP.array([inner]))]) }
            return inner
        }
        var expected = Message.ping
        for _ in 0..<CodecLimits.maxBundleDepth { expected = .bundle(BundleMessage(messages: [expected])) }
        #expect(try decode(nested(CodecLimits.maxBundleDepth)) == expected)
        #expect(decodeError(nested(CodecLimits.maxBundleDepth + 1)) == .nestingTooDeep(limit: CodecLimits.maxBundleDepth))
    }
}

// MARK: - Hostile input

@Suite("Legacy MessagePack: hostile input")
struct LegacyMessagePackHostileInputTests {
    private func nestedArrays(_ levels: Int) -> [UInt8] {
        [UInt8](repeating: 0x91, count: levels) + MP.fixint(1)
    }

    @Test("values nest up to the value depth limit, one more is refused")
    func valueDepthLimit() throws {
        var expected = Value.int(1)
        for _ in 0..<CodecLimits.maxValueDepth { expected = .array([expected]) }
        #expect(try decodedSetValue(nestedArrays(CodecLimits.maxValueDepth)) == expected)
        #expect(decodeError(setValue(nestedArrays(CodecLimits.maxValueDepth + 1))) == .nestingTooDeep(limit: CodecLimits.maxValueDepth))
    }

    @Test("deep nesting is refused without exhausting the stack", arguments: [100, 5_000, 21_843, 60_000])
    func deepNestingThrows(_ levels: Int) {
        #expect(decodeError(setValue(nestedArrays(levels))) != nil)
        // Deep maps, and deep junk under a key that is otherwise ignored.
        let maps = [UInt8]((0..<levels).flatMap { _ in [0x81, 0xA1, 0x6B] }) + MP.null
        #expect(decodeError(setValue(maps)) != nil)
        #expect(decodeError(MP.message("PING", [("ignored", nestedArrays(levels))])) != nil)
    }

    @Test("deeply nested bundles are refused")
    func deepBundlesThrow() {
        var payload = MP.message("PING", [])
        for _ in 0..<2_000 { payload = MP.message("BUNDLE", [("messages", MP.array([payload]))]) }
        #expect(decodeError(payload) != nil)
    }

    @Test("100k random and mutated inputs never crash (fixed seed)")
    func fuzz() async {
        var random = SeededGenerator(seed: 0xC1A5_0001)
        let seeds = validLegacyVectors.map { payload(ofFrameHex: $0.hex) } + [
            MP.message("SUBSCRIBE", [("id", MP.fixint(1)), ("pattern", MP.str("/a")), ("types", MP.array([MP.str("param")])), ("options", MP.map([("epsilon", MP.f64(1))]))]),
            MP.message("ANNOUNCE", [("namespace", MP.str("/m")), ("signals", MP.array([MP.map([("address", MP.str("/m/a")), ("type", MP.str("param")), ("meta", MP.map([("range", MP.array([MP.fixint(0), MP.fixint(1)]))]))])]))]),
        ]
        let markers: [UInt8] = [0x80, 0x81, 0x83, 0x8F, 0xDE, 0xDF]
        var decoded = 0
        for iteration in 0..<100_000 {
            // Seconds of CPU: let the network tests beside this one run (2 cooperative threads).
            if iteration % 500 == 0 { await Task.yield() }
            var input: [UInt8]
            if iteration % 2 == 0 {
                // Random bytes behind a map marker, so the reader gets past the first byte.
                let length = Int.random(in: 0...48, using: &random)
                input = [markers.randomElement(using: &random)!] + (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            } else {
                // A valid payload with a few bytes replaced, inserted or removed.
                input = seeds.randomElement(using: &random)!
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    let position = Int.random(in: 0..<input.count, using: &random)
                    switch Int.random(in: 0..<3, using: &random) {
                    case 0: input[position] = UInt8.random(in: 0...255, using: &random)
                    case 1: input.insert(UInt8.random(in: 0...255, using: &random), at: position)
                    default: if input.count > 1 { input.remove(at: position) }
                    }
                }
            }
            if (try? decode(input)) != nil { decoded += 1 }
        }
        // Some mutations (a changed value byte) still decode; most do not.
        #expect(decoded > 0)
        #expect(decoded < 100_000)
    }
}

import CLASP
import Testing

/// Random but reproducible messages covering every kind, field and value type.
struct MessageGenerator {
    var rng: SeededGenerator

    init(seed: UInt64) { rng = SeededGenerator(seed: seed) }

    mutating func bool() -> Bool { Bool.random(using: &rng) }
    mutating func int<T: FixedWidthInteger>(_: T.Type = T.self) -> T { T.random(in: T.min ... T.max, using: &rng) }
    mutating func maybe<T>(_ make: (inout MessageGenerator) -> T) -> T? { bool() ? make(&self) : nil }

    mutating func string(maxLength: Int = 12) -> String {
        let alphabet: [String] = ["a", "b", "/", "*", "z", "0", "é", "☃", "🎹", " ", "_", "-"]
        let n = Int.random(in: 0 ... maxLength, using: &rng)
        return (0 ..< n).map { _ in alphabet.randomElement(using: &rng) ?? "a" }.joined()
    }

    mutating func nonEmptyString() -> String {
        let s = string()
        return s.isEmpty ? "x" : s
    }

    mutating func double() -> Double {
        switch Int.random(in: 0 ..< 6, using: &rng) {
        case 0: return .nan
        case 1: return -.infinity
        case 2: return -0.0
        case 3: return Double(bitPattern: int(UInt64.self))
        default: return Double.random(in: -1e6 ... 1e6, using: &rng)
        }
    }

    /// `SignalRange`, `Publish.samples` and `SubscribeOptions.epsilon` compare with `==`
    /// (unlike `Value`, which compares bit patterns), so NaN would never equal itself there.
    mutating func finiteDouble() -> Double { Double.random(in: -1e6 ... 1e6, using: &rng) }

    mutating func value(depth: Int = 0) -> Value {
        let leafOnly = depth >= 3
        switch Int.random(in: 0 ..< (leafOnly ? 6 : 8), using: &rng) {
        case 0: return .null
        case 1: return .bool(bool())
        case 2: return .int(int(Int64.self))
        case 3: return .float(double())
        case 4: return .string(string())
        case 5: return .bytes((0 ..< Int.random(in: 0 ... 6, using: &rng)).map { _ in int(UInt8.self) })
        case 6: return .array((0 ..< Int.random(in: 0 ... 4, using: &rng)).map { _ in value(depth: depth + 1) })
        default:
            return .map((0 ..< Int.random(in: 0 ... 4, using: &rng)).map { _ in (key: string(), value: value(depth: depth + 1)) })
        }
    }

    mutating func signal() -> SignalType { SignalType.allCases.randomElement(using: &rng) ?? .event }

    mutating func mask() -> SignalTypeMask { SignalTypeMask(rawValue: int(UInt8.self) & 0x1F) }

    mutating func definition(withMeta: Bool) -> SignalDefinition {
        var meta: SignalMeta?
        if withMeta, bool() {
            meta = SignalMeta(unit: maybe { $0.string() }, range: maybe { SignalRange(min: $0.finiteDouble(), max: $0.finiteDouble()) },
                              defaultValue: maybe { $0.value() }, description: maybe { $0.string() })
        }
        return SignalDefinition(address: string(), signal: signal(), datatype: maybe { $0.string() },
                                access: maybe { $0.string() }, meta: meta)
    }

    mutating func message(bundleDepth: Int = 0) -> Message {
        let kinds = MessageKind.allCases.filter { $0 != .bundle || bundleDepth < CodecLimits.maxBundleDepth }
        switch kinds.randomElement(using: &rng) ?? .ping {
        case .hello:
            return .hello(Hello(version: int(), features: Features(rawValue: int(UInt8.self) & 0xFC), name: string(),
                                token: maybe { $0.nonEmptyString() }))
        case .welcome:
            return .welcome(Welcome(version: int(), features: Features(rawValue: int(UInt8.self) & 0xF8), time: int(),
                                    session: string(), name: string(), token: maybe { $0.nonEmptyString() }))
        case .announce:
            return .announce(Announce(namespace: string(), signals: (0 ..< Int.random(in: 0 ... 3, using: &rng)).map { _ in definition(withMeta: true) }))
        case .federationSync:
            return .federationSync(FederationSync(
                op: FederationSync.Operation.allCases.randomElement(using: &rng) ?? .requestSync,
                patterns: (0 ..< Int.random(in: 0 ... 3, using: &rng)).map { _ in string() },
                revisions: (0 ..< Int.random(in: 0 ... 3, using: &rng)).map { _ in .init(address: string(), revision: int()) },
                sinceRevision: maybe { $0.int() }, origin: maybe { $0.string() }))
        case .subscribe:
            var options: SubscribeOptions?
            if bool() {
                options = SubscribeOptions(maxRate: int(), epsilon: maybe { $0.finiteDouble() }, history: maybe { $0.int() }, window: maybe { $0.int() })
            }
            return .subscribe(Subscribe(id: int(), pattern: string(), types: mask(), options: options))
        case .unsubscribe:
            return .unsubscribe(Unsubscribe(id: int()))
        case .publish:
            var publish = Publish(address: string(), signal: signal(), phase: GesturePhase.allCases.randomElement(using: &rng) ?? .start,
                                  timestamp: maybe { $0.int() }, id: maybe { $0.int() }, rate: maybe { $0.int() })
            switch Int.random(in: 0 ..< 3, using: &rng) {
            case 0: publish.value = value()
            case 1: publish.samples = (0 ..< Int.random(in: 0 ... 5, using: &rng)).map { _ in finiteDouble() }
            default: break
            }
            return .publish(publish)
        case .set:
            let ttl: TTL? = maybe { g in
                switch Int.random(in: 0 ..< 3, using: &g.rng) {
                case 0: return .never
                case 1: return .sliding(seconds: UInt32.random(in: 1 ... 0x7FFF_FFFF, using: &g.rng))
                default: return .absolute(seconds: UInt32.random(in: 0 ... 0x7FFF_FFFF, using: &g.rng))
                }
            }
            return .set(SetMessage(address: string(), value: value(), revision: maybe { $0.int() }, lock: bool(), unlock: bool(), ttl: ttl))
        case .get:
            return .get(Get(address: string()))
        case .snapshot:
            return .snapshot(Snapshot(params: (0 ..< Int.random(in: 0 ... 3, using: &rng)).map { _ in
                ParamState(address: string(), value: value(), revision: int(), writer: maybe { $0.string() }, timestamp: maybe { $0.int() })
            }))
        case .replay:
            return .replay(Replay(pattern: string(), from: maybe { $0.int() }, to: maybe { $0.int() }, limit: maybe { $0.int() }, types: mask()))
        case .bundle:
            return .bundle(BundleMessage(timestamp: maybe { $0.int() },
                                         messages: (0 ..< Int.random(in: 0 ... 3, using: &rng)).map { _ in message(bundleDepth: bundleDepth + 1) }))
        case .sync:
            return .sync(Sync(t1: int(), t2: maybe { $0.int() }, t3: maybe { $0.int() }))
        case .ping: return .ping
        case .pong: return .pong
        case .ack:
            return .ack(Ack(address: maybe { $0.string() }, revision: maybe { $0.int() }, locked: maybe { $0.bool() },
                            holder: maybe { $0.string() }, correlationID: maybe { $0.int() }))
        case .error:
            return .error(ErrorMessage(code: int(), message: string(), address: maybe { $0.string() }, correlationID: maybe { $0.int() }))
        case .query:
            return .query(Query(pattern: string()))
        case .result:
            return .result(QueryResult(signals: (0 ..< Int.random(in: 0 ... 3, using: &rng)).map { _ in definition(withMeta: false) }))
        }
    }
}

/// `depth` arrays nested inside each other around a null.
func nestedArrays(_ depth: Int) -> Value {
    var v = Value.null
    for _ in 0 ..< depth { v = .array([v]) }
    return v
}

func nestedBundles(_ depth: Int) -> Message {
    var m = Message.ping
    for _ in 0 ..< depth { m = .bundle(BundleMessage(messages: [m])) }
    return m
}

@Suite("Round trips and encoder limits")
struct RoundTripTests {
    @Test("generated messages of every kind survive encode then decode unchanged")
    func generatedMessagesRoundTrip() throws {
        var gen = MessageGenerator(seed: 0xC1A5_0001)
        var seenKinds = Set<UInt8>()
        for i in 0 ..< 3_000 {
            let message = gen.message()
            seenKinds.insert(message.kind.rawValue)
            let qos = QoS.allCases[i % 3]
            let timestamp: UInt64? = i % 4 == 0 ? UInt64(i) * 1_000_003 : nil
            let frame = try message.encodedFrame(qos: qos, timestamp: timestamp)
            let decoded = try FrameCodec.decode(frame)
            #expect(decoded.message == message)
            #expect(decoded.header.qos == qos)
            #expect(decoded.header.timestamp == timestamp)
            #expect(decoded.header.version == 1)
            #expect(decoded.format == .binary)
            // Payload-only encoding is the frame minus its header.
            var payload: [UInt8] = [0xAA]
            try message.encodePayload(into: &payload)
            #expect(Array(payload.dropFirst()) == Array(frame.dropFirst(decoded.header.headerLength)))
            let fromPayload = try payload.dropFirst().withUnsafeBytes { raw throws(CodecError) in try FrameCodec.decodePayload(raw) }
            #expect(fromPayload == message)
            if decoded.message != message { break }
        }
        #expect(seenKinds.count == MessageKind.allCases.count)
    }

    @Test("encoders write the reference's default QoS when none is given")
    func defaultQoSFlags() throws {
        #expect(try Message.set(SetMessage(address: "/a", value: .int(1))).encodedFrame()[1] == 0x41)
        #expect(try SetMessage(address: "/a", value: .int(1)).encodedFrame()[1] == 0x41)
        #expect(try Message.bundle(BundleMessage(messages: [])).encodedFrame()[1] == 0x81)
        #expect(try Message.ping.encodedFrame()[1] == 0x01)
        #expect(try Publish(address: "/t", signal: .timeline).encodedFrame()[1] == 0x81)
        #expect(try Publish(address: "/s", signal: .stream).encodedFrame()[1] == 0x01)
        #expect(try Message.publish(Publish(address: "/e", signal: .event)).encodedFrame()[1] == 0x41)
        #expect(try Message.ping.encodedFrame(qos: .commit, timestamp: 7) == [0x53, 0xA1, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 7, 0x41])
    }

    @Test("fast-path SET and PUBLISH frames equal the Message encodings")
    func fastPathsMatchMessageEncoding() throws {
        var gen = MessageGenerator(seed: 77)
        for _ in 0 ..< 500 {
            let set = SetMessage(address: gen.string(), value: gen.value(), revision: gen.maybe { $0.int() })
            #expect(try set.encodedFrame(qos: .fire, timestamp: 9) == Message.set(set).encodedFrame(qos: .fire, timestamp: 9))
            #expect(try set.encodedFrame() == Message.set(set).encodedFrame())
            let publish = Publish(address: gen.string(), signal: gen.signal(), value: gen.value())
            #expect(try publish.encodedFrame() == Message.publish(publish).encodedFrame())
        }
    }

    @Test("SET TTL words: 0 never, bit 31 absolute, sliding otherwise")
    func ttlWords() throws {
        func ttlWord(_ ttl: TTL) throws -> [UInt8] { Array(try SetMessage(address: "", value: .null, ttl: ttl).encodedFrame().suffix(4)) }
        #expect(try ttlWord(.never) == [0, 0, 0, 0])
        #expect(try ttlWord(.sliding(seconds: 60)) == [0, 0, 0, 60])
        #expect(try ttlWord(.absolute(seconds: 0)) == [0x80, 0, 0, 0])
        #expect(try ttlWord(.absolute(seconds: 1800)) == [0x80, 0, 0x07, 0x08])
        let all = try SetMessage(address: "/a", value: .int(1), revision: 3, lock: true, unlock: true, ttl: .never).encodedFrame()
        #expect(all[5] == 0xF5)
    }

    @Test("value nesting up to the limit round-trips; one level more is refused both ways")
    func valueNestingLimit() throws {
        let limit = CodecLimits.maxValueDepth
        let deepest = SetMessage(address: "/d", value: nestedArrays(limit))
        #expect(try FrameCodec.decode(deepest.encodedFrame()).message == .set(deepest))
        let tooDeep = SetMessage(address: "/d", value: nestedArrays(limit + 1))
        #expect(throws: CodecError.nestingTooDeep(limit: limit)) { try tooDeep.encodedFrame() }
        // Hand-built bytes one level deeper than allowed: SET array, then `limit` more arrays.
        var payload: [UInt8] = [0x21, 0x0A, 0x00, 0x00]
        for _ in 0 ..< limit { payload += [0x00, 0x01, 0x0A] }
        payload += [0x00, 0x00]
        let frame = [0x53, 0x41, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)] + payload
        #expect(decodeResult(frame).failureValue == .nestingTooDeep(limit: limit))
        // The same with maps.
        var map = Value.null
        for _ in 0 ..< limit { map = .map([(key: "k", value: map)]) }
        #expect(try FrameCodec.decode(SetMessage(address: "/m", value: map).encodedFrame()).message == .set(SetMessage(address: "/m", value: map)))
        #expect(throws: CodecError.nestingTooDeep(limit: limit)) { try SetMessage(address: "/m", value: .map([(key: "k", value: map)])).encodedFrame() }
    }

    @Test("bundle nesting up to the limit round-trips; one level more is refused both ways")
    func bundleNestingLimit() throws {
        let limit = CodecLimits.maxBundleDepth
        let deepest = nestedBundles(limit)
        #expect(try FrameCodec.decode(deepest.encodedFrame()).message == deepest)
        #expect(throws: CodecError.nestingTooDeep(limit: limit)) { try nestedBundles(limit + 1).encodedFrame() }
        // Wrap the deepest allowed bundle's bytes in one more bundle by hand.
        var inner: [UInt8] = []
        try deepest.encodePayload(into: &inner)
        let payload: [UInt8] = [0x30, 0x00, 0x00, 0x01, UInt8(inner.count >> 8), UInt8(inner.count & 0xFF)] + inner
        let frame = [0x53, 0x81, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)] + payload
        #expect(decodeResult(frame).failureValue == .nestingTooDeep(limit: limit))
    }

    @Test("a 65,535-byte payload encodes and decodes; one byte more is refused")
    func maximumPayload() throws {
        let largest = SetMessage(address: "", value: .string(String(repeating: "x", count: 65_529)))
        let frame = try largest.encodedFrame(qos: .fire)
        #expect(frame.count == 4 + 65_535)
        #expect(frame[2] == 0xFF && frame[3] == 0xFF)
        #expect(try FrameCodec.decode(frame).message == .set(largest))
        let tooLarge = SetMessage(address: "/", value: .string(String(repeating: "x", count: 65_529)))
        #expect(throws: CodecError.payloadTooLarge(65_536)) { try tooLarge.encodedFrame() }
        var buffer: [UInt8] = [1, 2, 3]
        #expect(throws: CodecError.payloadTooLarge(65_536)) { try Message.set(tooLarge).encodePayload(into: &buffer) }
        #expect(buffer == [1, 2, 3])
    }

    @Test("strings, bytes, arrays and maps over 65,535 are refused with fieldTooLong")
    func oversizedFields() {
        let long = String(repeating: "y", count: 65_536)
        #expect(throws: CodecError.fieldTooLong(field: "SET address", length: 65_536)) { try SetMessage(address: long, value: .null).encodedFrame() }
        #expect(throws: CodecError.fieldTooLong(field: "string value", length: 65_536)) { try SetMessage(address: "", value: .string(long)).encodedFrame() }
        #expect(throws: CodecError.fieldTooLong(field: "bytes value", length: 65_536)) {
            try SetMessage(address: "", value: .bytes([UInt8](repeating: 0, count: 65_536))).encodedFrame()
        }
        #expect(throws: CodecError.fieldTooLong(field: "array value", length: 65_536)) {
            try SetMessage(address: "", value: .array([Value](repeating: .null, count: 65_536))).encodedFrame()
        }
        #expect(throws: CodecError.fieldTooLong(field: "map value", length: 65_536)) {
            try SetMessage(address: "", value: .map([(key: String, value: Value)](repeating: (key: "", value: .null), count: 65_536))).encodedFrame()
        }
        #expect(throws: CodecError.fieldTooLong(field: "PUBLISH samples", length: 65_536)) {
            try Publish(address: "", signal: .stream, samples: [Double](repeating: 0, count: 65_536)).encodedFrame()
        }
    }

    @Test("header parsing alone reports what is missing")
    func headerOnly() throws {
        func header(_ bytes: [UInt8]) -> Result<FrameHeader, CodecError> {
            bytes.withUnsafeBytes { raw in
                do throws(CodecError) { return .success(try FrameCodec.decodeHeader(raw)) } catch { return .failure(error) }
            }
        }
        #expect(header([]).failureValue == .headerTruncated(available: 0))
        #expect(header([0x53, 0x01, 0x00]).failureValue == .headerTruncated(available: 3))
        #expect(header([0x54, 0x01, 0x00, 0x01]).failureValue == .badMagic(0x54))
        #expect(header([0x53, 0x21, 0x00, 0x01, 0, 0, 0]).failureValue == .timestampTruncated(available: 3))
        let h = try header([0x53, 0xE9, 0x01, 0x02, 0, 0, 0, 0, 0, 0, 0x01, 0x00]).get()
        #expect(h == FrameHeader(qos: .fire, timestamp: 256, encrypted: false, compressed: true, version: 1, payloadLength: 258))
        #expect(h.frameLength == 270)
        #expect(decodeResult([]).failureValue == .emptyInput)
        #expect(decodeResult([0x53, 0x01, 0x00, 0x00]).failureValue == .emptyPayload)
        #expect(decodeResult([0x53, 0x01, 0x00, 0x03, 0x41]).failureValue == .payloadTruncated(declared: 3, available: 1))
    }

    @Test("decoder errors name the field that was cut or wrong")
    func errorsNameTheField() {
        #expect(decodeResult(Hex.decode("53410006218000022f61")).failureValue == .truncated(field: "SET revision"))
        #expect(decodeResult(Hex.decode("5341000e21050002c3280000000000000001")).failureValue == .invalidUTF8(field: "SET address"))
        #expect(decodeResult(Hex.decode("5341000e210c00022f610000000000000000")).failureValue == .unknownValueType(0x0C, field: "SET value"))
        #expect(decodeResult(Hex.decode("5301000104")).failureValue == .truncated(field: "FEDERATION_SYNC op"))
        #expect(decodeResult(Hex.decode("5301000105")).failureValue == .unknownMessageType(0x05))
    }
}

// Dispatch between `Message` and the per-kind layouts in `<Message>+Binary.swift`.

extension Message {
    /// Complete frame (header + payload). `qos` nil → the reference's default
    /// (`Message.defaultQoS`). Version bits 1; the timestamp flag is set when `timestamp`
    /// is given.
    public func encodedFrame(qos: QoS? = nil, timestamp: UInt64? = nil) throws(CodecError) -> [UInt8] {
        let qos = qos ?? defaultQoS
        switch self {
        case .hello(let m): return try m.binaryFrame(qos: qos, timestamp: timestamp)
        case .welcome(let m): return try m.binaryFrame(qos: qos, timestamp: timestamp)
        case .announce(let m): return try m.binaryFrame(qos: qos, timestamp: timestamp)
        case .federationSync(let m): return try m.binaryFrame(qos: qos, timestamp: timestamp)
        case .subscribe(let m): return try m.binaryFrame(qos: qos, timestamp: timestamp)
        case .unsubscribe(let m): return try m.binaryFrame(qos: qos, timestamp: timestamp)
        case .publish(let m): return try m.binaryFrame(qos: qos, timestamp: timestamp)
        case .set(let m): return try m.binaryFrame(qos: qos, timestamp: timestamp)
        case .get(let m): return try m.binaryFrame(qos: qos, timestamp: timestamp)
        case .snapshot(let m): return try m.binaryFrame(qos: qos, timestamp: timestamp)
        case .replay(let m): return try m.binaryFrame(qos: qos, timestamp: timestamp)
        case .bundle(let m): return try m.binaryFrame(qos: qos, timestamp: timestamp)
        case .sync(let m): return try m.binaryFrame(qos: qos, timestamp: timestamp)
        case .ping: return try TypeOnly(kind: .ping).binaryFrame(qos: qos, timestamp: timestamp)
        case .pong: return try TypeOnly(kind: .pong).binaryFrame(qos: qos, timestamp: timestamp)
        case .ack(let m): return try m.binaryFrame(qos: qos, timestamp: timestamp)
        case .error(let m): return try m.binaryFrame(qos: qos, timestamp: timestamp)
        case .query(let m): return try m.binaryFrame(qos: qos, timestamp: timestamp)
        case .result(let m): return try m.binaryFrame(qos: qos, timestamp: timestamp)
        }
    }

    /// Payload only (type byte first), appended to `buffer`. Throws `.payloadTooLarge` over
    /// 65,535 bytes (nothing is appended then).
    public func encodePayload(into buffer: inout [UInt8]) throws(CodecError) {
        switch self {
        case .hello(let m): try m.appendBinaryPayload(to: &buffer)
        case .welcome(let m): try m.appendBinaryPayload(to: &buffer)
        case .announce(let m): try m.appendBinaryPayload(to: &buffer)
        case .federationSync(let m): try m.appendBinaryPayload(to: &buffer)
        case .subscribe(let m): try m.appendBinaryPayload(to: &buffer)
        case .unsubscribe(let m): try m.appendBinaryPayload(to: &buffer)
        case .publish(let m): try m.appendBinaryPayload(to: &buffer)
        case .set(let m): try m.appendBinaryPayload(to: &buffer)
        case .get(let m): try m.appendBinaryPayload(to: &buffer)
        case .snapshot(let m): try m.appendBinaryPayload(to: &buffer)
        case .replay(let m): try m.appendBinaryPayload(to: &buffer)
        case .bundle(let m): try m.appendBinaryPayload(to: &buffer)
        case .sync(let m): try m.appendBinaryPayload(to: &buffer)
        case .ping: try TypeOnly(kind: .ping).appendBinaryPayload(to: &buffer)
        case .pong: try TypeOnly(kind: .pong).appendBinaryPayload(to: &buffer)
        case .ack(let m): try m.appendBinaryPayload(to: &buffer)
        case .error(let m): try m.appendBinaryPayload(to: &buffer)
        case .query(let m): try m.appendBinaryPayload(to: &buffer)
        case .result(let m): try m.appendBinaryPayload(to: &buffer)
        }
    }

    /// Payload size including the type byte (used for BUNDLE inner messages).
    func binaryPayloadSize(bundleDepth: Int) throws(CodecError) -> Int {
        switch self {
        case .hello(let m): return try m.binaryPayloadSize(bundleDepth: bundleDepth)
        case .welcome(let m): return try m.binaryPayloadSize(bundleDepth: bundleDepth)
        case .announce(let m): return try m.binaryPayloadSize(bundleDepth: bundleDepth)
        case .federationSync(let m): return try m.binaryPayloadSize(bundleDepth: bundleDepth)
        case .subscribe(let m): return try m.binaryPayloadSize(bundleDepth: bundleDepth)
        case .unsubscribe(let m): return try m.binaryPayloadSize(bundleDepth: bundleDepth)
        case .publish(let m): return try m.binaryPayloadSize(bundleDepth: bundleDepth)
        case .set(let m): return try m.binaryPayloadSize(bundleDepth: bundleDepth)
        case .get(let m): return try m.binaryPayloadSize(bundleDepth: bundleDepth)
        case .snapshot(let m): return try m.binaryPayloadSize(bundleDepth: bundleDepth)
        case .replay(let m): return try m.binaryPayloadSize(bundleDepth: bundleDepth)
        case .bundle(let m): return try m.binaryPayloadSize(bundleDepth: bundleDepth)
        case .sync(let m): return try m.binaryPayloadSize(bundleDepth: bundleDepth)
        case .ping, .pong: return 1
        case .ack(let m): return try m.binaryPayloadSize(bundleDepth: bundleDepth)
        case .error(let m): return try m.binaryPayloadSize(bundleDepth: bundleDepth)
        case .query(let m): return try m.binaryPayloadSize(bundleDepth: bundleDepth)
        case .result(let m): return try m.binaryPayloadSize(bundleDepth: bundleDepth)
        }
    }

    func writeBinaryPayload(to w: inout WireWriter) {
        switch self {
        case .hello(let m): m.writeBinaryPayload(to: &w)
        case .welcome(let m): m.writeBinaryPayload(to: &w)
        case .announce(let m): m.writeBinaryPayload(to: &w)
        case .federationSync(let m): m.writeBinaryPayload(to: &w)
        case .subscribe(let m): m.writeBinaryPayload(to: &w)
        case .unsubscribe(let m): m.writeBinaryPayload(to: &w)
        case .publish(let m): m.writeBinaryPayload(to: &w)
        case .set(let m): m.writeBinaryPayload(to: &w)
        case .get(let m): m.writeBinaryPayload(to: &w)
        case .snapshot(let m): m.writeBinaryPayload(to: &w)
        case .replay(let m): m.writeBinaryPayload(to: &w)
        case .bundle(let m): m.writeBinaryPayload(to: &w)
        case .sync(let m): m.writeBinaryPayload(to: &w)
        case .ping: w.u8(MessageKind.ping.rawValue)
        case .pong: w.u8(MessageKind.pong.rawValue)
        case .ack(let m): m.writeBinaryPayload(to: &w)
        case .error(let m): m.writeBinaryPayload(to: &w)
        case .query(let m): m.writeBinaryPayload(to: &w)
        case .result(let m): m.writeBinaryPayload(to: &w)
        }
    }

    /// Reads a binary payload, type byte first.
    @inline(__always)
    static func readBinaryPayload(from r: inout WireReader, bundleDepth: Int) throws(CodecError) -> Message {
        let code = try r.u8("message type")
        // Hottest kinds first; the rest via `MessageKind`.
        if code == MessageKind.set.rawValue { return .set(try SetMessage.readBinaryBody(from: &r, bundleDepth: bundleDepth)) }
        if code == MessageKind.publish.rawValue { return .publish(try Publish.readBinaryBody(from: &r, bundleDepth: bundleDepth)) }
        guard let kind = MessageKind(rawValue: code) else { throw .unknownMessageType(code) }
        switch kind {
        case .hello: return .hello(try Hello.readBinaryBody(from: &r, bundleDepth: bundleDepth))
        case .welcome: return .welcome(try Welcome.readBinaryBody(from: &r, bundleDepth: bundleDepth))
        case .announce: return .announce(try Announce.readBinaryBody(from: &r, bundleDepth: bundleDepth))
        case .federationSync: return .federationSync(try FederationSync.readBinaryBody(from: &r, bundleDepth: bundleDepth))
        case .subscribe: return .subscribe(try Subscribe.readBinaryBody(from: &r, bundleDepth: bundleDepth))
        case .unsubscribe: return .unsubscribe(try Unsubscribe.readBinaryBody(from: &r, bundleDepth: bundleDepth))
        case .publish: return .publish(try Publish.readBinaryBody(from: &r, bundleDepth: bundleDepth))
        case .set: return .set(try SetMessage.readBinaryBody(from: &r, bundleDepth: bundleDepth))
        case .get: return .get(try Get.readBinaryBody(from: &r, bundleDepth: bundleDepth))
        case .snapshot: return .snapshot(try Snapshot.readBinaryBody(from: &r, bundleDepth: bundleDepth))
        case .replay: return .replay(try Replay.readBinaryBody(from: &r, bundleDepth: bundleDepth))
        case .bundle: return .bundle(try BundleMessage.readBinaryBody(from: &r, bundleDepth: bundleDepth))
        case .sync: return .sync(try Sync.readBinaryBody(from: &r, bundleDepth: bundleDepth))
        case .ping: return .ping
        case .pong: return .pong
        case .ack: return .ack(try Ack.readBinaryBody(from: &r, bundleDepth: bundleDepth))
        case .error: return .error(try ErrorMessage.readBinaryBody(from: &r, bundleDepth: bundleDepth))
        case .query: return .query(try Query.readBinaryBody(from: &r, bundleDepth: bundleDepth))
        case .result: return .result(try QueryResult.readBinaryBody(from: &r, bundleDepth: bundleDepth))
        }
    }
}

/// PING and PONG: the type byte alone (wire-format §3.14).
struct TypeOnly: BinaryLayout {
    var kind: MessageKind
    static var binaryKind: MessageKind { .ping }
    func binaryPayloadSize(bundleDepth: Int) throws(CodecError) -> Int { 1 }
    func writeBinaryPayload(to w: inout WireWriter) { w.u8(kind.rawValue) }
    static func readBinaryBody(from r: inout WireReader, bundleDepth: Int) throws(CodecError) -> TypeOnly { TypeOnly(kind: binaryKind) }
}

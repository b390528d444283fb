import CLASP
import NIOCore

/// How a client reaches the broker under test.
enum Wire: String, CaseIterable, Sendable {
    case websocket, tcp, mqtt
}

/// What a load session understood of one inbound frame or packet.
enum Inbound {
    /// WELCOME or CONNACK.
    case ready
    case delivery(seq: UInt64, sentAt: UInt64)
    /// A SNAPSHOT with this many params.
    case snapshot(params: Int)
    /// PONG or PINGRESP: everything sent before the ping has been processed.
    case pong
    case ack
    case refused(String)
    case other
}

/// What a published message is, on CLASP.
enum PublishKind: String, CaseIterable, Sendable {
    /// PUBLISH of an event: never coalesced, so every one must arrive.
    case event
    /// SET of a param: a subscriber that falls behind gets the latest value (coalesced).
    case set
}

/// The 16 payload bytes of every load message: its sequence number and the publisher's send
/// time (CLOCK_MONOTONIC ns; publisher and subscribers share the process), both big-endian.
enum DeliveryPayload {
    static let bytes = 16

    static func write(seq: UInt64, sentAt: UInt64, into buffer: inout ByteBuffer) {
        buffer.writeInteger(seq, endianness: .big)
        buffer.writeInteger(sentAt, endianness: .big)
    }

    static func read(_ buffer: ByteBuffer) -> (seq: UInt64, sentAt: UInt64)? {
        guard buffer.readableBytes == bytes,
            let seq = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt64.self),
            let sentAt = buffer.getInteger(at: buffer.readerIndex + 8, endianness: .big, as: UInt64.self)
        else { return nil }
        return (seq, sentAt)
    }

    static func read(_ bytes: [UInt8]) -> (seq: UInt64, sentAt: UInt64)? {
        guard bytes.count == Self.bytes else { return nil }
        var buffer = ByteBuffer()
        buffer.writeBytes(bytes)
        return read(buffer)
    }
}

/// The messages of one protocol, as frames for the framing handler (CLASP) or whole packets
/// (MQTT).
struct Dialect: Sendable {
    let wire: Wire
    let kind: PublishKind
    let qos: QoS

    var isMQTT: Bool { wire == .mqtt }

    func hello(name: String, allocator: ByteBufferAllocator) throws -> ByteBuffer {
        if isMQTT { return MQTTPackets.connect(clientID: name, allocator: allocator) }
        return buffer(try Message.hello(Hello(features: .allSignals, name: name)).encodedFrame(), allocator)
    }

    func subscribe(index: Int, pattern: String, allocator: ByteBufferAllocator) throws -> ByteBuffer {
        if isMQTT { return MQTTPackets.subscribe(packetID: UInt16(index % 65_535 + 1), filter: pattern, allocator: allocator) }
        return buffer(try Message.subscribe(Subscribe(id: UInt32(index + 1), pattern: pattern)).encodedFrame(), allocator)
    }

    func ping(allocator: ByteBufferAllocator) throws -> ByteBuffer {
        if isMQTT { return MQTTPackets.pingRequest(allocator: allocator) }
        return buffer(try Message.ping.encodedFrame(), allocator)
    }

    func publish(address: String, seq: UInt64, sentAt: UInt64, allocator: ByteBufferAllocator) throws -> ByteBuffer {
        var payload = allocator.buffer(capacity: DeliveryPayload.bytes)
        DeliveryPayload.write(seq: seq, sentAt: sentAt, into: &payload)
        if isMQTT { return MQTTPackets.publish(topic: address, payload: payload, allocator: allocator) }
        let value = Value.bytes(Array(payload.readableBytesView))
        let frame: [UInt8]
        switch kind {
        case .event: frame = try Publish(address: address, signal: .event, value: value).encodedFrame(qos: qos)
        case .set: frame = try SetMessage(address: address, value: value).encodedFrame(qos: qos)
        }
        return buffer(frame, allocator)
    }

    /// A SET of a float, for filling the address table.
    func preload(address: String, value: Double, allocator: ByteBufferAllocator) throws -> ByteBuffer {
        buffer(try SetMessage(address: address, value: .float(value)).encodedFrame(), allocator)
    }

    func parse(_ frame: ByteBuffer) -> Inbound {
        if isMQTT { return MQTTPackets.parse(frame) }
        let decoded: DecodedFrame
        do {
            decoded = try frame.withUnsafeReadableBytes { bytes throws(CodecError) in try FrameCodec.decode(bytes) }
        } catch {
            return .refused("undecodable CLASP frame: \(error)")
        }
        switch decoded.message {
        case .welcome: return .ready
        case .publish(let publish):
            guard case .bytes(let bytes)? = publish.value, let payload = DeliveryPayload.read(bytes) else { return .other }
            return .delivery(seq: payload.seq, sentAt: payload.sentAt)
        case .set(let set):
            guard case .bytes(let bytes) = set.value, let payload = DeliveryPayload.read(bytes) else { return .other }
            return .delivery(seq: payload.seq, sentAt: payload.sentAt)
        case .snapshot(let snapshot): return .snapshot(params: snapshot.params.count)
        case .pong: return .pong
        case .ack: return .ack
        case .error(let error): return .refused("ERROR \(error)")
        default: return .other
        }
    }

    /// The address of message `index` and the pattern of subscription `index`, in the
    /// dialect's syntax: `/bench/<i>/v` with `/bench/<i>/*` or `/**`; MQTT `bench/<i>/v` with
    /// `+` or `#`.
    func address(_ index: Int) -> String { isMQTT ? "bench/\(index)/v" : "/bench/\(index)/v" }

    func pattern(_ index: Int, _ form: PatternForm) -> String {
        switch (form, isMQTT) {
        case (.exact, _): return address(index)
        case (.single, false): return "/bench/\(index)/*"
        case (.multi, false): return "/bench/\(index)/**"
        case (.single, true): return "bench/\(index)/+"
        case (.multi, true): return "bench/\(index)/#"
        }
    }

    private func buffer(_ bytes: [UInt8], _ allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        return buffer
    }
}

/// How a subscription names its address.
enum PatternForm: String, CaseIterable, Sendable {
    case exact, single, multi
}

enum LoadError: Error, CustomStringConvertible {
    case protocolViolation(String)
    case refused(String)
    case badOption(String)

    var description: String {
        switch self {
        case .protocolViolation(let what): "protocol violation: \(what)"
        case .refused(let what): "refused: \(what)"
        case .badOption(let what): what
        }
    }
}

import NIOCore

/// The MQTT 3.1.1 packets the load tool needs, client side: CONNECT, SUBSCRIBE, PUBLISH at
/// QoS 0 and PINGREQ out; CONNACK, SUBACK, PUBLISH and PINGRESP in.
enum MQTTPackets {
    static func connect(clientID: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        var body = allocator.buffer(capacity: 16 + clientID.utf8.count)
        writeString("MQTT", to: &body)
        body.writeInteger(UInt8(4))  // protocol level 3.1.1
        body.writeInteger(UInt8(0x02))  // clean session
        body.writeInteger(UInt16(0))  // keep-alive off: runs are short and the broker is local
        writeString(clientID, to: &body)
        return packet(type: 0x10, body: body, allocator: allocator)
    }

    static func subscribe(packetID: UInt16, filter: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        var body = allocator.buffer(capacity: 5 + filter.utf8.count)
        body.writeInteger(packetID)
        writeString(filter, to: &body)
        body.writeInteger(UInt8(0))  // requested QoS 0
        return packet(type: 0x82, body: body, allocator: allocator)
    }

    static func publish(topic: String, payload: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var body = allocator.buffer(capacity: 2 + topic.utf8.count + payload.readableBytes)
        writeString(topic, to: &body)
        var payload = payload
        body.writeBuffer(&payload)
        return packet(type: 0x30, body: body, allocator: allocator)
    }

    static func pingRequest(allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 2)
        buffer.writeBytes([0xC0, 0x00])
        return buffer
    }

    /// What a whole inbound packet (fixed header included) means to a load session.
    static func parse(_ packet: ByteBuffer) -> Inbound {
        var packet = packet
        guard let first: UInt8 = packet.readInteger(), readRemainingLength(&packet) != nil else {
            return .refused("malformed MQTT packet")
        }
        switch first >> 4 {
        case 2:  // CONNACK: flags, return code
            guard let code: UInt8 = packet.getInteger(at: packet.readerIndex + 1) else { return .refused("short CONNACK") }
            return code == 0 ? .ready : .refused("CONNACK return code \(code)")
        case 9:  // SUBACK: packet id, one return code per filter
            packet.moveReaderIndex(forwardBy: 2)
            let codes = packet.readBytes(length: packet.readableBytes) ?? []
            return codes.contains(0x80) ? .refused("SUBACK refused a filter") : .other
        case 3:  // PUBLISH (QoS 0: no packet id)
            guard let topicLength: UInt16 = packet.readInteger() else { return .refused("short PUBLISH") }
            packet.moveReaderIndex(forwardBy: Int(topicLength))
            return DeliveryPayload.read(packet).map { .delivery(seq: $0.seq, sentAt: $0.sentAt) } ?? .other
        case 13:
            return .pong
        default:
            return .other
        }
    }

    private static func packet(type: UInt8, body: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 5 + body.readableBytes)
        buffer.writeInteger(type)
        var length = body.readableBytes
        repeat {
            var byte = UInt8(length & 0x7F)
            length >>= 7
            if length > 0 { byte |= 0x80 }
            buffer.writeInteger(byte)
        } while length > 0
        var body = body
        buffer.writeBuffer(&body)
        return buffer
    }

    private static func writeString(_ string: String, to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt16(string.utf8.count))
        buffer.writeString(string)
    }

    /// The variable-length "remaining length" (1–4 bytes); nil if incomplete or too long.
    static func readRemainingLength(_ buffer: inout ByteBuffer) -> Int? {
        var value = 0
        for shift in stride(from: 0, to: 28, by: 7) {
            guard let byte: UInt8 = buffer.readInteger() else { return nil }
            value |= Int(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
        }
        return nil
    }
}

/// Splits the byte stream into whole MQTT packets.
struct MQTTPacketDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        var peek = buffer
        guard peek.readInteger(as: UInt8.self) != nil, let length = MQTTPackets.readRemainingLength(&peek) else {
            if buffer.readableBytes >= 5 { throw LoadError.protocolViolation("MQTT remaining length over 4 bytes") }
            return .needMoreData
        }
        let total = peek.readerIndex - buffer.readerIndex + length
        guard let packet = buffer.readSlice(length: total) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(packet))
        return .continue
    }
}

/// Frame decoding (wire-format §1) and the header writer shared by every encoder.
public enum FrameCodec {
    // Frame flags (§1.2).
    static let qosMask: UInt8 = 0xC0
    static let timestampBit: UInt8 = 0x20
    static let encryptedBit: UInt8 = 0x10
    static let compressedBit: UInt8 = 0x08
    static let versionMask: UInt8 = 0x07
    /// Version bits written by every encoder here: binary.
    static let binaryVersion: UInt8 = 1

    /// Decodes one complete frame. Bytes after `header + payload length` are ignored (§1.4).
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(CodecError) -> DecodedFrame {
        try decodeFrame(bytes)
    }

    @inline(__always)
    static func decodeFrame(_ bytes: UnsafeRawBufferPointer) throws(CodecError) -> DecodedFrame {
        guard !bytes.isEmpty else { throw .emptyInput }
        let header = try parseHeader(bytes)
        let start = header.headerLength
        let available = bytes.count &- start
        guard header.payloadLength <= available else {
            throw .payloadTruncated(declared: header.payloadLength, available: available)
        }
        guard header.payloadLength > 0 else { throw .emptyPayload }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[start ..< start &+ header.payloadLength])
        if isLegacyMarker(payload[0]) {
            return DecodedFrame(header: header, message: try LegacyMessagePack.decodeMessage(payload), format: .legacyMessagePack)
        }
        var reader = WireReader(payload)
        let message = try Message.readBinaryPayload(from: &reader, bundleDepth: 0)
        return DecodedFrame(header: header, message: message, format: .binary)
    }

    /// Decodes one complete frame held in an array.
    public static func decode(_ bytes: [UInt8]) throws(CodecError) -> DecodedFrame {
        // `Array.withUnsafeBytes` only rethrows untyped errors: the error is boxed on the way
        // out (failure path only) and unboxed here.
        do {
            return try bytes.withUnsafeBytes { raw in try decodeFrame(raw) }
        } catch let error as CodecError {
            throw error
        } catch {
            throw .legacy("unexpected error \(error)")  // not reachable: decodeFrame throws only CodecError
        }
    }

    /// Parses only the header (for stream transports that delimit frames by it): needs
    /// ≥ 4 bytes (12 with the timestamp flag). Throws `.headerTruncated` /
    /// `.timestampTruncated` when more bytes are needed, `.badMagic` when the first byte is
    /// not 0x53. QoS 3 (reserved) reads as `fire`.
    public static func decodeHeader(_ bytes: UnsafeRawBufferPointer) throws(CodecError) -> FrameHeader {
        try parseHeader(bytes)
    }

    @inline(__always)
    static func parseHeader(_ bytes: UnsafeRawBufferPointer) throws(CodecError) -> FrameHeader {
        if let first = bytes.first, first != FrameHeader.magic { throw .badMagic(first) }
        guard bytes.count >= CodecLimits.headerLength else { throw .headerTruncated(available: bytes.count) }
        let flags = bytes[1]
        let length = Int(UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
        var timestamp: UInt64?
        if flags & timestampBit != 0 {
            guard bytes.count >= CodecLimits.timestampedHeaderLength else {
                throw .timestampTruncated(available: bytes.count &- CodecLimits.headerLength)
            }
            timestamp = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt64.self))
        }
        return FrameHeader(
            qos: QoS(rawValue: (flags & qosMask) >> 6) ?? .fire,
            timestamp: timestamp,
            encrypted: flags & encryptedBit != 0,
            compressed: flags & compressedBit != 0,
            version: flags & versionMask,
            payloadLength: length)
    }

    /// Payload only (type byte first): binary, or legacy MessagePack when the first byte is
    /// a MessagePack map marker. Trailing bytes are ignored.
    public static func decodePayload(_ payload: UnsafeRawBufferPointer) throws(CodecError) -> Message {
        guard let first = payload.first else { throw .emptyPayload }
        if isLegacyMarker(first) { return try LegacyMessagePack.decodeMessage(payload) }
        var reader = WireReader(payload)
        return try Message.readBinaryPayload(from: &reader, bundleDepth: 0)
    }

    /// MessagePack fixmap (0x80-0x8F), map16 (0xDE) or map32 (0xDF): a legacy payload (§1.3).
    @inlinable
    static func isLegacyMarker(_ byte: UInt8) -> Bool {
        byte & 0xF0 == 0x80 || byte == 0xDE || byte == 0xDF
    }

    /// 4- or 12-byte header; flags = QoS | timestamp bit | version 1.
    @usableFromInline
    static func writeHeader(to w: inout WireWriter, qos: QoS, timestamp: UInt64?, payloadLength: Int) {
        w.u8(FrameHeader.magic)
        w.u8(qos.rawValue << 6 | flag(timestamp != nil, timestampBit) | binaryVersion)
        w.u16(UInt16(truncatingIfNeeded: payloadLength))
        if let timestamp { w.u64(timestamp) }
    }
}

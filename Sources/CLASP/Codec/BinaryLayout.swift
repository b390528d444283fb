/// One message kind's binary layout (wire-format §3). Each conforming type keeps its whole
/// layout — size, write, read — in one file, `<Message>+Binary.swift`; nothing else encodes
/// or decodes that message.
@usableFromInline
protocol BinaryLayout {
    static var binaryKind: MessageKind { get }
    /// Payload size including the type byte. Rejects strings, bytes and counts over 65,535
    /// and nesting over the limits, so that writing afterwards cannot fail.
    func binaryPayloadSize(bundleDepth: Int) throws(CodecError) -> Int
    /// Writes the payload, type byte first, into exactly `binaryPayloadSize` bytes.
    func writeBinaryPayload(to w: inout WireWriter)
    /// Reads the fields after the type byte. Trailing bytes are left unread (§1.4).
    static func readBinaryBody(from r: inout WireReader, bundleDepth: Int) throws(CodecError) -> Self
}

extension BinaryLayout {
    /// Header + payload in one exactly-sized allocation.
    @usableFromInline
    func binaryFrame(qos: QoS, timestamp: UInt64?) throws(CodecError) -> [UInt8] {
        let payloadSize = try binaryPayloadSize(bundleDepth: 0)
        guard payloadSize <= CodecLimits.maxPayloadLength else { throw .payloadTooLarge(payloadSize) }
        let headerSize = timestamp == nil ? CodecLimits.headerLength : CodecLimits.timestampedHeaderLength
        let total = headerSize &+ payloadSize
        // Written into scratch memory (the stack for small frames), then copied into an exactly
        // sized array. On Linux `Array(unsafeUninitializedCapacity:)` runs unspecialised in the
        // standard library and looks up the storage class's metadata on every call (≈ 20 ns of
        // a SET encode); the sequence initialiser used here is specialised and just copies.
        return withUnsafeTemporaryAllocation(byteCount: total, alignment: 8) { raw in
            guard let base = raw.baseAddress else { return [] }
            var w = WireWriter(base)
            FrameCodec.writeHeader(to: &w, qos: qos, timestamp: timestamp, payloadLength: payloadSize)
            writeBinaryPayload(to: &w)
            assert(w.offset == total, "encoder size mismatch for \(Self.binaryKind.name)")
            return [UInt8](UnsafeRawBufferPointer(raw))
        }
    }

    /// Payload only, appended to `buffer`.
    @usableFromInline
    func appendBinaryPayload(to buffer: inout [UInt8]) throws(CodecError) {
        let payloadSize = try binaryPayloadSize(bundleDepth: 0)
        guard payloadSize <= CodecLimits.maxPayloadLength else { throw .payloadTooLarge(payloadSize) }
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: payloadSize))
        buffer.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            var w = WireWriter(base, offset: start)
            writeBinaryPayload(to: &w)
            assert(w.offset == start + payloadSize, "encoder size mismatch for \(Self.binaryKind.name)")
        }
    }
}

/// Option bit helper for flag bytes.
@inlinable
func flag(_ condition: Bool, _ bit: UInt8) -> UInt8 { condition ? bit : 0 }

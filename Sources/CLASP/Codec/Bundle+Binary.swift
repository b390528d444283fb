// BUNDLE (0x30), wire-format §3.12: flags u8 (0x80 timestamp), u16 count, timestamp u64,
// then count × (u16 length + binary payload). Inner payloads are always binary; bundles
// nest at most `CodecLimits.maxBundleDepth` deep.

extension BundleMessage: BinaryLayout {
    @usableFromInline static var binaryKind: MessageKind { .bundle }

    static let timestampBit: UInt8 = 0x80

    @usableFromInline
    func binaryPayloadSize(bundleDepth: Int) throws(CodecError) -> Int {
        guard bundleDepth < CodecLimits.maxBundleDepth else { throw .nestingTooDeep(limit: CodecLimits.maxBundleDepth) }
        try WireSize.count(messages.count, "BUNDLE message count")
        var size = 4
        if timestamp != nil { size &+= 8 }
        for message in messages {
            let inner = try message.binaryPayloadSize(bundleDepth: bundleDepth &+ 1)
            guard inner <= CodecLimits.maxPayloadLength else { throw .fieldTooLong(field: "BUNDLE inner message", length: inner) }
            size &+= 2 &+ inner
        }
        return size
    }

    @usableFromInline
    func writeBinaryPayload(to w: inout WireWriter) {
        w.u8(Self.binaryKind.rawValue)
        w.u8(flag(timestamp != nil, Self.timestampBit))
        w.u16(UInt16(truncatingIfNeeded: messages.count))
        if let timestamp { w.u64(timestamp) }
        for message in messages {
            // Reserve the length, write the message, then fill in what was written.
            let lengthOffset = w.offset
            w.u16(0)
            message.writeBinaryPayload(to: &w)
            let length = UInt16(truncatingIfNeeded: w.offset &- lengthOffset &- 2)
            w.base.storeBytes(of: length.bigEndian, toByteOffset: lengthOffset, as: UInt16.self)
        }
    }

    @usableFromInline
    static func readBinaryBody(from r: inout WireReader, bundleDepth: Int) throws(CodecError) -> BundleMessage {
        guard bundleDepth < CodecLimits.maxBundleDepth else { throw .nestingTooDeep(limit: CodecLimits.maxBundleDepth) }
        let flags = try r.u8("BUNDLE flags")
        // Each inner message takes at least its length and its type byte.
        let n = try r.count("BUNDLE message count", minimumElementSize: 3)
        let timestamp = flags & timestampBit != 0 ? try r.u64("BUNDLE timestamp") : nil
        var messages: [Message] = []
        messages.reserveCapacity(n)
        for _ in 0 ..< n {
            let length = Int(try r.u16("BUNDLE inner message length"))
            let inner = try r.rawBytes(length, "BUNDLE inner message")
            guard let first = inner.first else { throw .truncated(field: "BUNDLE inner message") }
            if FrameCodec.isLegacyMarker(first) {
                throw .legacy("MessagePack inner message in a binary BUNDLE (only binary payloads are allowed there)")
            }
            var innerReader = WireReader(inner)
            messages.append(try Message.readBinaryPayload(from: &innerReader, bundleDepth: bundleDepth &+ 1))
        }
        return BundleMessage(timestamp: timestamp, messages: messages)
    }
}

// SNAPSHOT (0x23), wire-format §3.10: u16 count, then per param: address str, typed value,
// revision u64, flags u8 (0x01 writer, 0x02 timestamp), writer str, timestamp u64.

extension Snapshot: BinaryLayout {
    @usableFromInline static var binaryKind: MessageKind { .snapshot }

    static let writerBit: UInt8 = 0x01
    static let timestampBit: UInt8 = 0x02

    @usableFromInline
    func binaryPayloadSize(bundleDepth: Int) throws(CodecError) -> Int {
        try WireSize.count(params.count, "SNAPSHOT param count")
        var size = 3
        for p in params {
            size &+= 9 &+ (try WireSize.string(p.address, "SNAPSHOT address")) &+ (try p.value.binarySize())
            if let writer = p.writer { size &+= try WireSize.string(writer, "SNAPSHOT writer") }
            if p.timestamp != nil { size &+= 8 }
        }
        return size
    }

    @usableFromInline
    func writeBinaryPayload(to w: inout WireWriter) {
        w.u8(Self.binaryKind.rawValue)
        w.u16(UInt16(truncatingIfNeeded: params.count))
        for p in params {
            w.string(p.address)
            p.value.write(to: &w)
            w.u64(p.revision)
            w.u8(flag(p.writer != nil, Self.writerBit) | flag(p.timestamp != nil, Self.timestampBit))
            if let writer = p.writer { w.string(writer) }
            if let timestamp = p.timestamp { w.u64(timestamp) }
        }
    }

    @usableFromInline
    static func readBinaryBody(from r: inout WireReader, bundleDepth: Int) throws(CodecError) -> Snapshot {
        // Each param takes at least address length + type code + revision + flags.
        let n = try r.count("SNAPSHOT param count", minimumElementSize: 12)
        var params: [ParamState] = []
        params.reserveCapacity(n)
        for _ in 0 ..< n {
            let address = try r.string("SNAPSHOT address")
            let value = try Value.read(from: &r, field: "SNAPSHOT value")
            let revision = try r.u64("SNAPSHOT revision")
            let flags = try r.u8("SNAPSHOT param flags")
            let writer = flags & writerBit != 0 ? try r.string("SNAPSHOT writer") : nil
            let timestamp = flags & timestampBit != 0 ? try r.u64("SNAPSHOT timestamp") : nil
            params.append(ParamState(address: address, value: value, revision: revision, writer: writer, timestamp: timestamp))
        }
        return Snapshot(params: params)
    }
}

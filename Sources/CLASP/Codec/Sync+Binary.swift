// SYNC (0x40), wire-format §3.13: flags u8 (0x01 t2, 0x02 t3), t1 u64, t2 u64, t3 u64.

extension Sync: BinaryLayout {
    @usableFromInline static var binaryKind: MessageKind { .sync }

    static let t2Bit: UInt8 = 0x01
    static let t3Bit: UInt8 = 0x02

    @usableFromInline
    func binaryPayloadSize(bundleDepth: Int) throws(CodecError) -> Int {
        10 &+ (t2 == nil ? 0 : 8) &+ (t3 == nil ? 0 : 8)
    }

    @usableFromInline
    func writeBinaryPayload(to w: inout WireWriter) {
        w.u8(Self.binaryKind.rawValue)
        w.u8(flag(t2 != nil, Self.t2Bit) | flag(t3 != nil, Self.t3Bit))
        w.u64(t1)
        if let t2 { w.u64(t2) }
        if let t3 { w.u64(t3) }
    }

    @usableFromInline
    static func readBinaryBody(from r: inout WireReader, bundleDepth: Int) throws(CodecError) -> Sync {
        let flags = try r.u8("SYNC flags")
        let t1 = try r.u64("SYNC t1")
        let t2 = flags & t2Bit != 0 ? try r.u64("SYNC t2") : nil
        let t3 = flags & t3Bit != 0 ? try r.u64("SYNC t3") : nil
        return Sync(t1: t1, t2: t2, t3: t3)
    }
}

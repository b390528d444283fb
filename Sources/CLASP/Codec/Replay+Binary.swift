// REPLAY (0x24), wire-format §3.11: flags u8 (0x80 from, 0x40 to, 0x20 limit), pattern str,
// from u64, to u64, limit u32, then the type mask u8 (last).

extension Replay: BinaryLayout {
    @usableFromInline static var binaryKind: MessageKind { .replay }

    static let fromBit: UInt8 = 0x80
    static let toBit: UInt8 = 0x40
    static let limitBit: UInt8 = 0x20

    @usableFromInline
    func binaryPayloadSize(bundleDepth: Int) throws(CodecError) -> Int {
        var size = 3 &+ (try WireSize.string(pattern, "REPLAY pattern"))
        if from != nil { size &+= 8 }
        if to != nil { size &+= 8 }
        if limit != nil { size &+= 4 }
        return size
    }

    @usableFromInline
    func writeBinaryPayload(to w: inout WireWriter) {
        w.u8(Self.binaryKind.rawValue)
        w.u8(flag(from != nil, Self.fromBit) | flag(to != nil, Self.toBit) | flag(limit != nil, Self.limitBit))
        w.string(pattern)
        if let from { w.u64(from) }
        if let to { w.u64(to) }
        if let limit { w.u32(limit) }
        w.u8(types.wireByte)
    }

    @usableFromInline
    static func readBinaryBody(from r: inout WireReader, bundleDepth: Int) throws(CodecError) -> Replay {
        let flags = try r.u8("REPLAY flags")
        let pattern = try r.string("REPLAY pattern")
        let from = flags & fromBit != 0 ? try r.u64("REPLAY from") : nil
        let to = flags & toBit != 0 ? try r.u64("REPLAY to") : nil
        let limit = flags & limitBit != 0 ? try r.u32("REPLAY limit") : nil
        let types = SignalTypeMask(wireByte: try r.u8("REPLAY type mask"))
        return Replay(pattern: pattern, from: from, to: to, limit: limit, types: types)
    }
}

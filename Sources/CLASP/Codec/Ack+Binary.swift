// ACK (0x50), wire-format §3.15: flags u8 (0x01 address, 0x02 revision, 0x04 locked,
// 0x08 holder, 0x10 correlation id), then each flagged field in that order.

extension Ack: BinaryLayout {
    @usableFromInline static var binaryKind: MessageKind { .ack }

    static let addressBit: UInt8 = 0x01
    static let revisionBit: UInt8 = 0x02
    static let lockedBit: UInt8 = 0x04
    static let holderBit: UInt8 = 0x08
    static let correlationBit: UInt8 = 0x10

    @usableFromInline
    func binaryPayloadSize(bundleDepth: Int) throws(CodecError) -> Int {
        var size = 2
        if let address { size &+= try WireSize.string(address, "ACK address") }
        if revision != nil { size &+= 8 }
        if locked != nil { size &+= 1 }
        if let holder { size &+= try WireSize.string(holder, "ACK holder") }
        if correlationID != nil { size &+= 4 }
        return size
    }

    @usableFromInline
    func writeBinaryPayload(to w: inout WireWriter) {
        w.u8(Self.binaryKind.rawValue)
        w.u8(flag(address != nil, Self.addressBit) | flag(revision != nil, Self.revisionBit) | flag(locked != nil, Self.lockedBit)
            | flag(holder != nil, Self.holderBit) | flag(correlationID != nil, Self.correlationBit))
        if let address { w.string(address) }
        if let revision { w.u64(revision) }
        if let locked { w.u8(locked ? 1 : 0) }
        if let holder { w.string(holder) }
        if let correlationID { w.u32(correlationID) }
    }

    @usableFromInline
    static func readBinaryBody(from r: inout WireReader, bundleDepth: Int) throws(CodecError) -> Ack {
        let flags = try r.u8("ACK flags")
        var ack = Ack()
        if flags & addressBit != 0 { ack.address = try r.string("ACK address") }
        if flags & revisionBit != 0 { ack.revision = try r.u64("ACK revision") }
        if flags & lockedBit != 0 { ack.locked = try r.u8("ACK locked") != 0 }
        if flags & holderBit != 0 { ack.holder = try r.string("ACK holder") }
        if flags & correlationBit != 0 { ack.correlationID = try r.u32("ACK correlation id") }
        return ack
    }
}

// SET (0x21), wire-format §3.8: flags u8 (0x80 revision, 0x40 lock, 0x20 unlock, 0x10 TTL,
// low nibble = value type code), address str, value data (no type byte), revision u64,
// TTL u32 (0 never; bit 31 absolute; bits 30-0 seconds).

extension SetMessage: BinaryLayout {
    @usableFromInline static var binaryKind: MessageKind { .set }

    @usableFromInline static let revisionBit: UInt8 = 0x80
    @usableFromInline static let lockBit: UInt8 = 0x40
    @usableFromInline static let unlockBit: UInt8 = 0x20
    @usableFromInline static let ttlBit: UInt8 = 0x10

    @usableFromInline @inline(__always)
    func binaryPayloadSize(bundleDepth: Int) throws(CodecError) -> Int {
        var size = 2 &+ (try WireSize.string(address, "SET address")) &+ (try value.binaryDataSize())
        if revision != nil { size &+= 8 }
        if ttl != nil { size &+= 4 }
        return size
    }

    @usableFromInline @inline(__always)
    func writeBinaryPayload(to w: inout WireWriter) {
        w.u8(Self.binaryKind.rawValue)
        w.u8(flag(revision != nil, Self.revisionBit) | flag(lock, Self.lockBit) | flag(unlock, Self.unlockBit)
            | flag(ttl != nil, Self.ttlBit) | value.typeCode.rawValue)
        w.string(address)
        value.writeData(to: &w)
        if let revision { w.u64(revision) }
        if let ttl { w.u32(ttl.wireWord) }
    }

    @usableFromInline @inline(__always)
    static func readBinaryBody(from r: inout WireReader, bundleDepth: Int) throws(CodecError) -> SetMessage {
        let flags = try r.u8("SET flags")
        let address = try r.string("SET address")
        let value = try Value.readData(code: flags & 0x0F, from: &r, field: "SET value")
        let revision = flags & revisionBit != 0 ? try r.u64("SET revision") : nil
        let ttl = flags & ttlBit != 0 ? TTL(wireWord: try r.u32("SET ttl")) : nil
        return SetMessage(address: address, value: value, revision: revision,
                          lock: flags & lockBit != 0, unlock: flags & unlockBit != 0, ttl: ttl)
    }

    /// Complete frame of this SET without wrapping it in a `Message` (same layout code).
    /// `qos` nil → confirm, the reference's default for SET.
    public func encodedFrame(qos: QoS? = nil, timestamp: UInt64? = nil) throws(CodecError) -> [UInt8] {
        try binaryFrame(qos: qos ?? Self.binaryKind.baseQoS, timestamp: timestamp)
    }
}

extension TTL {
    /// `0` never; bit 31 set = absolute; bits 30-0 seconds. Seconds above 2^31-1 are
    /// clamped (≈ 68 years). `sliding(seconds: 0)` has no encoding of its own: it is written
    /// as 0 and therefore reads back as `never`. Public so that stores keep the TTL in the
    /// same form.
    public var wireWord: UInt32 {
        switch self {
        case .never: return 0
        case .sliding(let s): return min(s, 0x7FFF_FFFF)
        case .absolute(let s): return 0x8000_0000 | min(s, 0x7FFF_FFFF)
        }
    }

    public init(wireWord: UInt32) {
        if wireWord == 0 {
            self = .never
        } else if wireWord & 0x8000_0000 != 0 {
            self = .absolute(seconds: wireWord & 0x7FFF_FFFF)
        } else {
            self = .sliding(seconds: wireWord)
        }
    }
}

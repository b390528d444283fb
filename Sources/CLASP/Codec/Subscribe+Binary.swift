// SUBSCRIBE (0x10), wire-format §3.5: id u32, pattern str, type mask u8, option flags u8,
// then max rate u32 / epsilon f64 / history u32 / window u32 as flagged.

extension Subscribe: BinaryLayout {
    @usableFromInline static var binaryKind: MessageKind { .subscribe }

    static let maxRateBit: UInt8 = 0x01
    static let epsilonBit: UInt8 = 0x02
    static let historyBit: UInt8 = 0x04
    static let windowBit: UInt8 = 0x08

    @usableFromInline
    func binaryPayloadSize(bundleDepth: Int) throws(CodecError) -> Int {
        var size = 7 &+ (try WireSize.string(pattern, "SUBSCRIBE pattern"))
        if let options {
            if options.maxRate != nil { size &+= 4 }
            if options.epsilon != nil { size &+= 8 }
            if options.history != nil { size &+= 4 }
            if options.window != nil { size &+= 4 }
        }
        return size
    }

    @usableFromInline
    func writeBinaryPayload(to w: inout WireWriter) {
        w.u8(Self.binaryKind.rawValue)
        w.u32(id)
        w.string(pattern)
        w.u8(types.wireByte)
        guard let options else {
            w.u8(0)
            return
        }
        w.u8(flag(options.maxRate != nil, Self.maxRateBit) | flag(options.epsilon != nil, Self.epsilonBit)
            | flag(options.history != nil, Self.historyBit) | flag(options.window != nil, Self.windowBit))
        if let v = options.maxRate { w.u32(v) }
        if let v = options.epsilon { w.f64(v) }
        if let v = options.history { w.u32(v) }
        if let v = options.window { w.u32(v) }
    }

    @usableFromInline
    static func readBinaryBody(from r: inout WireReader, bundleDepth: Int) throws(CodecError) -> Subscribe {
        let id = try r.u32("SUBSCRIBE id")
        let pattern = try r.string("SUBSCRIBE pattern")
        let types = SignalTypeMask(wireByte: try r.u8("SUBSCRIBE type mask"))
        let flags = try r.u8("SUBSCRIBE option flags")
        var options: SubscribeOptions?
        if flags & (maxRateBit | epsilonBit | historyBit | windowBit) != 0 {
            var o = SubscribeOptions()
            if flags & maxRateBit != 0 { o.maxRate = try r.u32("SUBSCRIBE max rate") }
            if flags & epsilonBit != 0 { o.epsilon = try r.f64("SUBSCRIBE epsilon") }
            if flags & historyBit != 0 { o.history = try r.u32("SUBSCRIBE history") }
            if flags & windowBit != 0 { o.window = try r.u32("SUBSCRIBE window") }
            options = o
        }
        return Subscribe(id: id, pattern: pattern, types: types, options: options)
    }
}

// UNSUBSCRIBE (0x11), wire-format §3.6: id u32.

extension Unsubscribe: BinaryLayout {
    @usableFromInline static var binaryKind: MessageKind { .unsubscribe }

    @usableFromInline
    func binaryPayloadSize(bundleDepth: Int) throws(CodecError) -> Int { 5 }

    @usableFromInline
    func writeBinaryPayload(to w: inout WireWriter) {
        w.u8(Self.binaryKind.rawValue)
        w.u32(id)
    }

    @usableFromInline
    static func readBinaryBody(from r: inout WireReader, bundleDepth: Int) throws(CodecError) -> Unsubscribe {
        Unsubscribe(id: try r.u32("UNSUBSCRIBE id"))
    }
}

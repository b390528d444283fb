// ANNOUNCE (0x03), wire-format §3.3: namespace str, u16 count, signal definitions.
// The signal definition layout is shared with RESULT (§3.18), which omits meta.

extension Announce: BinaryLayout {
    @usableFromInline static var binaryKind: MessageKind { .announce }

    @usableFromInline
    func binaryPayloadSize(bundleDepth: Int) throws(CodecError) -> Int {
        try WireSize.count(signals.count, "ANNOUNCE signal count")
        var size = 3 &+ (try WireSize.string(namespace, "ANNOUNCE namespace"))
        for signal in signals { size &+= try signal.binarySize(withMeta: true) }
        return size
    }

    @usableFromInline
    func writeBinaryPayload(to w: inout WireWriter) {
        w.u8(Self.binaryKind.rawValue)
        w.string(namespace)
        w.u16(UInt16(truncatingIfNeeded: signals.count))
        for signal in signals { signal.write(to: &w, withMeta: true) }
    }

    @usableFromInline
    static func readBinaryBody(from r: inout WireReader, bundleDepth: Int) throws(CodecError) -> Announce {
        let namespace = try r.string("ANNOUNCE namespace")
        let signals = try SignalDefinition.readList(from: &r, withMeta: true, field: "ANNOUNCE signal count")
        return Announce(namespace: namespace, signals: signals)
    }
}

extension SignalDefinition {
    // Option flags.
    static let datatypeBit: UInt8 = 0x01
    static let accessBit: UInt8 = 0x02
    static let metaBit: UInt8 = 0x04
    // Meta flags.
    static let unitBit: UInt8 = 0x01
    static let rangeBit: UInt8 = 0x02
    static let defaultBit: UInt8 = 0x04
    static let descriptionBit: UInt8 = 0x08

    func binarySize(withMeta: Bool) throws(CodecError) -> Int {
        var size = 2 &+ (try WireSize.string(address, "signal address"))
        if let datatype { size &+= try WireSize.string(datatype, "signal datatype") }
        if let access { size &+= try WireSize.string(access, "signal access") }
        if withMeta, let meta {
            size &+= 1
            if let unit = meta.unit { size &+= try WireSize.string(unit, "signal unit") }
            if meta.range != nil { size &+= 16 }
            if let value = meta.defaultValue { size &+= try value.binarySize() }
            if let description = meta.description { size &+= try WireSize.string(description, "signal description") }
        }
        return size
    }

    func write(to w: inout WireWriter, withMeta: Bool) {
        w.string(address)
        w.u8(signal.rawValue)
        let meta = withMeta ? self.meta : nil
        w.u8(flag(datatype != nil, Self.datatypeBit) | flag(access != nil, Self.accessBit) | flag(meta != nil, Self.metaBit))
        if let datatype { w.string(datatype) }
        if let access { w.string(access) }
        if let meta {
            w.u8(flag(meta.unit != nil, Self.unitBit) | flag(meta.range != nil, Self.rangeBit)
                | flag(meta.defaultValue != nil, Self.defaultBit) | flag(meta.description != nil, Self.descriptionBit))
            if let unit = meta.unit { w.string(unit) }
            if let range = meta.range {
                w.f64(range.min)
                w.f64(range.max)
            }
            if let value = meta.defaultValue { value.write(to: &w) }
            if let description = meta.description { w.string(description) }
        }
    }

    static func read(from r: inout WireReader, withMeta: Bool) throws(CodecError) -> SignalDefinition {
        let address = try r.string("signal address")
        let signal = SignalType(wireCode: try r.u8("signal type"))
        let options = try r.u8("signal option flags")
        let datatype = options & datatypeBit != 0 ? try r.string("signal datatype") : nil
        let access = options & accessBit != 0 ? try r.string("signal access") : nil
        var meta: SignalMeta?
        if withMeta, options & metaBit != 0 {
            let flags = try r.u8("signal meta flags")
            var m = SignalMeta()
            if flags & unitBit != 0 { m.unit = try r.string("signal unit") }
            if flags & rangeBit != 0 {
                let lo = try r.f64("signal range")
                m.range = SignalRange(min: lo, max: try r.f64("signal range"))
            }
            if flags & defaultBit != 0 { m.defaultValue = try Value.read(from: &r, field: "signal default value") }
            if flags & descriptionBit != 0 { m.description = try r.string("signal description") }
            meta = m
        }
        return SignalDefinition(address: address, signal: signal, datatype: datatype, access: access, meta: meta)
    }

    /// u16 count + definitions (each at least 4 bytes).
    static func readList(from r: inout WireReader, withMeta: Bool, field: StaticString) throws(CodecError) -> [SignalDefinition] {
        let n = try r.count(field, minimumElementSize: 4)
        var list: [SignalDefinition] = []
        list.reserveCapacity(n)
        for _ in 0 ..< n { list.append(try read(from: &r, withMeta: withMeta)) }
        return list
    }
}

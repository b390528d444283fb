// PUBLISH (0x20), wire-format §3.7: flags u8 (signal << 5, 0x10 timestamp, 0x08 id, phase),
// address str, value indicator u8 (0 none, 1 value, 2 f64 samples), the value or samples,
// timestamp u64, id u32, then `rate` u32 with no flag (read when ≥ 4 bytes remain).

extension Publish: BinaryLayout {
    @usableFromInline static var binaryKind: MessageKind { .publish }

    @usableFromInline static let timestampBit: UInt8 = 0x10
    @usableFromInline static let idBit: UInt8 = 0x08

    @usableFromInline @inline(__always)
    func binaryPayloadSize(bundleDepth: Int) throws(CodecError) -> Int {
        var size = 3 &+ (try WireSize.string(address, "PUBLISH address"))
        if let value {
            size &+= try value.binarySize()
        } else if let samples {
            try WireSize.count(samples.count, "PUBLISH samples")
            size &+= 2 &+ samples.count &* 8
        }
        if timestamp != nil { size &+= 8 }
        if id != nil { size &+= 4 }
        if rate != nil { size &+= 4 }
        return size
    }

    @usableFromInline @inline(__always)
    func writeBinaryPayload(to w: inout WireWriter) {
        w.u8(Self.binaryKind.rawValue)
        w.u8(signal.rawValue << 5 | flag(timestamp != nil, Self.timestampBit) | flag(id != nil, Self.idBit) | phase.rawValue)
        w.string(address)
        if let value {
            w.u8(1)
            value.write(to: &w)
        } else if let samples {
            w.u8(2)
            w.u16(UInt16(truncatingIfNeeded: samples.count))
            for sample in samples { w.f64(sample) }
        } else {
            w.u8(0)
        }
        if let timestamp { w.u64(timestamp) }
        if let id { w.u32(id) }
        if let rate { w.u32(rate) }
    }

    @usableFromInline @inline(__always)
    static func readBinaryBody(from r: inout WireReader, bundleDepth: Int) throws(CodecError) -> Publish {
        let flags = try r.u8("PUBLISH flags")
        let address = try r.string("PUBLISH address")
        var value: Value?
        var samples: [Double]?
        switch try r.u8("PUBLISH value indicator") {
        case 1:
            value = try Value.read(from: &r, field: "PUBLISH value")
        case 2:
            let n = try r.count("PUBLISH samples", minimumElementSize: 8)
            var list: [Double] = []
            list.reserveCapacity(n)
            for _ in 0 ..< n { list.append(try r.f64("PUBLISH samples")) }
            samples = list
        default:
            break  // 0, and any unknown indicator, means no value (§1.4)
        }
        let timestamp = flags & timestampBit != 0 ? try r.u64("PUBLISH timestamp") : nil
        let id = flags & idBit != 0 ? try r.u32("PUBLISH gesture id") : nil
        let rate = r.remaining >= 4 ? try r.u32("PUBLISH rate") : nil
        return Publish(address: address, signal: SignalType(wireCode: flags >> 5), phase: GesturePhase(wireCode: flags & 0x07),
                       value: value, samples: samples, timestamp: timestamp, id: id, rate: rate)
    }

    /// Complete frame of this PUBLISH without wrapping it in a `Message` (same layout code).
    /// `qos` nil → the default for its signal (wire-format §1.6).
    public func encodedFrame(qos: QoS? = nil, timestamp: UInt64? = nil) throws(CodecError) -> [UInt8] {
        try binaryFrame(qos: qos ?? signal.defaultQoS, timestamp: timestamp)
    }
}

// RESULT (0x61), wire-format §3.18: u16 count + signal definitions (§3.3) without meta:
// the meta option bit is never written and, if present, not read.

extension QueryResult: BinaryLayout {
    @usableFromInline static var binaryKind: MessageKind { .result }

    @usableFromInline
    func binaryPayloadSize(bundleDepth: Int) throws(CodecError) -> Int {
        try WireSize.count(signals.count, "RESULT signal count")
        var size = 3
        for signal in signals { size &+= try signal.binarySize(withMeta: false) }
        return size
    }

    @usableFromInline
    func writeBinaryPayload(to w: inout WireWriter) {
        w.u8(Self.binaryKind.rawValue)
        w.u16(UInt16(truncatingIfNeeded: signals.count))
        for signal in signals { signal.write(to: &w, withMeta: false) }
    }

    @usableFromInline
    static func readBinaryBody(from r: inout WireReader, bundleDepth: Int) throws(CodecError) -> QueryResult {
        QueryResult(signals: try SignalDefinition.readList(from: &r, withMeta: false, field: "RESULT signal count"))
    }
}

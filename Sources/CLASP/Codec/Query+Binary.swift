// QUERY (0x60), wire-format §3.17: pattern str.

extension Query: BinaryLayout {
    @usableFromInline static var binaryKind: MessageKind { .query }

    @usableFromInline
    func binaryPayloadSize(bundleDepth: Int) throws(CodecError) -> Int {
        1 &+ (try WireSize.string(pattern, "QUERY pattern"))
    }

    @usableFromInline
    func writeBinaryPayload(to w: inout WireWriter) {
        w.u8(Self.binaryKind.rawValue)
        w.string(pattern)
    }

    @usableFromInline
    static func readBinaryBody(from r: inout WireReader, bundleDepth: Int) throws(CodecError) -> Query {
        Query(pattern: try r.string("QUERY pattern"))
    }
}

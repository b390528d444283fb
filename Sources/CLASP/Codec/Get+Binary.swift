// GET (0x22), wire-format §3.9: address str.

extension Get: BinaryLayout {
    @usableFromInline static var binaryKind: MessageKind { .get }

    @usableFromInline
    func binaryPayloadSize(bundleDepth: Int) throws(CodecError) -> Int {
        1 &+ (try WireSize.string(address, "GET address"))
    }

    @usableFromInline
    func writeBinaryPayload(to w: inout WireWriter) {
        w.u8(Self.binaryKind.rawValue)
        w.string(address)
    }

    @usableFromInline
    static func readBinaryBody(from r: inout WireReader, bundleDepth: Int) throws(CodecError) -> Get {
        Get(address: try r.string("GET address"))
    }
}

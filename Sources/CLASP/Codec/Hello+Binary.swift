// HELLO (0x01), wire-format §3.1: version u8, features u8, name str, token str (empty = none).

extension Hello: BinaryLayout {
    @usableFromInline static var binaryKind: MessageKind { .hello }

    /// Feature bits HELLO knows; others are ignored on input.
    static let knownFeatureBits: UInt8 = 0xFC

    @usableFromInline
    func binaryPayloadSize(bundleDepth: Int) throws(CodecError) -> Int {
        3 &+ (try WireSize.string(name, "HELLO name")) &+ (try WireSize.optionalString(token, "HELLO token"))
    }

    @usableFromInline
    func writeBinaryPayload(to w: inout WireWriter) {
        w.u8(Self.binaryKind.rawValue)
        w.u8(version)
        w.u8(features.rawValue & Self.knownFeatureBits)
        w.string(name)
        w.optionalString(token)
    }

    @usableFromInline
    static func readBinaryBody(from r: inout WireReader, bundleDepth: Int) throws(CodecError) -> Hello {
        let version = try r.u8("HELLO version")
        let features = Features(rawValue: try r.u8("HELLO features") & knownFeatureBits)
        let name = try r.string("HELLO name")
        let token = try r.optionalString("HELLO token")
        return Hello(version: version, features: features, name: name, token: token)
    }
}

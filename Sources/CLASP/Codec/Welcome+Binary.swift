// WELCOME (0x02), wire-format §3.2: version u8, features u8 (no federation bit), time u64,
// session str, name str, token str (empty = none).

extension Welcome: BinaryLayout {
    @usableFromInline static var binaryKind: MessageKind { .welcome }

    /// WELCOME has no federation bit: 0x04 is neither written nor read.
    static let knownFeatureBits: UInt8 = 0xF8

    @usableFromInline
    func binaryPayloadSize(bundleDepth: Int) throws(CodecError) -> Int {
        11 &+ (try WireSize.string(session, "WELCOME session"))
            &+ (try WireSize.string(name, "WELCOME name"))
            &+ (try WireSize.optionalString(token, "WELCOME token"))
    }

    @usableFromInline
    func writeBinaryPayload(to w: inout WireWriter) {
        w.u8(Self.binaryKind.rawValue)
        w.u8(version)
        w.u8(features.rawValue & Self.knownFeatureBits)
        w.u64(time)
        w.string(session)
        w.string(name)
        w.optionalString(token)
    }

    @usableFromInline
    static func readBinaryBody(from r: inout WireReader, bundleDepth: Int) throws(CodecError) -> Welcome {
        let version = try r.u8("WELCOME version")
        let features = Features(rawValue: try r.u8("WELCOME features") & knownFeatureBits)
        let time = try r.u64("WELCOME time")
        let session = try r.string("WELCOME session")
        let name = try r.string("WELCOME name")
        let token = try r.optionalString("WELCOME token")
        return Welcome(version: version, features: features, time: time, session: session, name: name, token: token)
    }
}

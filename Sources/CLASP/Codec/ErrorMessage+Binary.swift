// ERROR (0x51), wire-format §3.16: code u16, message str, flags u8 (0x01 address,
// 0x02 correlation id), address str, correlation id u32.

extension ErrorMessage: BinaryLayout {
    @usableFromInline static var binaryKind: MessageKind { .error }

    static let addressBit: UInt8 = 0x01
    static let correlationBit: UInt8 = 0x02

    @usableFromInline
    func binaryPayloadSize(bundleDepth: Int) throws(CodecError) -> Int {
        var size = 4 &+ (try WireSize.string(message, "ERROR message"))
        if let address { size &+= try WireSize.string(address, "ERROR address") }
        if correlationID != nil { size &+= 4 }
        return size
    }

    @usableFromInline
    func writeBinaryPayload(to w: inout WireWriter) {
        w.u8(Self.binaryKind.rawValue)
        w.u16(code)
        w.string(message)
        w.u8(flag(address != nil, Self.addressBit) | flag(correlationID != nil, Self.correlationBit))
        if let address { w.string(address) }
        if let correlationID { w.u32(correlationID) }
    }

    @usableFromInline
    static func readBinaryBody(from r: inout WireReader, bundleDepth: Int) throws(CodecError) -> ErrorMessage {
        let code = try r.u16("ERROR code")
        let message = try r.string("ERROR message")
        let flags = try r.u8("ERROR flags")
        let address = flags & addressBit != 0 ? try r.string("ERROR address") : nil
        let correlation = flags & correlationBit != 0 ? try r.u32("ERROR correlation id") : nil
        return ErrorMessage(code: code, message: message, address: address, correlationID: correlation)
    }
}

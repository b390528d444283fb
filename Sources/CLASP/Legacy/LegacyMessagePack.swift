/// Decodes legacy MessagePack payloads (wire-format §3.21). Replaced by the real decoder.
enum LegacyMessagePack {
    static func decodeMessage(_ payload: UnsafeRawBufferPointer) throws(CodecError) -> Message {
        throw .legacy("not supported yet")
    }
}

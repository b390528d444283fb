// A value on its own, outside any message: type code + data (wire-format §2), the same
// bytes a value takes inside ARRAY/MAP. Used to store values (the state store's `value`
// column) in the one encoding the codec already validates.

extension Value {
    /// Type code followed by the data. Throws what the wire encoder would: strings, bytes and
    /// counts over 65,535, or nesting deeper than the codec allows.
    public func encodedBytes() throws(CodecError) -> [UInt8] {
        let size = try binarySize()
        var bytes = [UInt8](repeating: 0, count: size)
        bytes.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            var w = WireWriter(base)
            write(to: &w)
            assert(w.offset == size, "encoder size mismatch for a value")
        }
        return bytes
    }

    /// Reads what `encodedBytes()` wrote. The bytes must hold exactly one value: anything
    /// after it means they were not written by `encodedBytes()`.
    public init(decoding bytes: [UInt8]) throws(CodecError) {
        // `Array.withUnsafeBytes` only rethrows untyped errors; a `Result` keeps the type.
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(CodecError) -> (Value, Int) in
                var r = WireReader(raw)
                let value = try Value.read(from: &r, field: "encoded value")
                return (value, r.remaining)
            }
        }
        let (value, unread) = try result.get()
        guard unread == 0 else { throw .trailingBytes(unread, field: "encoded value") }
        self = value
    }
}

/// A bounds-checked big-endian cursor over borrowed bytes. Every read checks the remaining
/// length first and throws `.truncated(field:)` naming the field it was reading; nothing is
/// sliced or copied until a field has been validated.
@usableFromInline
struct WireReader {
    @usableFromInline let bytes: UnsafeRawBufferPointer
    @usableFromInline var offset: Int

    @inlinable
    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    @inlinable var remaining: Int { bytes.count &- offset }
    @inlinable var isAtEnd: Bool { offset >= bytes.count }

    @inlinable
    mutating func require(_ n: Int, _ field: StaticString) throws(CodecError) {
        guard n <= remaining else { throw .truncated(field: field.description) }
    }

    @inlinable
    mutating func u8(_ field: StaticString) throws(CodecError) -> UInt8 {
        try require(1, field)
        let v = bytes.loadUnaligned(fromByteOffset: offset, as: UInt8.self)
        offset &+= 1
        return v
    }

    @inlinable
    mutating func u16(_ field: StaticString) throws(CodecError) -> UInt16 {
        try require(2, field)
        let v = bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)
        offset &+= 2
        return UInt16(bigEndian: v)
    }

    @inlinable
    mutating func u32(_ field: StaticString) throws(CodecError) -> UInt32 {
        try require(4, field)
        let v = bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        offset &+= 4
        return UInt32(bigEndian: v)
    }

    @inlinable
    mutating func u64(_ field: StaticString) throws(CodecError) -> UInt64 {
        try require(8, field)
        let v = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        offset &+= 8
        return UInt64(bigEndian: v)
    }

    @inlinable
    mutating func f64(_ field: StaticString) throws(CodecError) -> Double {
        Double(bitPattern: try u64(field))
    }

    /// A u16 count of elements that each take at least `minimumElementSize` bytes; a count
    /// the remaining bytes cannot hold is rejected before anything is allocated for it.
    @inlinable
    mutating func count(_ field: StaticString, minimumElementSize: Int) throws(CodecError) -> Int {
        let n = Int(try u16(field))
        guard n &* minimumElementSize <= remaining else { throw .truncated(field: field.description) }
        return n
    }

    /// `n` raw bytes, borrowed (valid as long as the input buffer is).
    @inlinable
    mutating func rawBytes(_ n: Int, _ field: StaticString) throws(CodecError) -> UnsafeRawBufferPointer {
        try require(n, field)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset &+ n])
        offset &+= n
        return slice
    }

    /// `str`: u16 byte length + UTF-8 (invalid UTF-8 is an error).
    @inlinable
    mutating func string(_ field: StaticString) throws(CodecError) -> String {
        let n = Int(try u16(field))
        let raw = try rawBytes(n, field)
        guard let s = makeString(raw) else { throw .invalidUTF8(field: field.description) }
        return s
    }

    /// `str` where the empty string means "absent".
    @inlinable
    mutating func optionalString(_ field: StaticString) throws(CodecError) -> String? {
        let s = try string(field)
        return s.isEmpty ? nil : s
    }

    /// u16 length + raw bytes, copied.
    @inlinable
    mutating func byteArray(_ field: StaticString) throws(CodecError) -> [UInt8] {
        let n = Int(try u16(field))
        return [UInt8](try rawBytes(n, field))
    }
}

/// Validating UTF-8 → String. Pure-ASCII input (the common case: addresses, ids) takes a
/// word-at-a-time check and a single copy; anything else goes through the standard library's
/// validating initialiser, which fails on ill-formed input instead of repairing it.
@usableFromInline
func makeString(_ raw: UnsafeRawBufferPointer) -> String? {
    let n = raw.count
    if n == 0 { return "" }
    let utf8 = raw.assumingMemoryBound(to: UInt8.self)
    if isASCII(raw) {
        return String(unsafeUninitializedCapacity: n) { out in
            _ = out.initialize(fromContentsOf: utf8)
            return n
        }
    }
    return String(validating: utf8, as: UTF8.self)
}

@usableFromInline
func isASCII(_ raw: UnsafeRawBufferPointer) -> Bool {
    let n = raw.count
    var i = 0
    while i &+ 8 <= n {
        if raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
        i &+= 8
    }
    while i < n {
        if raw[i] & 0x80 != 0 { return false }
        i &+= 1
    }
    return true
}

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

    @inlinable @inline(__always)
    mutating func require(_ n: Int, _ field: StaticString) throws(CodecError) {
        guard n <= remaining else { throw truncatedError(field) }
    }

    @inlinable @inline(__always)
    mutating func u8(_ field: StaticString) throws(CodecError) -> UInt8 {
        try require(1, field)
        let v = bytes.loadUnaligned(fromByteOffset: offset, as: UInt8.self)
        offset &+= 1
        return v
    }

    @inlinable @inline(__always)
    mutating func u16(_ field: StaticString) throws(CodecError) -> UInt16 {
        try require(2, field)
        let v = bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)
        offset &+= 2
        return UInt16(bigEndian: v)
    }

    @inlinable @inline(__always)
    mutating func u32(_ field: StaticString) throws(CodecError) -> UInt32 {
        try require(4, field)
        let v = bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        offset &+= 4
        return UInt32(bigEndian: v)
    }

    @inlinable @inline(__always)
    mutating func u64(_ field: StaticString) throws(CodecError) -> UInt64 {
        try require(8, field)
        let v = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        offset &+= 8
        return UInt64(bigEndian: v)
    }

    @inlinable @inline(__always)
    mutating func f64(_ field: StaticString) throws(CodecError) -> Double {
        Double(bitPattern: try u64(field))
    }

    /// A u16 count of elements that each take at least `minimumElementSize` bytes; a count
    /// the remaining bytes cannot hold is rejected before anything is allocated for it.
    @inlinable @inline(__always)
    mutating func count(_ field: StaticString, minimumElementSize: Int) throws(CodecError) -> Int {
        let n = Int(try u16(field))
        guard n &* minimumElementSize <= remaining else { throw truncatedError(field) }
        return n
    }

    /// `n` raw bytes, borrowed (valid as long as the input buffer is).
    @inlinable @inline(__always)
    mutating func rawBytes(_ n: Int, _ field: StaticString) throws(CodecError) -> UnsafeRawBufferPointer {
        try require(n, field)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset &+ n])
        offset &+= n
        return slice
    }

    /// `str`: u16 byte length + UTF-8 (invalid UTF-8 is an error).
    @inlinable @inline(__always)
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

/// Kept out of line so the hot read paths stay small.
@usableFromInline @inline(never)
func truncatedError(_ field: StaticString) -> CodecError { .truncated(field: field.description) }

/// Validating UTF-8 → String. The bytes are checked here (ill-formed input fails instead of
/// being repaired), then copied into the string in one go.
@usableFromInline
func makeString(_ raw: UnsafeRawBufferPointer) -> String? {
    let n = raw.count
    if n == 0 { return "" }
    guard isWellFormedUTF8(raw) else { return nil }
    return String(decoding: raw.assumingMemoryBound(to: UInt8.self), as: UTF8.self)
}

/// Well-formed UTF-8 (Unicode 15, table 3-7): no overlongs, no surrogates, nothing above
/// U+10FFFF, no truncated sequences. ASCII runs are checked eight bytes at a time.
@usableFromInline
func isWellFormedUTF8(_ raw: UnsafeRawBufferPointer) -> Bool {
    let n = raw.count
    // All-ASCII fast path: whole words, then one overlapping word for the tail.
    if n >= 8 {
        var bits: UInt64 = 0
        var j = 0
        while j &+ 8 <= n {
            bits |= raw.loadUnaligned(fromByteOffset: j, as: UInt64.self)
            j &+= 8
        }
        bits |= raw.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self)
        if bits & 0x8080_8080_8080_8080 == 0 { return true }
    }
    var i = 0
    while i < n {
        if i &+ 8 <= n, raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
            i &+= 8
            continue
        }
        let b0 = raw[i]
        if b0 < 0x80 {
            i &+= 1
            continue
        }
        // Length and the allowed range of the second byte for each lead byte.
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch b0 {
        case 0xC2 ... 0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1 ... 0xEC, 0xEE ... 0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1 ... 0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return false
        }
        guard i &+ length <= n else { return false }
        let b1 = raw[i &+ 1]
        guard b1 >= low, b1 <= high else { return false }
        var k = 2
        while k < length {
            guard raw[i &+ k] & 0xC0 == 0x80 else { return false }
            k &+= 1
        }
        i &+= length
    }
    return true
}

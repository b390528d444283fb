/// Writes big-endian fields into memory whose exact size was computed beforehand (every
/// encoder first sizes, then writes; sizing validates lengths and nesting, so writing cannot
/// fail).
@usableFromInline
struct WireWriter {
    @usableFromInline let base: UnsafeMutableRawPointer
    @usableFromInline var offset: Int

    @inlinable
    init(_ base: UnsafeMutableRawPointer, offset: Int = 0) {
        self.base = base
        self.offset = offset
    }

    @inlinable @inline(__always)
    mutating func u8(_ v: UInt8) {
        base.storeBytes(of: v, toByteOffset: offset, as: UInt8.self)
        offset &+= 1
    }

    @inlinable @inline(__always)
    mutating func u16(_ v: UInt16) {
        base.storeBytes(of: v.bigEndian, toByteOffset: offset, as: UInt16.self)
        offset &+= 2
    }

    @inlinable @inline(__always)
    mutating func u32(_ v: UInt32) {
        base.storeBytes(of: v.bigEndian, toByteOffset: offset, as: UInt32.self)
        offset &+= 4
    }

    @inlinable @inline(__always)
    mutating func u64(_ v: UInt64) {
        base.storeBytes(of: v.bigEndian, toByteOffset: offset, as: UInt64.self)
        offset &+= 8
    }

    @inlinable @inline(__always)
    mutating func f64(_ v: Double) { u64(v.bitPattern) }

    @inlinable @inline(__always)
    mutating func raw(_ bytes: UnsafeRawBufferPointer) {
        guard let src = bytes.baseAddress, !bytes.isEmpty else { return }
        (base + offset).copyMemory(from: src, byteCount: bytes.count)
        offset &+= bytes.count
    }

    /// `str`: u16 length + UTF-8. The length was checked when sizing.
    @inlinable @inline(__always)
    mutating func string(_ s: String) {
        let n = s.utf8.count
        u16(UInt16(truncatingIfNeeded: n))
        let done: Void? = s.utf8.withContiguousStorageIfAvailable { buf in
            raw(UnsafeRawBufferPointer(buf))
        }
        if done == nil {
            for b in s.utf8 { u8(b) }
        }
    }

    /// `str` where `nil` is written as the empty string.
    @inlinable @inline(__always)
    mutating func optionalString(_ s: String?) { string(s ?? "") }

    @inlinable @inline(__always)
    mutating func byteArray(_ bytes: [UInt8]) {
        u16(UInt16(truncatingIfNeeded: bytes.count))
        bytes.withUnsafeBytes { raw($0) }
    }
}

/// Sizing helpers: each returns the encoded size and rejects what cannot be encoded.
@usableFromInline
enum WireSize {
    @inlinable @inline(__always)
    static func string(_ s: String, _ field: StaticString) throws(CodecError) -> Int {
        let n = s.utf8.count
        guard n <= 0xFFFF else { throw .fieldTooLong(field: field.description, length: n) }
        return 2 &+ n
    }

    @inlinable
    static func optionalString(_ s: String?, _ field: StaticString) throws(CodecError) -> Int {
        guard let s else { return 2 }
        return try string(s, field)
    }

    @inlinable
    static func count(_ n: Int, _ field: StaticString) throws(CodecError) {
        guard n <= 0xFFFF else { throw .fieldTooLong(field: field.description, length: n) }
    }
}

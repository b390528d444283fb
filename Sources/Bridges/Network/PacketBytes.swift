/// Why a datagram is not a packet of the protocol it arrived on: the reason, for logs and counters.
public struct PacketError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Bounds-checked reads from a received datagram: every read either succeeds or throws a
/// `PacketError`, so malformed input never traps.
struct PacketReader {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    var count: Int { bytes.count }

    func byte(_ offset: Int) throws(PacketError) -> UInt8 {
        guard offset >= 0, offset < bytes.count else { throw PacketError("packet ends at byte \(bytes.count), needs byte \(offset)") }
        return bytes[offset]
    }

    func uint16BE(_ offset: Int) throws(PacketError) -> UInt16 {
        UInt16(try byte(offset)) << 8 | UInt16(try byte(offset + 1))
    }

    func uint16LE(_ offset: Int) throws(PacketError) -> UInt16 {
        UInt16(try byte(offset + 1)) << 8 | UInt16(try byte(offset))
    }

    func uint32BE(_ offset: Int) throws(PacketError) -> UInt32 {
        UInt32(try uint16BE(offset)) << 16 | UInt32(try uint16BE(offset + 2))
    }

    func slice(_ offset: Int, count: Int) throws(PacketError) -> [UInt8] {
        guard offset >= 0, count >= 0, offset + count <= bytes.count else {
            throw PacketError("packet ends at byte \(bytes.count), needs bytes \(offset)..<\(offset + count)")
        }
        return Array(bytes[offset..<offset + count])
    }

    /// A fixed-size text field: UTF-8 up to the first NUL (invalid UTF-8 is repaired, not fatal).
    func text(_ offset: Int, count: Int) throws(PacketError) -> String {
        let field = try slice(offset, count: count)
        return String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }
}

/// Appends fields in network layouts.
struct PacketWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    mutating func byte(_ value: UInt8) { bytes.append(value) }
    mutating func append(_ values: some Sequence<UInt8>) { bytes.append(contentsOf: values) }
    mutating func zeros(_ count: Int) { bytes.append(contentsOf: repeatElement(0, count: count)) }

    mutating func uint16BE(_ value: UInt16) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    mutating func uint16LE(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value))
        bytes.append(UInt8(value >> 8))
    }

    mutating func uint32BE(_ value: UInt32) {
        uint16BE(UInt16(value >> 16))
        uint16BE(UInt16(truncatingIfNeeded: value))
    }

    /// UTF-8 cut to `count - 1` bytes (on a character boundary), NUL-padded to `count`.
    mutating func text(_ text: String, count: Int) {
        var utf8: [UInt8] = []
        for character in text {
            let encoded = Array(String(character).utf8)
            guard utf8.count + encoded.count < count else { break }
            utf8 += encoded
        }
        append(utf8)
        zeros(count - utf8.count)
    }

    /// Overwrites two bytes already written (a length field known only at the end).
    mutating func patchUInt16BE(_ value: UInt16, at offset: Int) {
        bytes[offset] = UInt8(value >> 8)
        bytes[offset + 1] = UInt8(truncatingIfNeeded: value)
    }
}

/// One MessagePack item read from a legacy payload.
///
/// Strings and binaries are not copied: they name a byte range of the payload and are turned
/// into Swift strings only where the message mapping needs them (so that a UTF-8 error can
/// name the key it was found under).
enum MessagePackItem {
    case null
    case bool(Bool)
    /// Every integer (signed or unsigned marker) that fits in `Int64`.
    case int(Int64)
    /// A `uint64` above `Int64.max`.
    case bigUInt(UInt64)
    /// float32 (widened) or float64.
    case float(Double)
    case string(Range<Int>)
    case binary(Range<Int>)
    case array([MessagePackItem])
    case map([(key: MessagePackItem, value: MessagePackItem)])

    /// The MessagePack family name, for error messages.
    var typeName: String {
        switch self {
        case .null: return "nil"
        case .bool: return "bool"
        case .int, .bigUInt: return "integer"
        case .float: return "float"
        case .string: return "string"
        case .binary: return "binary"
        case .array: return "array"
        case .map: return "map"
        }
    }
}

/// A strict MessagePack reader over one payload.
///
/// - Supports nil, bool, every int/uint width, float32/64, fixstr/str8/16/32, bin8/16/32,
///   fixarray/array16/32 and fixmap/map16/32. Extension types and the unused marker `0xC1`
///   are errors.
/// - Every read is bounds-checked. A declared length or count is checked against the bytes
///   that remain (each array element takes at least one byte, each map entry at least two)
///   before anything is reserved for it.
/// - Arrays and maps may nest at most `maxDepth` levels (the top-level item is level 1 if
///   it is a container). The reader recurses once per level, so its stack use is bounded.
struct MessagePackReader {
    let bytes: UnsafeRawBufferPointer
    let maxDepth: Int
    private(set) var offset: Int = 0

    init(_ bytes: UnsafeRawBufferPointer, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    var remaining: Int { bytes.count - offset }

    /// Reads one complete item starting at the current offset.
    mutating func readItem() throws(CodecError) -> MessagePackItem {
        try readItem(depth: 0)
    }

    private mutating func readItem(depth: Int) throws(CodecError) -> MessagePackItem {
        let markerOffset = offset
        let marker = try readByte("a MessagePack marker")
        switch marker {
        case 0x00...0x7F: return .int(Int64(marker))
        case 0x80...0x8F: return try readMap(count: Int(marker & 0x0F), depth: depth)
        case 0x90...0x9F: return try readArray(count: Int(marker & 0x0F), depth: depth)
        case 0xA0...0xBF: return .string(try readRange(Int(marker & 0x1F), "a fixstr body"))
        case 0xC0: return .null
        case 0xC2: return .bool(false)
        case 0xC3: return .bool(true)
        case 0xC4: return .binary(try readRange(Int(try readUInt(1, "a bin8 length")), "a bin8 body"))
        case 0xC5: return .binary(try readRange(Int(try readUInt(2, "a bin16 length")), "a bin16 body"))
        case 0xC6: return .binary(try readRange(Int(try readUInt(4, "a bin32 length")), "a bin32 body"))
        case 0xCA: return .float(Double(Float(bitPattern: UInt32(try readUInt(4, "a float32")))))
        case 0xCB: return .float(Double(bitPattern: try readUInt(8, "a float64")))
        case 0xCC: return .int(Int64(try readUInt(1, "a uint8")))
        case 0xCD: return .int(Int64(try readUInt(2, "a uint16")))
        case 0xCE: return .int(Int64(try readUInt(4, "a uint32")))
        case 0xCF:
            let value = try readUInt(8, "a uint64")
            return value <= UInt64(Int64.max) ? .int(Int64(value)) : .bigUInt(value)
        case 0xD0: return .int(Int64(Int8(truncatingIfNeeded: try readUInt(1, "an int8"))))
        case 0xD1: return .int(Int64(Int16(truncatingIfNeeded: try readUInt(2, "an int16"))))
        case 0xD2: return .int(Int64(Int32(truncatingIfNeeded: try readUInt(4, "an int32"))))
        case 0xD3: return .int(Int64(bitPattern: try readUInt(8, "an int64")))
        case 0xD9: return .string(try readRange(Int(try readUInt(1, "a str8 length")), "a str8 body"))
        case 0xDA: return .string(try readRange(Int(try readUInt(2, "a str16 length")), "a str16 body"))
        case 0xDB: return .string(try readRange(Int(try readUInt(4, "a str32 length")), "a str32 body"))
        case 0xDC: return try readArray(count: Int(try readUInt(2, "an array16 count")), depth: depth)
        case 0xDD: return try readArray(count: Int(try readUInt(4, "an array32 count")), depth: depth)
        case 0xDE: return try readMap(count: Int(try readUInt(2, "a map16 count")), depth: depth)
        case 0xDF: return try readMap(count: Int(try readUInt(4, "a map32 count")), depth: depth)
        case 0xE0...0xFF: return .int(Int64(Int8(bitPattern: marker)))
        case 0xC7, 0xC8, 0xC9, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8:
            throw .legacy("MessagePack extension type (marker 0x\(hexByte(marker)) at offset \(markerOffset)) is not supported")
        default:
            throw .legacy("invalid MessagePack marker 0x\(hexByte(marker)) at offset \(markerOffset)")
        }
    }

    private mutating func readArray(count: Int, depth: Int) throws(CodecError) -> MessagePackItem {
        guard depth < maxDepth else { throw .nestingTooDeep(limit: maxDepth) }
        // Every element takes at least one byte.
        guard count <= remaining else {
            throw .legacy("array declares \(count) elements but only \(remaining) bytes remain")
        }
        var elements: [MessagePackItem] = []
        elements.reserveCapacity(count)
        for _ in 0..<count {
            elements.append(try readItem(depth: depth + 1))
        }
        return .array(elements)
    }

    private mutating func readMap(count: Int, depth: Int) throws(CodecError) -> MessagePackItem {
        guard depth < maxDepth else { throw .nestingTooDeep(limit: maxDepth) }
        // Every entry takes at least two bytes (key and value).
        guard count <= remaining / 2 else {
            throw .legacy("map declares \(count) entries but only \(remaining) bytes remain")
        }
        var entries: [(key: MessagePackItem, value: MessagePackItem)] = []
        entries.reserveCapacity(count)
        for _ in 0..<count {
            let key = try readItem(depth: depth + 1)
            let value = try readItem(depth: depth + 1)
            entries.append((key, value))
        }
        return .map(entries)
    }

    private mutating func readByte(_ what: String) throws(CodecError) -> UInt8 {
        guard offset < bytes.count else { throw truncated(what, needed: 1) }
        let byte = bytes[offset]
        offset += 1
        return byte
    }

    /// Reads a big-endian unsigned integer of `width` (1...8) bytes.
    private mutating func readUInt(_ width: Int, _ what: String) throws(CodecError) -> UInt64 {
        guard width <= remaining else { throw truncated(what, needed: width) }
        var value: UInt64 = 0
        for index in offset..<(offset + width) {
            value = value << 8 | UInt64(bytes[index])
        }
        offset += width
        return value
    }

    /// Skips `length` bytes and returns their range.
    private mutating func readRange(_ length: Int, _ what: String) throws(CodecError) -> Range<Int> {
        guard length <= remaining else { throw truncated(what, needed: length) }
        let range = offset..<(offset + length)
        offset += length
        return range
    }

    private func truncated(_ what: String, needed: Int) -> CodecError {
        .legacy("payload ends inside \(what): \(needed) bytes needed at offset \(offset), \(remaining) left")
    }
}

private func hexByte(_ byte: UInt8) -> String {
    let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
}

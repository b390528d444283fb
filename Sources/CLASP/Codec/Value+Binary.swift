// Values (wire-format §2): a type code, then the data. SET carries the code in its flags
// byte, so the data part is sized, written and read separately from the code.

extension Value {
    /// Bytes of the data part (without the type code). Checks lengths, counts and nesting.
    /// `depth` is the number of arrays/maps around this value.
    @usableFromInline @inline(__always)
    func binaryDataSize(depth: Int = 0) throws(CodecError) -> Int {
        switch self {
        case .null: return 0
        case .bool: return 1
        case .int, .float: return 8
        default: return try containerDataSize(depth: depth)
        }
    }

    /// Strings, bytes, arrays and maps (kept out of line; scalars are sized inline).
    @usableFromInline
    func containerDataSize(depth: Int) throws(CodecError) -> Int {
        switch self {
        case .null, .bool, .int, .float: return try binaryDataSize(depth: depth)
        case .string(let s): return try WireSize.string(s, "string value")
        case .bytes(let b):
            try WireSize.count(b.count, "bytes value")
            return 2 &+ b.count
        case .array(let items):
            guard depth < CodecLimits.maxValueDepth else { throw .nestingTooDeep(limit: CodecLimits.maxValueDepth) }
            try WireSize.count(items.count, "array value")
            var size = 2
            for item in items { size &+= 1 &+ (try item.binaryDataSize(depth: depth &+ 1)) }
            return size
        case .map(let entries):
            guard depth < CodecLimits.maxValueDepth else { throw .nestingTooDeep(limit: CodecLimits.maxValueDepth) }
            try WireSize.count(entries.count, "map value")
            var size = 2
            for entry in entries {
                size &+= try WireSize.string(entry.key, "map key")
                size &+= 1 &+ (try entry.value.binaryDataSize(depth: depth &+ 1))
            }
            return size
        }
    }

    /// Type code + data.
    @usableFromInline
    func binarySize(depth: Int = 0) throws(CodecError) -> Int { 1 &+ (try binaryDataSize(depth: depth)) }

    /// Writes the data part. Sized (and so validated) beforehand.
    @usableFromInline @inline(__always)
    func writeData(to w: inout WireWriter) {
        switch self {
        case .null: break
        case .bool(let b): w.u8(b ? 1 : 0)
        case .int(let i): w.u64(UInt64(bitPattern: i))
        case .float(let f): w.f64(f)
        default: writeContainerData(to: &w)
        }
    }

    /// Strings, bytes, arrays and maps (kept out of line; scalars are written inline).
    @usableFromInline
    func writeContainerData(to w: inout WireWriter) {
        switch self {
        case .null, .bool, .int, .float: writeData(to: &w)
        case .string(let s): w.string(s)
        case .bytes(let b): w.byteArray(b)
        case .array(let items):
            w.u16(UInt16(truncatingIfNeeded: items.count))
            for item in items { item.write(to: &w) }
        case .map(let entries):
            w.u16(UInt16(truncatingIfNeeded: entries.count))
            for entry in entries {
                w.string(entry.key)
                entry.value.write(to: &w)
            }
        }
    }

    /// Type code + data.
    @usableFromInline
    func write(to w: inout WireWriter) {
        w.u8(typeCode.rawValue)
        writeData(to: &w)
    }

    /// Reads the data of a value whose type code is `code` (narrow numbers are widened).
    @usableFromInline @inline(__always)
    static func readData(code: UInt8, from r: inout WireReader, depth: Int = 0, field: StaticString) throws(CodecError) -> Value {
        // The common scalars inline; everything else out of line.
        switch code {
        case 0x05: return .int(Int64(bitPattern: try r.u64(field)))
        case 0x07: return .float(try r.f64(field))
        default: return try readOtherData(code: code, from: &r, depth: depth, field: field)
        }
    }

    @usableFromInline
    static func readOtherData(code: UInt8, from r: inout WireReader, depth: Int, field: StaticString) throws(CodecError) -> Value {
        switch code {
        case 0x00: return .null
        case 0x01: return .bool(try r.u8(field) != 0)
        case 0x02: return .int(Int64(Int8(bitPattern: try r.u8(field))))
        case 0x03: return .int(Int64(Int16(bitPattern: try r.u16(field))))
        case 0x04: return .int(Int64(Int32(bitPattern: try r.u32(field))))
        case 0x05: return .int(Int64(bitPattern: try r.u64(field)))
        case 0x06: return .float(Double(Float(bitPattern: try r.u32(field))))
        case 0x07: return .float(try r.f64(field))
        case 0x08: return .string(try r.string(field))
        case 0x09: return .bytes(try r.byteArray(field))
        case 0x0A:
            guard depth < CodecLimits.maxValueDepth else { throw .nestingTooDeep(limit: CodecLimits.maxValueDepth) }
            // Each element takes at least its type code.
            let n = try r.count(field, minimumElementSize: 1)
            var items: [Value] = []
            items.reserveCapacity(n)
            for _ in 0 ..< n { items.append(try read(from: &r, depth: depth &+ 1, field: field)) }
            return .array(items)
        case 0x0B:
            guard depth < CodecLimits.maxValueDepth else { throw .nestingTooDeep(limit: CodecLimits.maxValueDepth) }
            // Each entry takes at least a key length and a type code.
            let n = try r.count(field, minimumElementSize: 3)
            var entries: [(key: String, value: Value)] = []
            entries.reserveCapacity(n)
            for _ in 0 ..< n {
                let key = try r.string(field)
                entries.append((key: key, value: try read(from: &r, depth: depth &+ 1, field: field)))
            }
            return .map(entries)
        default:
            throw .unknownValueType(code, field: field.description)
        }
    }

    /// Type code + data.
    @usableFromInline @inline(__always)
    static func read(from r: inout WireReader, depth: Int = 0, field: StaticString) throws(CodecError) -> Value {
        let code = try r.u8(field)
        return try readData(code: code, from: &r, depth: depth, field: field)
    }
}

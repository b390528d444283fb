/// Why bytes could not be decoded (or a message could not be encoded). Every case names
/// what was wrong and where, in plain words (`description`).
public enum CodecError: Error, Sendable, Equatable, CustomStringConvertible {
    // Frame level: the header itself is wrong (answered with ERROR 100).
    case emptyInput
    case badMagic(UInt8)
    case headerTruncated(available: Int)
    case timestampTruncated(available: Int)
    case payloadTruncated(declared: Int, available: Int)
    case emptyPayload

    // Message level: the header is fine, the payload is not (answered with ERROR 101).
    case unknownMessageType(UInt8)
    case unknownValueType(UInt8, field: String)
    case unknownEnumValue(UInt8, field: String)
    case truncated(field: String)
    case invalidUTF8(field: String)
    case nestingTooDeep(limit: Int)
    case legacy(String)
    /// Bytes left after a value that must fill its input on its own (`Value(decoding:)`).
    case trailingBytes(Int, field: String)

    // Encoding.
    case payloadTooLarge(Int)
    case fieldTooLong(field: String, length: Int)

    /// True for errors in the frame header (ERROR 100), false for payload errors (101).
    public var isFrameLevel: Bool {
        switch self {
        case .emptyInput, .badMagic, .headerTruncated, .timestampTruncated, .payloadTruncated, .emptyPayload:
            return true
        default:
            return false
        }
    }

    public var description: String {
        switch self {
        case .emptyInput: return "empty frame"
        case .badMagic(let byte): return "bad magic byte 0x\(hex(byte)) (expected 0x53)"
        case .headerTruncated(let n): return "frame header truncated: \(n) of 4 bytes"
        case .timestampTruncated(let n): return "frame timestamp flag set but only \(n) of 8 timestamp bytes present"
        case .payloadTruncated(let declared, let available):
            return "payload truncated: header declares \(declared) bytes, \(available) present"
        case .emptyPayload: return "frame has an empty payload"
        case .unknownMessageType(let code): return "unknown message type 0x\(hex(code))"
        case .unknownValueType(let code, let field): return "unknown value type 0x\(hex(code)) in \(field)"
        case .unknownEnumValue(let code, let field): return "invalid \(field) 0x\(hex(code))"
        case .truncated(let field): return "message truncated in \(field)"
        case .invalidUTF8(let field): return "invalid UTF-8 in \(field)"
        case .nestingTooDeep(let limit): return "nesting deeper than \(limit) levels"
        case .legacy(let reason): return "legacy MessagePack payload: \(reason)"
        case .trailingBytes(let n, let field): return "\(n) unexpected bytes after \(field)"
        case .payloadTooLarge(let n): return "encoded payload of \(n) bytes exceeds 65535"
        case .fieldTooLong(let field, let n): return "\(field) of \(n) bytes exceeds 65535"
        }
    }
}

private func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
}

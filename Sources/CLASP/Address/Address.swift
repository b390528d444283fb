/// Why an address or an address pattern was refused. `description` is the plain-text reason;
/// where the reference has a text for the same failure, it is the same text (the router
/// prefixes `invalid address: ` when it answers with ERROR 202).
public enum AddressError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The empty string.
    case empty
    /// The text does not start with `/`.
    case missingLeadingSlash(String)
    /// Two slashes in a row, or (for write addresses) a trailing slash or the root `/`.
    case emptySegment(String)
    /// Longer than the configured limit, in UTF-8 bytes.
    case tooLong(length: Int, limit: Int)
    /// A control character (below U+0020, or U+007F) in a write address; `offset` is its
    /// UTF-8 byte offset.
    case controlCharacter(offset: Int, scalar: UInt8)
    /// A pattern character (`* ? [ ] { }`) in a write address, which is always literal.
    case patternCharacter(Character, address: String)
    /// A segment whose glob syntax is malformed (unclosed `[` or `{`, a trailing `\`, …).
    case malformedGlob(segment: String, reason: String)

    public var description: String {
        switch self {
        case .empty:
            return "empty address"
        case .missingLeadingSlash(let text):
            return "address must start with '/': \(text)"
        case .emptySegment(let text):
            return "empty segment in address: \(text)"
        case .tooLong(let length, let limit):
            return "address is \(length) bytes long, the limit is \(limit)"
        case .controlCharacter(let offset, let scalar):
            let code = String(scalar, radix: 16, uppercase: true)
            return "control character U+\(String(repeating: "0", count: 4 - code.count))\(code) at byte \(offset) of address"
        case .patternCharacter(let character, let address):
            return "pattern character '\(character)' in address: \(address) (addresses to write to are literal)"
        case .malformedGlob(let segment, let reason):
            return "invalid pattern segment '\(segment)': \(reason)"
        }
    }
}

/// Rules for addresses that are written to or read from (SET, PUBLISH and GET targets).
///
/// A write address is literal text: `/` followed by one or more non-empty segments separated
/// by `/`. See `docs/addresses.md`.
public enum Address {
    /// The default limit on address and pattern length, in UTF-8 bytes.
    public static let defaultMaxLength = 1024

    /// Checks a write address. It must:
    /// - be non-empty and at most `maxLength` UTF-8 bytes long;
    /// - start with `/`;
    /// - have no empty segment: no `//`, no trailing `/`, and not be the root `/` alone;
    /// - contain no control character (U+0000–U+001F, U+007F);
    /// - contain none of the pattern characters `* ? [ ] { }`.
    ///
    /// Unlike the reference (which stores any text), the router refuses other addresses
    /// with ERROR 200.
    public static func validate(_ address: String, maxLength: Int = defaultMaxLength) throws(AddressError) {
        let utf8 = address.utf8
        guard !utf8.isEmpty else { throw .empty }
        guard utf8.count <= maxLength else { throw .tooLong(length: utf8.count, limit: maxLength) }
        guard utf8.first == UInt8(ascii: "/") else { throw .missingLeadingSlash(address) }
        var previous: UInt8 = 0
        for (offset, byte) in utf8.enumerated() {
            switch byte {
            case 0x00..<0x20, 0x7F:
                throw .controlCharacter(offset: offset, scalar: byte)
            case UInt8(ascii: "*"), UInt8(ascii: "?"), UInt8(ascii: "["), UInt8(ascii: "]"),
                 UInt8(ascii: "{"), UInt8(ascii: "}"):
                throw .patternCharacter(Character(Unicode.Scalar(byte)), address: address)
            case UInt8(ascii: "/") where previous == UInt8(ascii: "/"):
                throw .emptySegment(address)
            default:
                break
            }
            previous = byte
        }
        // A trailing slash (and the root "/") leaves an empty last segment.
        guard previous != UInt8(ascii: "/") else { throw .emptySegment(address) }
    }

    /// Whether `address` passes `validate(_:maxLength:)`.
    public static func isValid(_ address: String, maxLength: Int = defaultMaxLength) -> Bool {
        do {
            try validate(address, maxLength: maxLength)
            return true
        } catch {
            return false
        }
    }

    /// The segments of an address: the text after the leading `/`, split at every `/`
    /// (so `/a/b` gives `["a", "b"]`, `/a/` gives `["a", ""]` and `/` gives `[""]`).
    /// `nil` when the text does not start with `/`.
    public static func segments(of address: String) -> [Substring]? {
        guard address.utf8.first == UInt8(ascii: "/") else { return nil }
        return address.utf8.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
            .map { Substring($0) }
    }
}

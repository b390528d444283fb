/// One segment of an `AddressPattern`.
public enum PatternSegment: Sendable, Hashable {
    /// A segment without glob syntax; the address segment must have exactly this text
    /// (compared scalar by scalar, without Unicode normalisation).
    case literal(String)
    /// `*`: exactly one segment, whatever its content, the empty segment included.
    case anySegment
    /// `**`: zero or more whole segments.
    case anySegments
    /// A segment with glob syntax (`zone*`, `*.wav`, `{a,b}`, `[0-9]`, `?`, `\`): exactly one
    /// segment that the glob matches.
    case glob(SegmentGlob)

    /// Whether one address segment matches this pattern segment. `anySegments` answers
    /// true (it can take any segment; it can also take none, which this cannot express).
    public func matches(_ segment: Substring) -> Bool {
        switch self {
        case .literal(let text): return segment.utf8.elementsEqual(text.utf8)
        case .anySegment, .anySegments: return true
        case .glob(let glob): return glob.matches(segment)
        }
    }
}

/// A subscription, snapshot, QUERY (and scope) pattern: the single matcher of the gateway.
///
/// Parsing (same acceptance as the reference's pattern parser): the text must be non-empty,
/// start with `/`, and have no empty segment except a trailing one (`/a/` is accepted,
/// `/a//b` is not); it may be at most `maxLength` UTF-8 bytes.
///
/// Matching, segment by segment (segments are the text after the leading `/` split at each
/// `/`, so `/a/` has the segments `a` and the empty one):
/// - a literal segment matches the equal segment;
/// - `*` matches exactly one segment, the empty one included (`/a/*` matches `/a/`);
/// - `**` matches zero or more whole segments, wherever it is (`/a/**` matches `/a`,
///   `/a/b`, `/a/b/c`, not `/ab`; `/**/b` matches `/b` and `/x/y/b`);
/// - a segment with glob syntax matches one segment by `SegmentGlob` rules (`*` any run of
///   characters, `?` one, `[a-z]`/`[!a-z]` classes, `{a,b}` alternatives, `\` escapes).
///
/// An address that does not start with `/` matches nothing. Matching takes
/// O(address segments × pattern segments) segment tests and never recurses.
public struct AddressPattern: Sendable, Hashable, CustomStringConvertible {
    /// The pattern as given.
    public let text: String
    /// The parsed segments, in order.
    public private(set) var segments: [PatternSegment]
    /// True when no segment is a wildcard or glob: the pattern matches only the address
    /// equal to `text`.
    public private(set) var isLiteral: Bool

    public init(_ text: String, maxLength: Int = Address.defaultMaxLength) throws(AddressError) {
        let utf8 = text.utf8
        guard !utf8.isEmpty else { throw .empty }
        guard utf8.count <= maxLength else { throw .tooLong(length: utf8.count, limit: maxLength) }
        guard utf8.first == UInt8(ascii: "/") else { throw .missingLeadingSlash(text) }
        let parts = utf8.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        var segments: [PatternSegment] = []
        segments.reserveCapacity(parts.count)
        var isLiteral = true
        for (index, part) in parts.enumerated() {
            if part.isEmpty && index < parts.count - 1 { throw .emptySegment(text) }
            let segment = String(Substring(part))
            let parsed = try Self.parseSegment(segment)
            if case .literal = parsed {} else { isLiteral = false }
            segments.append(parsed)
        }
        self.text = text
        self.segments = segments
        self.isLiteral = isLiteral
    }

    private static func parseSegment(_ segment: String) throws(AddressError) -> PatternSegment {
        switch segment {
        case "**": return .anySegments
        case "*": return .anySegment
        default:
            let hasGlobSyntax = segment.utf8.contains { byte in
                byte == UInt8(ascii: "*") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "[")
                    || byte == UInt8(ascii: "{") || byte == UInt8(ascii: "\\")
            }
            return hasGlobSyntax ? .glob(try SegmentGlob(segment)) : .literal(segment)
        }
    }

    public var description: String { text }

    public static func == (lhs: AddressPattern, rhs: AddressPattern) -> Bool { lhs.text == rhs.text }
    public func hash(into hasher: inout Hasher) { hasher.combine(text) }

    /// Whether `address` matches the pattern (rules in the type's documentation).
    public func matches(_ address: String) -> Bool {
        if isLiteral { return address.utf8.elementsEqual(text.utf8) }
        guard let parts = Address.segments(of: address) else { return false }
        return Self.match(segments[...], parts[...])
    }

    /// Greedy two-pointer match of segment sequences: each non-`**` pattern segment takes
    /// exactly one address segment, so on a mismatch it is enough to let the most recent
    /// `**` take one more segment and retry from there.
    private static func match(_ pattern: ArraySlice<PatternSegment>, _ address: ArraySlice<Substring>) -> Bool {
        var p = pattern.startIndex
        var a = address.startIndex
        var resumePattern: Int?          // index after the last `**` seen
        var resumeAddress = address.startIndex
        while a < address.endIndex {
            if p < pattern.endIndex, case .anySegments = pattern[p] {
                p += 1
                resumePattern = p
                resumeAddress = a
            } else if p < pattern.endIndex, pattern[p].matches(address[a]) {
                p += 1
                a += 1
            } else if let resume = resumePattern {
                resumeAddress += 1
                a = resumeAddress
                p = resume
            } else {
                return false
            }
        }
        while p < pattern.endIndex, case .anySegments = pattern[p] { p += 1 }
        return p == pattern.endIndex
    }
}

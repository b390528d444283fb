import Testing
import CLASP

private func pattern(_ text: String) throws -> AddressPattern { try AddressPattern(text) }

private func parseError(_ text: String, maxLength: Int = 1024) -> AddressError? {
    do {
        _ = try AddressPattern(text, maxLength: maxLength)
        return nil
    } catch {
        return error
    }
}

@Suite("Address patterns: parsing")
struct AddressPatternParsingTests {
    @Test("segments are parsed into literals, *, ** and globs")
    func segments() throws {
        let parsed = try pattern("/lumen/*/layer/**/op*/{a,b}/x?/[0-9]/plain")
        #expect(parsed.text == "/lumen/*/layer/**/op*/{a,b}/x?/[0-9]/plain")
        #expect(parsed.segments == [
            .literal("lumen"), .anySegment, .literal("layer"), .anySegments,
            .glob(try SegmentGlob("op*")), .glob(try SegmentGlob("{a,b}")), .glob(try SegmentGlob("x?")),
            .glob(try SegmentGlob("[0-9]")), .literal("plain"),
        ])
        #expect(!parsed.isLiteral)
    }

    @Test("a pattern without wildcards is literal and keeps its exact segment text")
    func literalPattern() throws {
        let parsed = try pattern("/mixer/fader/1")
        #expect(parsed.isLiteral)
        #expect(parsed.segments == [.literal("mixer"), .literal("fader"), .literal("1")])
        // Characters that are not glob syntax on their own stay literal.
        let punctuation = try pattern("/a]b/c}d/e,f/g-h/!")
        #expect(punctuation.isLiteral)
        #expect(punctuation.segments == [.literal("a]b"), .literal("c}d"), .literal("e,f"), .literal("g-h"), .literal("!")])
    }

    @Test("the reference's parse rules: leading slash, no empty segment but a trailing one")
    func parseRules() throws {
        #expect(parseError("") == .empty)
        #expect(parseError("lights/**") == .missingLeadingSlash("lights/**"))
        #expect(parseError("**") == .missingLeadingSlash("**"))
        #expect(parseError("/a//b") == .emptySegment("/a//b"))
        #expect(parseError("//") == .emptySegment("//"))
        #expect(try pattern("/a/").segments == [.literal("a"), .literal("")])
        #expect(try pattern("/").segments == [.literal("")])
        #expect(try pattern("/**/").segments == [.anySegments, .literal("")])
    }

    @Test("error texts are the reference's, as the router sends them after 'invalid address: '")
    func referenceErrorTexts() {
        #expect(parseError("lights/**").map { "invalid address: \($0)" } == "invalid address: address must start with '/': lights/**")
        #expect(parseError("/a//b").map { "invalid address: \($0)" } == "invalid address: empty segment in address: /a//b")
    }

    @Test("malformed glob syntax names the segment", arguments: [
        ("/a/b[c", "b[c"), ("/a/{x,y", "{x,y"), ("/a/[!", "[!"), ("/a/x\\", "x\\"), ("/{a,{b}}/c", "{a,{b}}"),
        ("/a/[z-a]", "[z-a]"), ("/a/[]", "[]"),
    ])
    func malformedGlobs(_ text: String, _ segment: String) {
        let error = parseError(text)
        guard case .malformedGlob(let named, _)? = error else {
            Issue.record("expected malformedGlob for \(text), got \(String(describing: error))")
            return
        }
        #expect(named == segment)
        #expect(error?.description.contains("'\(segment)'") == true)
    }

    @Test("the length limit counts UTF-8 bytes")
    func lengthLimit() throws {
        let long = "/" + String(repeating: "a", count: 1023)
        _ = try pattern(long)
        #expect(parseError(long + "a") == .tooLong(length: 1025, limit: 1024))
        #expect(parseError("/éé", maxLength: 4) == .tooLong(length: 5, limit: 4))
    }

    @Test("equality and hashing follow the text")
    func hashable() throws {
        #expect(try pattern("/a/*") == pattern("/a/*"))
        #expect(try pattern("/a/*") != pattern("/a/**"))
        #expect(Set([try pattern("/a/*"), try pattern("/a/*"), try pattern("/b")]).count == 2)
        #expect(try SegmentGlob("a*") == SegmentGlob("a*"))
    }
}

@Suite("Address patterns: matching")
struct AddressPatternMatchingTests {
    /// wire-format §4.2: the cases where the reference's two matchers disagree, with the
    /// single answer of ours.
    @Test("the §4.2 table under the single matcher", arguments: [
        ("/a/**", "/a", true),
        ("/a/**", "/a/b/c", true),
        ("/a/**", "/ab", false),
        ("/a/*", "/a/", true),
        ("/a/*", "/a/b/c", false),
        ("/a/*/c", "/a//c", true),
        ("/a/b*", "/a/bcd", true),
        ("/a/{b,c}", "/a/c", true),
        ("/a/?", "/a/x", true),
        ("/**", "/x", true),
    ])
    func referenceTable(_ text: String, _ address: String, _ expected: Bool) throws {
        #expect(try pattern(text).matches(address) == expected)
    }

    @Test("literal segments match equal segments only", arguments: [
        ("/a/b", "/a/b", true), ("/a/b", "/a/b/", false), ("/a/b", "/a", false), ("/a/b", "/a/bc", false),
        ("/a/", "/a/", true), ("/a/", "/a", false), ("/", "/", true), ("/", "/a", false),
        ("/a/b", "a/b", false), ("/a/b", "", false),
    ])
    func literals(_ text: String, _ address: String, _ expected: Bool) throws {
        #expect(try pattern(text).matches(address) == expected)
    }

    @Test("* is exactly one segment", arguments: [
        ("/a/*", "/a/b", true), ("/a/*", "/a", false), ("/*", "/", true), ("/*", "/x", true), ("/*", "/x/y", false),
        ("/*/*", "/x/y", true), ("/*/*", "/x", false), ("/*/b", "//b", true), ("/a/*/c", "/a/b/c", true),
        ("/a/*/c", "/a/b/d", false), ("/a/*", "a/b", false),
    ])
    func singleSegment(_ text: String, _ address: String, _ expected: Bool) throws {
        #expect(try pattern(text).matches(address) == expected)
    }

    @Test("** is zero or more segments anywhere", arguments: [
        ("/**", "/", true), ("/**", "/a/b/c", true), ("/**/b", "/b", true), ("/**/b", "/x/y/b", true),
        ("/**/b", "/x/y/c", false), ("/**/b", "/b/x", false), ("/a/**/b", "/a/b", true), ("/a/**/b", "/a/x/b", true),
        ("/a/**/b", "/a/x/y/z/b", true), ("/a/**/b", "/a/x/b/y", false), ("/a/**/b", "/b", false),
        ("/a/**/b/**/c", "/a/b/c", true), ("/a/**/b/**/c", "/a/1/b/2/3/c", true), ("/a/**/b/**/c", "/a/c/b", false),
        ("/**/**", "/x", true), ("/a/**/**/z", "/a/z", true), ("/**/x/y", "/x/x/x/y", true),
        ("/**/x/*/z", "/x/x/q/z", true), ("/**/x/*/z", "/x/q/z/z", false), ("/**/b*/c", "/q/bee/bee/c", true),
        ("/a/**", "/a/", true), ("/**/", "/a/", true), ("/**/", "/a", false),
    ])
    func anySegments(_ text: String, _ address: String, _ expected: Bool) throws {
        #expect(try pattern(text).matches(address) == expected)
    }

    @Test("segment globs", arguments: [
        ("/zone5*", "/zone5", true), ("/zone5*", "/zone5-left", true), ("/zone5*", "/zone4", false),
        ("/*.wav", "/kick.wav", true), ("/*.wav", "/kick.wav/x", false), ("/*.wav", "/.wav", true), ("/*.wav", "/kick.mp3", false),
        ("/a*b*c", "/abc", true), ("/a*b*c", "/axxbyyc", true), ("/a*b*c", "/acb", false),
        ("/x?", "/xy", true), ("/x?", "/x", false), ("/x?", "/xyz", false),
        ("/ch[0-9]", "/ch7", true), ("/ch[0-9]", "/chx", false), ("/ch[!0-9]", "/chx", true), ("/ch[!0-9]", "/ch7", false),
        ("/ch[^0-9]", "/chx", true), ("/[abc]", "/b", true), ("/[abc]", "/d", false), ("/[]a]", "/]", true),
        ("/[a-]", "/-", true), ("/[!]]", "/]", false), ("/[!]]", "/x", true),
        ("/{kick,snare}.wav", "/snare.wav", true), ("/{kick,snare}.wav", "/hat.wav", false),
        ("/{a*,*z}", "/apple", true), ("/{a*,*z}", "/quiz", true), ("/{a*,*z}", "/quit", false),
        ("/v{,2}", "/v", true), ("/v{,2}", "/v2", true), ("/v{,2}", "/v3", false), ("/{?x,[0-9]y}", "/qx", true),
        ("/{?x,[0-9]y}", "/5y", true), ("/{?x,[0-9]y}", "/xy", false),
        ("/a\\*", "/a*", true), ("/a\\*", "/ab", false), ("/\\{a,b\\}", "/{a,b}", true), ("/\\{a,b\\}", "/a", false),
        ("/\\?", "/?", true), ("/\\?", "/x", false), ("/[\\]]", "/]", true), ("/a\\b", "/ab", true),
        ("/lights/*/color", "/lights/1/color", true), ("/s/*x", "/s/", false), ("/s/*", "/s/", true),
    ])
    func globs(_ text: String, _ address: String, _ expected: Bool) throws {
        #expect(try pattern(text).matches(address) == expected)
    }

    @Test("unicode segments are matched by scalar, without normalisation", arguments: [
        ("/café/?", "/café/ü", true), ("/caf?", "/café", true), ("/日本/*語", "/日本/日本語", true),
        ("/[α-ω]", "/λ", true), ("/[α-ω]", "/L", false), ("/🎛️*", "/🎛️fader", true), ("/{é,è}", "/è", true),
        ("/café", "/caf\u{65}\u{301}", false),  // NFC pattern, NFD address: different scalars
        ("/caf?", "/caf\u{65}\u{301}", false),  // ? is one scalar, the NFD form has two after "caf"
        ("/caf??", "/caf\u{65}\u{301}", true),
    ])
    func unicode(_ text: String, _ address: String, _ expected: Bool) throws {
        #expect(try pattern(text).matches(address) == expected)
    }

    @Test("PatternSegment answers for one segment")
    func patternSegmentMatches() throws {
        #expect(PatternSegment.literal("a").matches("a"))
        #expect(!PatternSegment.literal("a").matches("b"))
        #expect(PatternSegment.anySegment.matches(""))
        #expect(PatternSegment.anySegments.matches("x"))
        #expect(PatternSegment.glob(try SegmentGlob("x*")).matches("xy"))
    }

    @Test("long addresses and many segments")
    func longAddresses() throws {
        let segments = (0..<200).map { "s\($0)" }
        let address = "/" + segments.joined(separator: "/")
        #expect(try pattern("/**").matches(address))
        #expect(try pattern("/s0/**/s199").matches(address))
        #expect(try pattern("/**/s100/**/s199").matches(address))
        #expect(try pattern("/**/s1*/**/s19?").matches(address))
        #expect(!(try pattern("/**/s100/**/s99").matches(address)))
        #expect(try pattern(address).matches(address))
        let longSegment = "/" + String(repeating: "x", count: 1000)
        #expect(try pattern("/x*x").matches(longSegment))
        #expect(try pattern("/*").matches(longSegment))
    }

    @Test("pathological patterns finish fast")
    func pathological() throws {
        let segment = "/" + String(repeating: "a", count: 1000)
        let manySegments = "/" + Array(repeating: "a", count: 300).joined(separator: "/")
        let cases: [(AddressPattern, String, Bool)] = [
            (try pattern("/*a*a*a*a*a*a*a*a*a*b"), segment, false),
            (try pattern("/*a*a*a*a*a*a*a*a*a*a"), segment, true),
            (try pattern("/{*a*a*a,*a*a*a*a}*b"), segment, false),
            // Many `**` against many segments that almost match.
            (try pattern("/**/a/**/a/**/a/**/a/**/a/**/b"), manySegments, false),
            (try pattern("/**/a/**/a/**/a/**/a/**/a/**/a"), manySegments, true),
            (try pattern("/**/a*a*a*a*b/**"), manySegments, false),
            // Star runs collapse.
            (try pattern("/" + String(repeating: "*", count: 500) + "b"), segment, false),
        ]
        let clock = ContinuousClock()
        for (compiled, address, expected) in cases {
            let start = clock.now
            #expect(compiled.matches(address) == expected, "\(compiled)")
            let elapsed = clock.now - start
            #expect(elapsed < .milliseconds(500), "\(compiled) took \(elapsed)")
        }
    }

    @Test("addresses that do not start with '/' match nothing")
    func noLeadingSlash() throws {
        #expect(!(try pattern("/**").matches("a/b")))
        #expect(!(try pattern("/**").matches("")))
        #expect(!(try pattern("/*").matches("x")))
    }
}

/// A deliberately naive matcher (recursive, exponential) used as an oracle on small inputs.
private enum NaiveMatcher {
    static func matches(pattern: [String], address: [String]) -> Bool {
        guard let first = pattern.first else { return address.isEmpty }
        let rest = Array(pattern.dropFirst())
        if first == "**" {
            return (0...address.count).contains { matches(pattern: rest, address: Array(address.dropFirst($0))) }
        }
        guard let segment = address.first else { return false }
        let segmentMatches = first == "*" || expandBraces(first).contains { glob(Array($0), Array(segment)) }
        return segmentMatches && matches(pattern: rest, address: Array(address.dropFirst()))
    }

    /// `x{a,b}y` → [`xay`, `xby`] (one level, as the generator makes them).
    static func expandBraces(_ text: String) -> [String] {
        guard let open = text.firstIndex(of: "{"), let close = text.firstIndex(of: "}") else { return [text] }
        let head = text[..<open], tail = text[text.index(after: close)...]
        return text[text.index(after: open)..<close].split(separator: ",", omittingEmptySubsequences: false)
            .map { String(head + $0 + tail) }
    }

    static func glob(_ pattern: [Character], _ text: [Character]) -> Bool {
        guard let first = pattern.first else { return text.isEmpty }
        let rest = Array(pattern.dropFirst())
        switch first {
        case "*": return (0...text.count).contains { glob(rest, Array(text.dropFirst($0))) }
        case "?": return !text.isEmpty && glob(rest, Array(text.dropFirst()))
        case "[":
            let close = rest.firstIndex(of: "]")!
            let members = rest[..<close]
            guard let character = text.first, members.contains(character) else { return false }
            return glob(Array(rest[(close + 1)...]), Array(text.dropFirst()))
        default:
            return text.first == first && glob(rest, Array(text.dropFirst()))
        }
    }
}

@Suite("Address patterns: differential check")
struct AddressPatternDifferentialTests {
    @Test("agrees with a naive recursive matcher on 20k random small cases (fixed seed)")
    func agreesWithNaiveMatcher() throws {
        var state: UInt64 = 0x5EED_0042
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let patternSegments = ["a", "b", "ab", "", "*", "**", "a*", "*b", "?", "a?", "[ab]", "[a]b", "{a,b}", "{a*,b}", "x{,a}", "*a*", "??"]
        let addressSegments = ["a", "b", "ab", "ba", "", "aab", "xa", "x", "bb"]
        var mismatches: [String] = []
        for _ in 0..<20_000 {
            let patternCount = 1 + next(4)
            var segments = (0..<patternCount).map { _ in patternSegments[next(patternSegments.count)] }
            // Only a trailing segment may be empty in a pattern.
            for index in segments.indices.dropLast() where segments[index].isEmpty { segments[index] = "a" }
            let address = (0..<(1 + next(5))).map { _ in addressSegments[next(addressSegments.count)] }
            let text = "/" + segments.joined(separator: "/")
            let addressText = "/" + address.joined(separator: "/")
            let expected = NaiveMatcher.matches(pattern: segments, address: address)
            if try AddressPattern(text).matches(addressText) != expected {
                mismatches.append("\(text) vs \(addressText): expected \(expected)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }
}

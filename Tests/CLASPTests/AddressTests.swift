import Testing
import CLASP

@Suite("Write addresses")
struct AddressTests {
    @Test("ordinary addresses are valid", arguments: [
        "/a", "/lumen/layer/0/opacity", "/mixer/fader/1", "/a-b_c.d~e", "/ünïcødé/ä/日本語/🎛️",
        "/a b/c", "/1/2/3/4/5/6/7/8/9/10",
    ])
    func validAddresses(_ address: String) throws {
        try Address.validate(address, maxLength: 1024)
        #expect(Address.isValid(address))
    }

    @Test("the empty address is refused")
    func emptyAddress() {
        #expect(throws: AddressError.empty) { try Address.validate("", maxLength: 1024) }
        #expect(AddressError.empty.description == "empty address")
    }

    @Test("an address must start with '/'", arguments: ["foo", "a/b", " /a", "é", "*"])
    func leadingSlash(_ address: String) {
        #expect(throws: AddressError.missingLeadingSlash(address)) { try Address.validate(address, maxLength: 1024) }
    }

    @Test("the reference's message for a missing leading slash")
    func leadingSlashMessage() {
        #expect(AddressError.missingLeadingSlash("lights/**").description == "address must start with '/': lights/**")
    }

    @Test("empty segments, a trailing slash and the root alone are refused", arguments: ["/", "/a/", "/a//b", "//a", "/a/b//", "///"])
    func emptySegments(_ address: String) {
        #expect(throws: AddressError.emptySegment(address)) { try Address.validate(address, maxLength: 1024) }
    }

    @Test("the reference's message for an empty segment")
    func emptySegmentMessage() {
        #expect(AddressError.emptySegment("/a//b").description == "empty segment in address: /a//b")
    }

    @Test("pattern characters are refused in write addresses", arguments: ["*", "?", "[", "]", "{", "}"])
    func patternCharacters(_ character: String) {
        let address = "/lights/\(character)x"
        #expect(throws: AddressError.patternCharacter(Character(character), address: address)) {
            try Address.validate(address, maxLength: 1024)
        }
        #expect(!Address.isValid("/\(character)"))
    }

    @Test("control characters are refused", arguments: [0x00, 0x01, 0x09, 0x0A, 0x0D, 0x1B, 0x1F, 0x7F] as [UInt8])
    func controlCharacters(_ byte: UInt8) {
        let address = "/a" + String(Unicode.Scalar(byte)) + "b"
        #expect(throws: AddressError.controlCharacter(offset: 2, scalar: byte)) { try Address.validate(address, maxLength: 1024) }
    }

    @Test("characters that are neither control nor pattern characters are accepted")
    func otherPunctuation() throws {
        try Address.validate("/a,b/c!d/e#f/g$h/%20/(x)/+/=/@/^/|/\\/'\"/`/<>", maxLength: 1024)
        // U+0080 and above are not control characters under this rule (C1 controls included).
        try Address.validate("/\u{85}/\u{A0}", maxLength: 1024)
    }

    @Test("the length limit counts UTF-8 bytes")
    func lengthLimit() throws {
        let ascii = "/" + String(repeating: "a", count: 1023)
        try Address.validate(ascii, maxLength: 1024)
        #expect(throws: AddressError.tooLong(length: 1025, limit: 1024)) { try Address.validate(ascii + "a", maxLength: 1024) }
        let accented = "/" + String(repeating: "é", count: 4)  // 9 bytes
        try Address.validate(accented, maxLength: 9)
        #expect(throws: AddressError.tooLong(length: 9, limit: 8)) { try Address.validate(accented, maxLength: 8) }
    }

    @Test("segments(of:) splits after the leading slash")
    func segments() {
        #expect(Address.segments(of: "/a/b/c") == ["a", "b", "c"])
        #expect(Address.segments(of: "/a/") == ["a", ""])
        #expect(Address.segments(of: "/") == [""])
        #expect(Address.segments(of: "/a//b") == ["a", "", "b"])
        #expect(Address.segments(of: "/é/ü") == ["é", "ü"])
        #expect(Address.segments(of: "a/b") == nil)
        #expect(Address.segments(of: "") == nil)
    }

    @Test("every error has a plain description")
    func descriptions() {
        #expect(AddressError.tooLong(length: 2000, limit: 1024).description == "address is 2000 bytes long, the limit is 1024")
        #expect(AddressError.controlCharacter(offset: 3, scalar: 0x07).description == "control character U+0007 at byte 3 of address")
        #expect(AddressError.patternCharacter("*", address: "/a*").description.contains("'*'"))
        #expect(AddressError.malformedGlob(segment: "a[b", reason: "unclosed '['").description == "invalid pattern segment 'a[b': unclosed '['")
    }
}

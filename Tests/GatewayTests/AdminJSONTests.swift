import Testing
import Web

/// The admin API's JSON reader and writer.
@Suite struct AdminJSONTests {
    @Test func valuesReadBackAsWritten() {
        let value = JSON.object([
            ("float", .number(1.0)), ("int", .integer(-7)), ("text", .string("a \"quoted\" \\ <tag>\n é 🎛")),
            ("list", .array([.bool(true), .null, .number(2.5e-8)])), ("empty", .object([])),
        ])
        #expect(JSON.parse(Array(value.serialized.utf8)) == value)
        #expect(value.serialized.contains("\\u003ctag>"))
    }

    @Test func numbersKeepTheirKind() {
        #expect(JSON.parse(Array("1.0".utf8)) == .number(1))
        #expect(JSON.parse(Array("1".utf8)) == .integer(1))
        #expect(JSON.parse(Array("1e3".utf8)) == .number(1_000))
        #expect(JSON.parse(Array(#""\ud83c\udf9b""#.utf8)) == .string("🎛"))
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "nul", "\"\u{01}\"", "\"\\x\"", "[1] 2", "1e999",
                      String(repeating: "[", count: 100) + String(repeating: "]", count: 100)])
    func malformedInputIsRefused(_ text: String) {
        #expect(JSON.parse(Array(text.utf8)) == nil)
    }
}

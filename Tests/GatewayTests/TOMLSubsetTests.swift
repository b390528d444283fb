import Testing

@testable import Gateway

@Suite struct TOMLSubsetTests {
    private func parse(_ text: String) throws -> TOMLDocument {
        try TOMLSubsetParser.parse(text)
    }

    private func value(_ text: String) throws -> TOMLValue? {
        try parse("k = " + text).entries.first?.value
    }

    private func syntaxError(_ text: String) -> TOMLSyntaxError? {
        do {
            _ = try TOMLSubsetParser.parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func tablesKeysAndCommentsAreRead() throws {
        let document = try parse(
            """
            # leading comment
            top = 1

            [server]   # trailing comment
            name = "x" # comment after a value
              port=7330
            [limits]
            max_sessions = 10
            """)
        #expect(document.entries.map(\.path) == ["top", "server.name", "server.port", "limits.max_sessions"])
        #expect(document.entries.map(\.line) == [2, 5, 6, 8])
        #expect(document.tables.map(\.name) == ["server", "limits"])
        #expect(document.entries[1].table == "server")
        #expect(document.entries[1].key == "name")
        #expect(document.entries[0].table == "")
    }

    @Test func everyScalarKindIsRead() throws {
        #expect(try value("\"a\\tb\\\"c\\\\ \\u00e9\\U0001F600\"") == .string("a\tb\"c\\ é😀"))
        #expect(try value("'C:\\path\\n'") == .string("C:\\path\\n"))
        #expect(try value("\"\"") == .string(""))
        #expect(try value("42") == .integer(42))
        #expect(try value("-17") == .integer(-17))
        #expect(try value("+5") == .integer(5))
        #expect(try value("1_000") == .integer(1000))
        #expect(try value("0x1F") == .integer(31))
        #expect(try value("0o17") == .integer(15))
        #expect(try value("0b101") == .integer(5))
        #expect(try value("9223372036854775807") == .integer(Int64.max))
        #expect(try value("-9223372036854775808") == .integer(Int64.min))
        #expect(try value("1.5") == .float(1.5))
        #expect(try value("-2e3") == .float(-2000))
        #expect(try value("6.25E-1") == .float(0.625))
        #expect(try value("inf") == .float(.infinity))
        #expect(try value("-inf") == .float(-.infinity))
        guard case .float(let nan) = try value("nan") else {
            Issue.record("nan is a float")
            return
        }
        #expect(nan.isNaN)
        #expect(try value("true") == .boolean(true))
        #expect(try value("false") == .boolean(false))
    }

    @Test func arraysMayNestSpanLinesAndEndWithAComma() throws {
        let document = try parse(
            """
            features = [
              "param",   # first
              "event",
            ]
            nested = [[1, 2], [], ["a"]]
            after = 1
            """)
        #expect(document.entries[0].value == .array([.string("param"), .string("event")]))
        #expect(document.entries[1].value == .array([.array([.integer(1), .integer(2)]), .array([]), .array([.string("a")])]))
        #expect(document.entries[2].line == 6)
    }

    @Test func dottedAndQuotedKeysAreSplitIntoTableAndKey() throws {
        let document = try parse("[server]\nsub.key = 1\n\"quoted key\" = 2\n[a.b]\nc = 3")
        #expect(document.entries.map(\.path) == ["server.sub.key", "server.quoted key", "a.b.c"])
        #expect(document.entries[0].table == "server.sub")
        #expect(document.entries[0].key == "key")
        #expect(document.entries[2].table == "a.b")
    }

    @Test func windowsLineEndingsAndAByteOrderMarkAreAccepted() throws {
        let document = try parse("\u{FEFF}[server]\r\nport = 1\r\n")
        #expect(document.entries.first?.value == .integer(1))
    }

    @Test(arguments: [
        ("k = ten", 1, "invalid value ten"),
        ("k =", 1, "missing value"),
        ("k = 1 2", 1, "after the value"),
        ("\n\nk = \"open", 3, "unterminated string"),
        ("k = \"bad \\q\"", 1, "invalid escape"),
        ("k = {a = 1}", 1, "inline tables"),
        ("k = \"\"\"x\"\"\"", 1, "multi-line strings"),
        ("[[t]]", 1, "arrays of tables"),
        ("k = 1979-05-27T07:32:00Z", 1, "dates and times"),
        ("k = [1, 2", 1, "end of file inside an array"),
        ("k = [1 2]", 1, "expected ',' or ']'"),
        ("k = 1\nk = 2", 2, "set twice"),
        ("[a]\n[a]", 2, "defined twice"),
        ("[t\nk = 1", 1, "expected ']'"),
        ("= 1", 1, "expected a key"),
        ("k! = 1", 1, "expected '=' after key 'k', found '!'"),
        ("k = 01", 1, "invalid value 01"),
        ("k = 1__0", 1, "invalid value 1__0"),
        ("k = 99999999999999999999", 1, "invalid value"),
        ("k = .5", 1, "invalid value .5"),
        ("k = 5.", 1, "invalid value 5."),
        ("k = \"\\u12\"", 1, "hex digits"),
        ("k = \"\\uD800\"", 1, "not a Unicode scalar"),
        ("k = \"a\u{01}b\"", 1, "control character"),
    ])
    func malformedInputIsRefusedWithItsLine(input: String, line: Int, reason: String) {
        guard let error = syntaxError(input) else {
            Issue.record("accepted: \(input)")
            return
        }
        #expect(error.line == line, "\(input)")
        #expect(error.reason.contains(reason), "\(input): \(error.reason)")
    }

    @Test func valuesAreWrittenBackForMessages() {
        #expect(TOMLValue.string("ten").tomlText == "\"ten\"")
        #expect(TOMLValue.string("a\"b\n").tomlText == "\"a\\\"b\\n\"")
        #expect(TOMLValue.integer(-3).tomlText == "-3")
        #expect(TOMLValue.float(.infinity).tomlText == "inf")
        #expect(TOMLValue.array([.boolean(true), .string("x")]).tomlText == "[true, \"x\"]")
    }
}

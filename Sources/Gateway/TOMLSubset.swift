// A small, strict parser for the subset of TOML the gateway's config file uses:
// `[table]` headers (bare or dotted names), `key = value` lines, comments, and values that are
// basic or literal strings, integers, floats, booleans or (possibly multi-line) arrays of those.
// Anything outside the subset (inline tables, dates, multi-line strings, arrays of tables) is
// refused with the line it is on, never guessed at.

/// One value from the file.
enum TOMLValue: Equatable, Sendable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case boolean(Bool)
    case array([TOMLValue])

    /// How the value is described in error messages: the kind, and the text as written.
    var kindName: String {
        switch self {
        case .string: "string"
        case .integer: "integer"
        case .float: "float"
        case .boolean: "boolean"
        case .array: "array"
        }
    }

    /// The value written back in TOML syntax (for messages such as `got "ten"`).
    var tomlText: String {
        switch self {
        case .string(let text): TOMLValue.quoted(text)
        case .integer(let number): String(number)
        case .float(let number):
            if number.isNaN { "nan" } else if number.isInfinite { number < 0 ? "-inf" : "inf" } else { String(number) }
        case .boolean(let flag): flag ? "true" : "false"
        case .array(let items): "[" + items.map(\.tomlText).joined(separator: ", ") + "]"
        }
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16, uppercase: true)
                    out += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

/// A `key = value` line, with where it was written.
struct TOMLEntry: Equatable, Sendable {
    /// Full dotted path, e.g. `limits.max_sessions` (table name + key).
    var path: String
    var table: String
    var key: String
    var value: TOMLValue
    var line: Int
}

/// A parsed document: every entry in file order, plus the table headers seen.
struct TOMLDocument: Equatable, Sendable {
    var entries: [TOMLEntry] = []
    /// Table names with the line of their header.
    var tables: [(name: String, line: Int)] = []

    static func == (lhs: TOMLDocument, rhs: TOMLDocument) -> Bool {
        lhs.entries == rhs.entries && lhs.tables.map(\.name) == rhs.tables.map(\.name)
            && lhs.tables.map(\.line) == rhs.tables.map(\.line)
    }
}

/// A syntax error, with the 1-based line it was found on.
struct TOMLSyntaxError: Error, Equatable, Sendable {
    var line: Int
    var reason: String
}

/// The parser. Works on Unicode scalars so positions are exact and nothing is normalised.
struct TOMLSubsetParser {
    private let scalars: [Unicode.Scalar]
    private var index = 0
    private var line = 1

    init(_ text: String) {
        var list = Array(text.unicodeScalars)
        if list.first == "\u{FEFF}" { list.removeFirst() }
        scalars = list
    }

    static func parse(_ text: String) throws(TOMLSyntaxError) -> TOMLDocument {
        var parser = TOMLSubsetParser(text)
        return try parser.parseDocument()
    }

    // MARK: Document structure

    private mutating func parseDocument() throws(TOMLSyntaxError) -> TOMLDocument {
        var document = TOMLDocument()
        var currentTable = ""
        var seenPaths: Set<String> = []
        var seenTables: Set<String> = []

        while true {
            skipBlank()
            guard let scalar = peek() else { break }
            if scalar == "\n" {
                advance()
                continue
            }
            if scalar == "#" {
                try skipComment()
                continue
            }
            if scalar == "[" {
                let headerLine = line
                advance()
                if peek() == "[" {
                    throw fail("arrays of tables ([[...]]) are not supported in this config file")
                }
                skipBlank()
                let name = try parseKeyPath(terminator: "]")
                skipBlank()
                guard peek() == "]" else { throw fail("expected ']' to close the table header") }
                advance()
                try expectEndOfLine()
                if seenTables.contains(name) {
                    throw TOMLSyntaxError(line: headerLine, reason: "table [\(name)] is defined twice")
                }
                if seenPaths.contains(name) {
                    throw TOMLSyntaxError(line: headerLine, reason: "table [\(name)] has the same name as a key")
                }
                seenTables.insert(name)
                document.tables.append((name: name, line: headerLine))
                currentTable = name
                continue
            }
            // key = value
            let entryLine = line
            let key = try parseKeyPath(terminator: "=")
            skipBlank()
            guard peek() == "=" else {
                let found = peek().map { ", found \(TOMLSubsetParser.describe($0))" } ?? ""
                throw fail("expected '=' after key '\(key)'\(found)")
            }
            advance()
            skipBlank()
            guard let next = peek(), next != "\n", next != "#" else {
                throw fail("missing value for key '\(key)'")
            }
            let value = try parseValue(depth: 0)
            try expectEndOfLine()
            let path = currentTable.isEmpty ? key : currentTable + "." + key
            if seenPaths.contains(path) {
                throw TOMLSyntaxError(line: entryLine, reason: "key '\(path)' is set twice")
            }
            if seenTables.contains(path) {
                throw TOMLSyntaxError(line: entryLine, reason: "key '\(path)' has the same name as a table")
            }
            seenPaths.insert(path)
            var table = currentTable
            var leaf = key
            if let dot = key.lastIndex(of: ".") {
                let prefix = String(key[key.startIndex..<dot])
                table = currentTable.isEmpty ? prefix : currentTable + "." + prefix
                leaf = String(key[key.index(after: dot)...])
            }
            document.entries.append(TOMLEntry(path: path, table: table, key: leaf, value: value, line: entryLine))
        }
        return document
    }

    /// A bare or quoted key, possibly dotted (`a.b`, `"a b".c`). Whitespace around dots is allowed.
    private mutating func parseKeyPath(terminator: Unicode.Scalar) throws(TOMLSyntaxError) -> String {
        var parts: [String] = []
        while true {
            skipBlank()
            guard let scalar = peek() else { throw fail("unexpected end of file in a key") }
            if scalar == "\"" {
                advance()
                parts.append(try parseBasicStringBody())
            } else if scalar == "'" {
                advance()
                parts.append(try parseLiteralStringBody())
            } else if TOMLSubsetParser.isBareKeyScalar(scalar) {
                var bare = ""
                while let next = peek(), TOMLSubsetParser.isBareKeyScalar(next) {
                    bare.unicodeScalars.append(next)
                    advance()
                }
                parts.append(bare)
            } else if scalar == terminator || scalar == "\n" {
                throw fail(parts.isEmpty ? "expected a key" : "expected a key after '.'")
            } else {
                throw fail("unexpected character \(TOMLSubsetParser.describe(scalar)) in a key")
            }
            skipBlank()
            if peek() == "." {
                advance()
                continue
            }
            return parts.joined(separator: ".")
        }
    }

    // MARK: Values

    private mutating func parseValue(depth: Int) throws(TOMLSyntaxError) -> TOMLValue {
        guard depth < 32 else { throw fail("arrays nested too deeply") }
        guard let scalar = peek() else { throw fail("unexpected end of file, expected a value") }
        switch scalar {
        case "\"":
            if lookahead("\"\"\"") { throw fail("multi-line strings are not supported in this config file") }
            advance()
            return .string(try parseBasicStringBody())
        case "'":
            if lookahead("'''") { throw fail("multi-line strings are not supported in this config file") }
            advance()
            return .string(try parseLiteralStringBody())
        case "[":
            advance()
            return try parseArrayBody(depth: depth + 1)
        case "{":
            throw fail("inline tables ({...}) are not supported in this config file")
        default:
            return try parseBareValue()
        }
    }

    private mutating func parseArrayBody(depth: Int) throws(TOMLSyntaxError) -> TOMLValue {
        var items: [TOMLValue] = []
        while true {
            try skipWhitespaceNewlinesAndComments()
            guard let scalar = peek() else { throw fail("unexpected end of file inside an array") }
            if scalar == "]" {
                advance()
                return .array(items)
            }
            items.append(try parseValue(depth: depth))
            try skipWhitespaceNewlinesAndComments()
            guard let next = peek() else { throw fail("unexpected end of file inside an array") }
            if next == "," {
                advance()
            } else if next == "]" {
                advance()
                return .array(items)
            } else {
                throw fail("expected ',' or ']' in an array, found \(TOMLSubsetParser.describe(next))")
            }
        }
    }

    /// Booleans, numbers, inf/nan. Reads up to a delimiter, then classifies the token.
    private mutating func parseBareValue() throws(TOMLSyntaxError) -> TOMLValue {
        if let first = peek(), !(TOMLSubsetParser.isBareKeyScalar(first) || first == "+" || first == ".") {
            throw fail("unexpected character \(TOMLSubsetParser.describe(first)), expected a value")
        }
        var token = ""
        while let scalar = peek(), !TOMLSubsetParser.isValueDelimiter(scalar) {
            token.unicodeScalars.append(scalar)
            advance()
        }
        if token.isEmpty {
            if let scalar = peek() { throw fail("unexpected character \(TOMLSubsetParser.describe(scalar)), expected a value") }
            throw fail("expected a value")
        }
        if token == "true" { return .boolean(true) }
        if token == "false" { return .boolean(false) }
        if let number = TOMLSubsetParser.integer(token) { return .integer(number) }
        if let number = TOMLSubsetParser.float(token) { return .float(number) }
        if token.contains(":") || (token.count >= 10 && token.first?.isNumber == true && token.contains("-")) {
            throw fail("dates and times are not supported in this config file: \(token)")
        }
        throw fail("invalid value \(token) (strings need quotes: \"...\")")
    }

    static func integer(_ token: String) -> Int64? {
        var body = Substring(token)
        var negative = false
        if body.first == "+" || body.first == "-" {
            negative = body.first == "-"
            body = body.dropFirst()
        }
        var radix = 10
        if body.hasPrefix("0x") { radix = 16 } else if body.hasPrefix("0o") { radix = 8 } else if body.hasPrefix("0b") { radix = 2 }
        if radix != 10 {
            if token.first == "+" || token.first == "-" { return nil }  // TOML: no sign on prefixed ints
            body = body.dropFirst(2)
        }
        guard validUnderscores(body) else { return nil }
        let digits = body.filter { $0 != "_" }
        guard !digits.isEmpty else { return nil }
        if radix == 10 {
            guard digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            if digits.count > 1 && digits.first == "0" { return nil }  // no leading zeros
        }
        guard let magnitude = UInt64(digits, radix: radix) else { return nil }
        if negative {
            if magnitude == UInt64(Int64.max) + 1 { return Int64.min }
            guard magnitude <= UInt64(Int64.max) else { return nil }
            return -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    static func float(_ token: String) -> Double? {
        var body = Substring(token)
        var sign = 1.0
        if body.first == "+" || body.first == "-" {
            if body.first == "-" { sign = -1 }
            body = body.dropFirst()
        }
        if body == "inf" { return sign * Double.infinity }
        if body == "nan" { return Double.nan }
        // TOML float: integer part, then fraction and/or exponent. Digits on both sides of '.'.
        let allowed = Set("0123456789._eE+-")
        guard !body.isEmpty, body.allSatisfy({ allowed.contains($0) }) else { return nil }
        guard body.contains(".") || body.contains("e") || body.contains("E") else { return nil }
        guard let first = body.first, first.isNumber else { return nil }
        let mantissaEnd = body.firstIndex(where: { $0 == "e" || $0 == "E" }) ?? body.endIndex
        let mantissa = body[body.startIndex..<mantissaEnd]
        let intPart = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        guard intPart.count <= 2 else { return nil }
        for part in intPart {
            guard !part.isEmpty, validUnderscores(part), part.allSatisfy({ $0 == "_" || $0.isNumber }) else { return nil }
        }
        let whole = intPart[0].filter { $0 != "_" }
        if whole.count > 1 && whole.first == "0" { return nil }
        if mantissaEnd != body.endIndex {
            var exponent = body[body.index(after: mantissaEnd)...]
            if exponent.first == "+" || exponent.first == "-" { exponent = exponent.dropFirst() }
            guard !exponent.isEmpty, validUnderscores(exponent), exponent.allSatisfy({ $0 == "_" || $0.isNumber }) else { return nil }
        }
        guard let value = Double(String(body.filter { $0 != "_" })) else { return nil }
        return sign * value
    }

    /// Underscores only between digits.
    private static func validUnderscores(_ text: Substring) -> Bool {
        if text.first == "_" || text.last == "_" { return false }
        return !text.contains("__")
    }

    // MARK: Strings

    private mutating func parseBasicStringBody() throws(TOMLSyntaxError) -> String {
        var out = ""
        while true {
            guard let scalar = peek() else { throw fail("unterminated string") }
            if scalar == "\n" { throw fail("unterminated string (strings end on the same line)") }
            advance()
            if scalar == "\"" { return out }
            if scalar == "\\" {
                guard let escape = peek() else { throw fail("unterminated string") }
                advance()
                switch escape {
                case "\"": out += "\""
                case "\\": out += "\\"
                case "b": out += "\u{08}"
                case "f": out += "\u{0C}"
                case "n": out += "\n"
                case "r": out += "\r"
                case "t": out += "\t"
                case "e": out += "\u{1B}"
                case "u": out.unicodeScalars.append(try parseUnicodeEscape(digits: 4))
                case "U": out.unicodeScalars.append(try parseUnicodeEscape(digits: 8))
                default: throw fail("invalid escape \\\(escape) in a string")
                }
                continue
            }
            if scalar.value < 0x20 && scalar != "\t" || scalar.value == 0x7F {
                throw fail("control character \(TOMLSubsetParser.describe(scalar)) in a string")
            }
            out.unicodeScalars.append(scalar)
        }
    }

    private mutating func parseUnicodeEscape(digits: Int) throws(TOMLSyntaxError) -> Unicode.Scalar {
        var hex = ""
        for _ in 0..<digits {
            guard let scalar = peek(), scalar.properties.isASCIIHexDigit else {
                throw fail("\\u escape needs \(digits) hex digits")
            }
            hex.unicodeScalars.append(scalar)
            advance()
        }
        guard let code = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(code) else {
            throw fail("\\u\(hex) is not a Unicode scalar value")
        }
        return scalar
    }

    private mutating func parseLiteralStringBody() throws(TOMLSyntaxError) -> String {
        var out = ""
        while true {
            guard let scalar = peek() else { throw fail("unterminated string") }
            if scalar == "\n" { throw fail("unterminated string (strings end on the same line)") }
            advance()
            if scalar == "'" { return out }
            if scalar.value < 0x20 && scalar != "\t" || scalar.value == 0x7F {
                throw fail("control character \(TOMLSubsetParser.describe(scalar)) in a string")
            }
            out.unicodeScalars.append(scalar)
        }
    }

    // MARK: Lexing helpers

    private func peek() -> Unicode.Scalar? {
        index < scalars.count ? scalars[index] : nil
    }

    private func lookahead(_ text: String) -> Bool {
        var position = index
        for scalar in text.unicodeScalars {
            guard position < scalars.count, scalars[position] == scalar else { return false }
            position += 1
        }
        return true
    }

    private mutating func advance() {
        guard index < scalars.count else { return }
        if scalars[index] == "\n" { line += 1 }
        index += 1
    }

    /// Spaces and tabs (and a CR that precedes LF).
    private mutating func skipBlank() {
        while let scalar = peek() {
            if scalar == " " || scalar == "\t" {
                advance()
            } else if scalar == "\r", index + 1 < scalars.count, scalars[index + 1] == "\n" {
                advance()
            } else {
                return
            }
        }
    }

    private mutating func skipComment() throws(TOMLSyntaxError) {
        while let scalar = peek(), scalar != "\n" {
            if scalar.value < 0x20 && scalar != "\t" && scalar != "\r" || scalar.value == 0x7F {
                throw fail("control character \(TOMLSubsetParser.describe(scalar)) in a comment")
            }
            advance()
        }
    }

    private mutating func skipWhitespaceNewlinesAndComments() throws(TOMLSyntaxError) {
        while true {
            skipBlank()
            guard let scalar = peek() else { return }
            if scalar == "\n" {
                advance()
            } else if scalar == "#" {
                try skipComment()
            } else {
                return
            }
        }
    }

    /// After a value or header only blanks and a comment may follow on the line.
    private mutating func expectEndOfLine() throws(TOMLSyntaxError) {
        skipBlank()
        guard let scalar = peek() else { return }
        if scalar == "#" {
            try skipComment()
            return
        }
        if scalar == "\n" {
            advance()
            return
        }
        throw fail("unexpected \(TOMLSubsetParser.describe(scalar)) after the value (one key = value per line)")
    }

    private func fail(_ reason: String) -> TOMLSyntaxError {
        TOMLSyntaxError(line: line, reason: reason)
    }

    private static func isBareKeyScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "_", "-": true
        default: false
        }
    }

    private static func isValueDelimiter(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" || scalar == "," || scalar == "]"
            || scalar == "#"
    }

    static func describe(_ scalar: Unicode.Scalar) -> String {
        if scalar.value < 0x20 || scalar.value == 0x7F {
            return "U+" + String(scalar.value, radix: 16, uppercase: true)
        }
        return "'\(Character(scalar))'"
    }
}

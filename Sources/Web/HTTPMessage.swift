/// One HTTP request as the admin app sees it: the whole body read (up to a limit).
public struct HTTPRequest: Sendable {
    public var method: String
    /// The path without the query (`/api/bridges/stage`).
    public var path: String
    /// Query parameters, percent-decoded; a repeated name keeps the last value.
    public var query: [String: String]
    /// Header names lowercased.
    public var headers: [String: String]
    public var body: [UInt8]
    /// The peer's IP address (for rate limits and logs).
    public var remote: String

    public init(method: String, target: String, headers: [(String, String)], body: [UInt8], remote: String) {
        self.method = method
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        path = PercentEncoding.decode(String(parts.first ?? "/")) ?? "/"
        var query: [String: String] = [:]
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                let nameValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let name = PercentEncoding.decode(String(nameValue[0]), plusIsSpace: true) else { continue }
                let value = nameValue.count == 2 ? PercentEncoding.decode(String(nameValue[1]), plusIsSpace: true) : ""
                query[name] = value ?? ""
            }
        }
        self.query = query
        var lowered: [String: String] = [:]
        for (name, value) in headers { lowered[name.lowercased()] = value }
        self.headers = lowered
        self.body = body
        self.remote = remote
    }

    /// Cookie value by name from the `Cookie` header.
    public func cookie(_ name: String) -> String? {
        guard let header = headers["cookie"] else { return nil }
        for part in header.split(separator: ";") {
            let pair = part.split(separator: "=", maxSplits: 1)
            if pair.count == 2, pair[0].trimmingSpaces == name { return String(pair[1].trimmingSpaces) }
        }
        return nil
    }

    /// The token of an `Authorization: Bearer …` header.
    public var bearerToken: String? {
        guard let header = headers["authorization"], header.lowercased().hasPrefix("bearer ") else { return nil }
        return String(header.dropFirst(7).trimmingSpaces)
    }

    public var bodyText: String? { String(validating: body, as: UTF8.self) }
}

/// A response: a complete body, or a stream of chunks (server-sent events) that ends when
/// the stream finishes or the client goes away.
public struct HTTPResponse: Sendable {
    public enum Body: Sendable {
        case bytes([UInt8])
        case stream(AsyncStream<[UInt8]>)
    }

    public var status: Int
    public var headers: [(String, String)]
    public var body: Body
    /// Runs once the response is written (a restart must not cut its own answer off).
    public var afterSent: (@Sendable () -> Void)?

    public init(status: Int, headers: [(String, String)] = [], body: Body = .bytes([]), afterSent: (@Sendable () -> Void)? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.afterSent = afterSent
    }

    public static func text(_ status: Int, _ text: String, type: String = "text/plain; charset=utf-8") -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", type)], body: .bytes(Array(text.utf8)))
    }

    public static func json(_ status: Int, _ value: JSON) -> HTTPResponse {
        text(status, value.serialized, type: "application/json")
    }

    /// `{"error": "...", "problems": [{"field": ..., "reason": ...}]}`.
    public static func problem(_ status: Int, _ message: String, problems: [(field: String, reason: String)] = []) -> HTTPResponse {
        var object: [(String, JSON)] = [("error", .string(message))]
        if !problems.isEmpty {
            object.append(("problems", .array(problems.map { .object([("field", .string($0.field)), ("reason", .string($0.reason))]) })))
        }
        return json(status, .object(object))
    }

    public func adding(header name: String, _ value: String) -> HTTPResponse {
        var copy = self
        copy.headers.append((name, value))
        return copy
    }
}

enum PercentEncoding {
    static func decode(_ text: String, plusIsSpace: Bool = false) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
                bytes.append(high << 4 | low)
            } else if plusIsSpace, byte == UInt8(ascii: "+") {
                bytes.append(0x20)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var text = self
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return text
    }
}

/// Where a `CLASPClient` connects: a transport and an address, written as a URL.
///
/// | scheme | transport |
/// | --- | --- |
/// | `ws://host:port/path` | WebSocket (default port 7330) |
/// | `wss://host:port/path` | WebSocket over TLS (default port 7343) |
/// | `tcp://host:port` | length-prefixed frames over TCP (default port 7332) |
/// | `tcps://host:port` | length-prefixed frames over TCP and TLS (default port 7344) |
///
/// IPv6 literals go in brackets (`tcp://[::1]:7332`).
public struct CLASPEndpoint: Sendable, Equatable, CustomStringConvertible {
    public enum Scheme: String, Sendable, CaseIterable {
        case ws, wss, tcp, tcps

        public var usesTLS: Bool { self == .wss || self == .tcps }
        public var isWebSocket: Bool { self == .ws || self == .wss }

        /// The gateway's default port for this transport.
        public var defaultPort: Int {
            switch self {
            case .ws: 7330
            case .tcp: 7332
            case .wss: 7343
            case .tcps: 7344
            }
        }
    }

    public var scheme: Scheme
    public var host: String
    public var port: Int
    /// WebSocket request path; `/` for the TCP schemes.
    public var path: String

    public init(scheme: Scheme, host: String, port: Int? = nil, path: String = "/") {
        self.scheme = scheme
        self.host = host
        self.port = port ?? scheme.defaultPort
        self.path = path
    }

    /// Parses a URL of one of the four schemes; the error names what is wrong.
    public init(url: String) throws(CLASPClientError) {
        guard let separator = url.firstRange(of: "://") else {
            throw .invalidURL("\(url): expected scheme://host[:port], with scheme ws, wss, tcp or tcps")
        }
        guard let scheme = Scheme(rawValue: url[..<separator.lowerBound].lowercased()) else {
            throw .invalidURL("\(url): unknown scheme \(url[..<separator.lowerBound]) (use ws, wss, tcp or tcps)")
        }
        var rest = url[separator.upperBound...]
        var path = "/"
        if let slash = rest.firstIndex(of: "/") {
            path = String(rest[slash...])
            rest = rest[..<slash]
        }
        if !scheme.isWebSocket, path != "/" {
            throw .invalidURL("\(url): \(scheme.rawValue):// takes no path")
        }
        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw .invalidURL("\(url): unclosed [ in the host") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .invalidURL("\(url): expected :port after the ]") }
                portText = after.dropFirst()
            }
        } else if let colon = rest.firstIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty else { throw .invalidURL("\(url): no host") }
        var port: Int?
        if let portText {
            guard let number = Int(portText), (1...65_535).contains(number) else {
                throw .invalidURL("\(url): the port must be a number from 1 to 65535")
            }
            port = number
        }
        self.init(scheme: scheme, host: String(host), port: port, path: path)
    }

    public var description: String {
        let host = host.contains(":") ? "[\(host)]" : host
        return "\(scheme.rawValue)://\(host):\(port)\(scheme.isWebSocket ? path : "")"
    }
}

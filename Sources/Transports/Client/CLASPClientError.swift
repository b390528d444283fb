public import CLASP

/// Why a `CLASPClient` call failed.
public enum CLASPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Nothing listens at `host:port` (ECONNREFUSED).
    case connectionRefused(host: String, port: Int)
    /// The connection could not be made for another reason (unknown host, unreachable, …).
    case connectionFailed(host: String, port: Int, reason: String)
    /// The server did not switch to WebSocket: `status` is its HTTP status when it answered
    /// with another one, `nil` when the answer was not a valid upgrade response.
    case upgradeRefused(status: Int?, reason: String)
    /// The connection closed before WELCOME arrived. `closeCode` and `reason` come from the
    /// server's WebSocket close frame when it sent one.
    case closedBeforeWelcome(closeCode: UInt16?, reason: String)
    /// The server answered HELLO with ERROR.
    case serverError(code: UInt16, message: String)
    /// The server's first message was not WELCOME (or did not decode).
    case unexpectedReply(String)
    /// A step did not finish in time (what it was waiting for is named).
    case timedOut(String)
    /// The connection is closed or closing; sends and syncs are refused.
    case connectionClosed
    /// The message cannot be encoded (e.g. a string over 65,535 bytes).
    case encoding(CodecError)
    /// The URL given to `connect(to:)` is not a CLASP endpoint (scheme, host or port).
    case invalidURL(String)
    /// The server's TLS certificate was refused; `reason` says why (not trusted, wrong name,
    /// not the pinned fingerprint).
    case certificateRefused(host: String, reason: String)
    /// The TLS handshake failed for another reason (the server does not speak TLS, no common
    /// protocol version or cipher, …).
    case tlsFailed(host: String, reason: String)

    public var description: String {
        switch self {
        case .connectionRefused(let host, let port):
            return "connection refused by \(host):\(port)"
        case .connectionFailed(let host, let port, let reason):
            return "cannot connect to \(host):\(port): \(reason)"
        case .upgradeRefused(let status, let reason):
            return "WebSocket upgrade refused" + (status.map { " (HTTP \($0))" } ?? "") + ": \(reason)"
        case .closedBeforeWelcome(let code, let reason):
            return "connection closed before WELCOME" + (code.map { " (close \($0))" } ?? "") + ": \(reason)"
        case .serverError(let code, let message):
            return "server answered HELLO with ERROR \(code): \(message)"
        case .unexpectedReply(let what):
            return "unexpected reply to HELLO: \(what)"
        case .timedOut(let what):
            return "timed out waiting for \(what)"
        case .connectionClosed:
            return "connection closed"
        case .encoding(let error):
            return "cannot encode message: \(error)"
        case .invalidURL(let reason):
            return "invalid CLASP URL: \(reason)"
        case .certificateRefused(let host, let reason):
            return "TLS certificate of \(host) refused: \(reason)"
        case .tlsFailed(let host, let reason):
            return "TLS handshake with \(host) failed: \(reason)"
        }
    }
}

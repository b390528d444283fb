/// ERROR codes this router sends (design §7; wire-format §4.14).
public enum ErrorCode: UInt16, Sendable {
    /// The frame header is malformed.
    case invalidFrame = 100
    /// The payload does not decode, or the message is not allowed here.
    case invalidMessage = 101
    /// A write address breaks the address rules.
    case invalidAddress = 200
    /// GET of an address that holds no value.
    case addressNotFound = 201
    /// A subscription or query pattern does not parse.
    case invalidPattern = 202
    /// A federation operation from a session that is not a federation peer.
    case forbidden = 403
    /// SET with an expected revision that is not the current one, a write the conflict
    /// strategy refuses, or the param limit.
    case revisionConflict = 400
    /// A write to a param locked by another session.
    case lockHeld = 401
    /// A value the param's rule refuses (type, range), a value that could not be sent back
    /// (too large for an echo or a snapshot entry), or a bundle time beyond the horizon.
    case invalidValue = 402
    /// P2P signal to a session that does not exist.
    case sessionNotFound = 404
    /// A per-session limit (subscriptions, scheduled bundles) was reached.
    case limitReached = 429
    /// The feature exists in the protocol but not in this router (REPLAY, federation).
    case notImplemented = 501
    /// The store could not write what a QoS-commit message changed.
    case internalError = 500
    /// The session could not keep up; it is being closed.
    case slowConsumer = 503
}

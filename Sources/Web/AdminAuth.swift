#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Who may use the admin page and API: one admin password (none on first boot, when only
/// setup works), browser sessions with a CSRF token each, and named bearer API tokens.
///
/// The password's scrypt hash and the API tokens' SHA-256 hashes live in
/// `<data-dir>/admin-auth.json` (saved atomically); sessions live in memory only, so a
/// restart asks the browser to log in again.
public actor AdminAuth {
    struct Session {
        var csrf: String
        var expires: UInt64
    }

    public struct APIToken: Sendable, Equatable {
        public var id: String
        public var name: String
        var hash: String
        /// Unix seconds.
        public var created: Int64
    }

    /// Why a login or password change was refused.
    public enum Refusal: Error, Equatable {
        case wrongPassword
        /// Too many failed attempts from this address; try again after this many seconds.
        case rateLimited(retryAfter: Int)
        case weakPassword(String)
        case alreadySetUp
        case notSetUp
        case storage(String)
    }

    public static let minimumPasswordLength = 8
    /// A session not used for this long ends.
    public static let sessionLifetime: Double = 12 * 3600
    /// Failed logins allowed per address within `failureWindow`, and from everyone together.
    static let failuresPerAddress = 5
    static let failuresOverall = 30
    static let failureWindow: Double = 60

    private let path: String
    private var password: PasswordHash?
    private var tokens: [APIToken] = []
    private var sessions: [String: Session] = [:]
    private var failures: [String: [UInt64]] = [:]
    private var allFailures: [UInt64] = []

    /// Loads `admin-auth.json` from `directory` (absent: first boot, no password yet).
    public init(directory: String) throws(AtomicFile.Failure) {
        path = directory + "/admin-auth.json"
        guard let bytes = AtomicFile.read(path) else { return }
        guard let stored = JSON.parse(bytes) else {
            throw AtomicFile.Failure(path: path, reason: "not valid JSON; delete it to set a new admin password")
        }
        password = Self.passwordHash(from: stored["password"])
        if stored["password"] != nil, password == nil {
            // Never fall back to first-boot setup because the stored hash is damaged.
            throw AtomicFile.Failure(path: path, reason: "the stored password hash is unreadable; delete the file to set a new admin password")
        }
        if case .array(let items)? = stored["tokens"] {
            tokens = items.compactMap { item in
                guard let id = item["id"]?.stringValue, let name = item["name"]?.stringValue,
                    let hash = item["sha256"]?.stringValue
                else { return nil }
                let created: Int64 = if case .integer(let seconds)? = item["created"] { seconds } else { 0 }
                return APIToken(id: id, name: name, hash: hash, created: created)
            }
        }
    }

    public var isSetUp: Bool { password != nil }

    // MARK: - Password

    /// First boot: sets the password and opens a session. Refused once a password exists.
    public func setUp(password newPassword: String) throws(Refusal) -> (token: String, csrf: String) {
        guard password == nil else { throw .alreadySetUp }
        try Self.checkStrength(newPassword)
        guard let hash = PasswordHash.make(newPassword) else { throw .storage("could not hash the password") }
        password = hash
        try save()
        return openSession()
    }

    public func logIn(password attempt: String, from address: String) throws(Refusal) -> (token: String, csrf: String) {
        guard let password else { throw .notSetUp }
        let now = Self.now()
        if let wait = retryAfter(address, now: now) { throw .rateLimited(retryAfter: wait) }
        guard password.matches(attempt) else {
            failures[address, default: []].append(now)
            allFailures.append(now)
            throw .wrongPassword
        }
        failures[address] = nil
        return openSession()
    }

    /// Needs the current password; every other session ends.
    public func changePassword(current: String, new newPassword: String, keeping token: String?, from address: String) throws(Refusal) {
        guard let password else { throw .notSetUp }
        let now = Self.now()
        if let wait = retryAfter(address, now: now) { throw .rateLimited(retryAfter: wait) }
        guard password.matches(current) else {
            failures[address, default: []].append(now)
            allFailures.append(now)
            throw .wrongPassword
        }
        try Self.checkStrength(newPassword)
        guard let hash = PasswordHash.make(newPassword) else { throw .storage("could not hash the password") }
        let previous = self.password
        self.password = hash
        do throws(Refusal) {
            try save()
        } catch {
            self.password = previous
            throw error
        }
        sessions = sessions.filter { $0.key == token }
    }

    private static func checkStrength(_ password: String) throws(Refusal) {
        guard password.count >= minimumPasswordLength else {
            throw .weakPassword("must be at least \(minimumPasswordLength) characters")
        }
        guard password.utf8.count <= 1_024 else { throw .weakPassword("must be at most 1024 bytes") }
    }

    /// Seconds until `address` may try again, or nil when it may now.
    private func retryAfter(_ address: String, now: UInt64) -> Int? {
        let window = UInt64(Self.failureWindow * 1e9)
        let recent = (failures[address] ?? []).filter { now &- $0 < window }
        failures[address] = recent.isEmpty ? nil : recent
        allFailures = allFailures.filter { now &- $0 < window }
        let limiting: UInt64?
        if recent.count >= Self.failuresPerAddress {
            limiting = recent[recent.count - Self.failuresPerAddress]
        } else if allFailures.count >= Self.failuresOverall {
            limiting = allFailures[allFailures.count - Self.failuresOverall]
        } else {
            limiting = nil
        }
        guard let limiting else { return nil }
        return max(1, Int((window - (now &- limiting)) / 1_000_000_000) + 1)
    }

    // MARK: - Sessions

    private func openSession() -> (token: String, csrf: String) {
        let now = Self.now()
        sessions = sessions.filter { $0.value.expires > now }
        let token = Secrets.randomHex(32)
        let csrf = Secrets.randomHex(32)
        sessions[token] = Session(csrf: csrf, expires: now + UInt64(Self.sessionLifetime * 1e9))
        return (token, csrf)
    }

    /// The session's CSRF token if the session is live (its lifetime starts again).
    public func session(_ token: String) -> String? {
        let now = Self.now()
        guard var session = sessions[token], session.expires > now else {
            sessions[token] = nil
            return nil
        }
        session.expires = now + UInt64(Self.sessionLifetime * 1e9)
        sessions[token] = session
        return session.csrf
    }

    public func logOut(_ token: String) {
        sessions[token] = nil
    }

    // MARK: - API tokens

    /// A new token; its secret is returned once and only its hash is kept.
    public func createToken(name: String) throws(Refusal) -> (token: APIToken, secret: String) {
        let secret = "clasp_" + Secrets.randomHex(24)
        var created = timespec()
        clock_gettime(CLOCK_REALTIME, &created)
        let token = APIToken(id: Secrets.randomHex(6), name: name, hash: Secrets.sha256Hex(secret), created: Int64(created.tv_sec))
        tokens.append(token)
        do throws(Refusal) {
            try save()
        } catch {
            tokens.removeLast()
            throw error
        }
        return (token, secret)
    }

    public func apiTokens() -> [APIToken] { tokens }

    /// False when no token has that id.
    public func revokeToken(id: String) throws(Refusal) -> Bool {
        guard let index = tokens.firstIndex(where: { $0.id == id }) else { return false }
        let removed = tokens.remove(at: index)
        do throws(Refusal) {
            try save()
        } catch {
            tokens.insert(removed, at: index)
            throw error
        }
        return true
    }

    public func acceptsToken(_ secret: String) -> Bool {
        let hash = Array(Secrets.sha256Hex(secret).utf8)
        return tokens.contains { Secrets.constantTimeEqual(Array($0.hash.utf8), hash) }
    }

    // MARK: - Storage

    private func save() throws(Refusal) {
        var object: [(String, JSON)] = []
        if let password {
            object.append(("password", .object([
                ("kdf", .string("scrypt")), ("n", .integer(Int64(password.rounds))), ("r", .integer(Int64(password.blockSize))),
                ("p", .integer(Int64(password.parallelism))), ("salt", .string(Secrets.hex(password.salt))),
                ("key", .string(Secrets.hex(password.key))),
            ])))
        }
        object.append(("tokens", .array(tokens.map { token in
            .object([("id", .string(token.id)), ("name", .string(token.name)), ("sha256", .string(token.hash)), ("created", .integer(token.created))])
        })))
        do throws(AtomicFile.Failure) {
            try AtomicFile.write(Array((JSON.object(object).serialized + "\n").utf8), to: path)
        } catch {
            throw .storage(error.description)
        }
    }

    private static func passwordHash(from value: JSON?) -> PasswordHash? {
        guard let value, value["kdf"]?.stringValue == "scrypt",
            case .integer(let rounds)? = value["n"], case .integer(let blockSize)? = value["r"],
            case .integer(let parallelism)? = value["p"],
            let salt = value["salt"]?.stringValue.flatMap(Secrets.bytes(hex:)),
            let key = value["key"]?.stringValue.flatMap(Secrets.bytes(hex:)),
            (2...(1 << 20)).contains(rounds), (1...64).contains(blockSize), (1...16).contains(parallelism)
        else { return nil }
        return PasswordHash(rounds: Int(rounds), blockSize: Int(blockSize), parallelism: Int(parallelism), salt: salt, key: key)
    }

    /// Monotonic nanoseconds.
    static func now() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}

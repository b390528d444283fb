import Bridges
import CLASP
public import Transports

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The admin page and REST API: routes a request, checks who is asking, and hands the work
/// to the router (params), the backend (config, bridges) or `AdminAuth`.
///
/// Open without login: the page itself, `/healthz`, `/metrics`, `/api/openapi.json`,
/// `/api/auth` (state), setup (only while no password exists) and login. Everything else
/// needs a session cookie or `Authorization: Bearer <API token>`; a state-changing call
/// with the cookie also needs the session's `X-CSRF-Token` header.
public final class AdminApp: Sendable {
    public static let cookieName = "clasp_admin"

    let backend: any AdminBackend
    let auth: AdminAuth
    let host: RouterHost
    let logs: LogRing
    let startedAt: UInt64

    public init(backend: any AdminBackend, auth: AdminAuth, host: RouterHost, logs: LogRing) {
        self.backend = backend
        self.auth = auth
        self.host = host
        self.logs = logs
        startedAt = AdminAuth.now()
    }

    /// Who made an authenticated request.
    struct Caller {
        /// The session cookie's token (nil for an API token).
        var session: String?
        var csrf: String?
    }

    public func handle(_ request: HTTPRequest) async -> HTTPResponse {
        let changes = !["GET", "HEAD"].contains(request.method)
        if changes, let refusal = crossSiteRefusal(request) { return refusal }
        switch (request.method, request.path) {
        case ("GET", "/"), ("GET", "/index.html"):
            return .text(200, AdminPage.html, type: "text/html; charset=utf-8")
                .adding(header: "Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
        case ("GET", "/healthz"):
            return .text(200, "ok\n")
        case ("GET", "/metrics"):
            return .text(200, await metrics(), type: "text/plain; version=0.0.4; charset=utf-8")
        case ("GET", "/api/openapi.json"):
            return .text(200, OpenAPIDocument.json, type: "application/json")
        case ("GET", "/api/auth"):
            return await authState(request)
        case ("POST", "/api/auth/setup"):
            return await setUp(request)
        case ("POST", "/api/auth/login"):
            return await logIn(request)
        default:
            break
        }
        guard request.path.hasPrefix("/api/") else { return .problem(404, "no such page: \(request.path)") }
        guard let caller = await authenticate(request) else {
            return .problem(401, await auth.isSetUp ? "log in first (session cookie or bearer token)" : "set the admin password first")
        }
        if changes, let csrf = caller.csrf, !Secrets.constantTimeEqual(Array((request.headers["x-csrf-token"] ?? "").utf8), Array(csrf.utf8)) {
            return .problem(403, "missing or wrong X-CSRF-Token header")
        }
        return await route(request, caller)
    }

    private func route(_ request: HTTPRequest, _ caller: Caller) async -> HTTPResponse {
        let path = request.path
        switch (request.method, path) {
        case ("POST", "/api/auth/logout"):
            if let token = caller.session { await auth.logOut(token) }
            return .json(200, .object([("ok", .bool(true))]))
                .adding(header: "Set-Cookie", "\(Self.cookieName)=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
        case ("POST", "/api/auth/password"):
            return await changePassword(request, caller)
        case ("GET", "/api/tokens"):
            return .json(200, .array(await auth.apiTokens().map(Self.json)))
        case ("POST", "/api/tokens"):
            return await createToken(request)
        case ("GET", "/api/status"):
            return .json(200, await status())
        case ("GET", "/api/params"):
            return await params(request)
        case ("GET", "/api/monitor"):
            let pattern = request.query["pattern"].flatMap { $0.isEmpty ? nil : $0 } ?? "/**"
            if let problem = Self.patternProblem(pattern) { return .problem(422, "pattern: \(problem)", problems: [("pattern", problem)]) }
            return HTTPResponse(
                status: 200, headers: [("Content-Type", "text/event-stream")],
                body: .stream(SignalMonitor.events(host: host, pattern: pattern)))
        case ("GET", "/api/bridge-kinds"):
            return .json(200, .array(backend.bridgeCatalog.kinds.map(Self.json)))
        case ("GET", "/api/bridges"):
            return .json(200, .array(await backend.bridgeReports().map(Self.json)))
        case ("POST", "/api/bridges"):
            return await putBridge(request, id: nil)
        case ("GET", "/api/transports"):
            return .json(200, .array(await backend.listeners().map { listener in
                .object([
                    ("name", .string(listener.name)), ("scheme", .string(listener.scheme)),
                    ("address", .string(listener.address)), ("port", .integer(Int64(listener.port))),
                ])
            }))
        case ("GET", "/api/config"):
            return .text(200, await backend.exportConfig(), type: "application/toml; charset=utf-8")
                .adding(header: "Content-Disposition", "attachment; filename=\"clasp-gateway.toml\"")
        case ("PUT", "/api/config"), ("POST", "/api/config"):
            return await importConfig(request)
        case ("POST", "/api/restart"):
            var accepted = HTTPResponse.json(202, .object([("restarting", .bool(true))]))
            let backend = self.backend
            accepted.afterSent = { backend.restart() }
            return accepted
        case ("GET", "/api/logs"):
            let count = request.query["lines"].flatMap { Int($0) } ?? 200
            return .json(200, .array(logs.last(min(max(count, 0), logs.capacity)).map { .string($0) }))
        default:
            break
        }
        if path.hasPrefix("/api/params/") {
            let address = String(path.dropFirst("/api/params".count))
            guard request.method == "PUT" else { return .problem(405, "use PUT to set a param") }
            return await setParam(request, address: address)
        }
        if path.hasPrefix("/api/bridges/") {
            let id = String(path.dropFirst("/api/bridges/".count))
            switch request.method {
            case "GET":
                guard let report = await backend.bridgeReports().first(where: { $0.config.id == id }) else {
                    return .problem(404, "no bridge \"\(id)\"")
                }
                return .json(200, Self.json(report))
            case "PUT": return await putBridge(request, id: id)
            case "DELETE": return await removeBridge(id)
            default: return .problem(405, "use GET, PUT or DELETE on a bridge")
            }
        }
        if path.hasPrefix("/api/tokens/"), request.method == "DELETE" {
            let id = String(path.dropFirst("/api/tokens/".count))
            do throws(AdminAuth.Refusal) {
                return try await auth.revokeToken(id: id) ? .json(200, .object([("revoked", .string(id))])) : .problem(404, "no token \"\(id)\"")
            } catch {
                return Self.response(error)
            }
        }
        return .problem(404, "no such endpoint: \(request.method) \(path)")
    }

    // MARK: - Auth

    /// A state-changing request from another site: refused when its `Origin` is not this host.
    private func crossSiteRefusal(_ request: HTTPRequest) -> HTTPResponse? {
        guard let origin = request.headers["origin"], origin != "null" || request.headers["cookie"] != nil else { return nil }
        let host = request.headers["host"] ?? ""
        if origin == "http://\(host)" || origin == "https://\(host)" { return nil }
        return .problem(403, "cross-site request refused (Origin \(origin) is not this admin page)")
    }

    private func authenticate(_ request: HTTPRequest) async -> Caller? {
        if let bearer = request.bearerToken {
            return await auth.acceptsToken(bearer) ? Caller(session: nil, csrf: nil) : nil
        }
        if let token = request.cookie(Self.cookieName), let csrf = await auth.session(token) {
            return Caller(session: token, csrf: csrf)
        }
        return nil
    }

    private func authState(_ request: HTTPRequest) async -> HTTPResponse {
        var object: [(String, JSON)] = [("setup_required", .bool(!(await auth.isSetUp)))]
        if let token = request.cookie(Self.cookieName), let csrf = await auth.session(token) {
            object += [("authenticated", .bool(true)), ("csrf", .string(csrf))]
        } else {
            object.append(("authenticated", .bool(false)))
        }
        object += [("name", .string(backend.serverName)), ("version", .string(backend.version))]
        return .json(200, .object(object))
    }

    /// Setup and login take JSON only: a cross-site HTML form cannot send that type.
    private func passwordBody(_ request: HTTPRequest, _ field: String) -> (password: String?, refusal: HTTPResponse?) {
        guard (request.headers["content-type"] ?? "").hasPrefix("application/json") else {
            return (nil, .problem(415, "send a JSON body (Content-Type: application/json)"))
        }
        guard let body = JSON.parse(request.body), let password = body[field]?.stringValue else {
            return (nil, .problem(422, "\(field): required string", problems: [(field, "required string")]))
        }
        return (password, nil)
    }

    private func setUp(_ request: HTTPRequest) async -> HTTPResponse {
        let (given, refusal) = passwordBody(request, "password")
        guard let password = given else { return refusal ?? .problem(422, "password required") }
        do throws(AdminAuth.Refusal) {
            let session = try await auth.setUp(password: password)
            return Self.loggedIn(session)
        } catch {
            return Self.response(error)
        }
    }

    private func logIn(_ request: HTTPRequest) async -> HTTPResponse {
        let (given, refusal) = passwordBody(request, "password")
        guard let password = given else { return refusal ?? .problem(422, "password required") }
        do throws(AdminAuth.Refusal) {
            let session = try await auth.logIn(password: password, from: request.remote)
            return Self.loggedIn(session)
        } catch {
            return Self.response(error)
        }
    }

    private func changePassword(_ request: HTTPRequest, _ caller: Caller) async -> HTTPResponse {
        guard let body = JSON.parse(request.body), let current = body["current"]?.stringValue, let new = body["new"]?.stringValue else {
            return .problem(422, "send {\"current\": …, \"new\": …}", problems: [("current", "required string"), ("new", "required string")])
        }
        do throws(AdminAuth.Refusal) {
            try await auth.changePassword(current: current, new: new, keeping: caller.session, from: request.remote)
            return .json(200, .object([("changed", .bool(true))]))
        } catch {
            return Self.response(error)
        }
    }

    private func createToken(_ request: HTTPRequest) async -> HTTPResponse {
        guard let body = JSON.parse(request.body), let name = body["name"]?.stringValue,
            !name.isEmpty, name.utf8.count <= 64
        else {
            return .problem(422, "name: required, 1–64 bytes", problems: [("name", "required, 1–64 bytes")])
        }
        do throws(AdminAuth.Refusal) {
            let (token, secret) = try await auth.createToken(name: name)
            guard case .object(var object) = Self.json(token) else { return .problem(500, "token") }
            object.append(("token", .string(secret)))
            return .json(201, .object(object))
        } catch {
            return Self.response(error)
        }
    }

    private static func loggedIn(_ session: (token: String, csrf: String)) -> HTTPResponse {
        .json(200, .object([("csrf", .string(session.csrf))]))
            .adding(header: "Set-Cookie", "\(cookieName)=\(session.token); HttpOnly; SameSite=Strict; Path=/; Max-Age=\(Int(AdminAuth.sessionLifetime))")
    }

    private static func response(_ refusal: AdminAuth.Refusal) -> HTTPResponse {
        switch refusal {
        case .wrongPassword: .problem(401, "wrong password", problems: [("password", "wrong password")])
        case .rateLimited(let seconds):
            HTTPResponse.problem(429, "too many failed attempts; try again in \(seconds) s").adding(header: "Retry-After", String(seconds))
        case .weakPassword(let reason): .problem(422, "password \(reason)", problems: [("password", reason)])
        case .alreadySetUp: .problem(409, "the admin password is already set; log in")
        case .notSetUp: .problem(409, "no admin password yet; set one first")
        case .storage(let reason): .problem(500, reason)
        }
    }

    // MARK: - Status and params

    private func status() async -> JSON {
        let statistics = await host.statistics()
        let process = ProcessStats.now()
        let uptime = Double(AdminAuth.now() &- startedAt) / 1e9
        return .object([
            ("name", .string(backend.serverName)), ("version", .string(backend.version)),
            ("uptime_seconds", .number(uptime.rounded())), ("cpu_seconds", .number(process.cpuSeconds)),
            ("memory_rss_bytes", .integer(Int64(process.residentBytes))),
            ("cpu_count", .integer(Int64(sysconf(Int32(_SC_NPROCESSORS_ONLN))))),
            ("sessions", .integer(Int64(statistics.sessions))), ("connections", .integer(Int64(statistics.connections))),
            ("params", .integer(Int64(statistics.params))),
            ("messages_received", .object(MessageKind.allCases.map { ($0.name, .integer(Int64(clamping: statistics.received($0)))) })),
        ])
    }

    private static func patternProblem(_ pattern: String) -> String? {
        do {
            _ = try AddressPattern(pattern)
            return nil
        } catch {
            return "\(error)"
        }
    }

    private func params(_ request: HTTPRequest) async -> HTTPResponse {
        let text = request.query["pattern"].flatMap { $0.isEmpty ? nil : $0 } ?? "/**"
        let pattern: AddressPattern
        do {
            pattern = try AddressPattern(text)
        } catch {
            return .problem(422, "pattern: \(error)", problems: [("pattern", "\(error)")])
        }
        let limit = min(max(request.query["limit"].flatMap { Int($0) } ?? 1_000, 1), 10_000)
        let states = await host.params(matching: pattern, limit: limit)
        return .json(200, .array(states.map { state in
            var object: [(String, JSON)] = [
                ("address", .string(state.address)), ("value", JSON(state.value)),
                ("revision", .integer(Int64(clamping: state.revision))),
            ]
            if let writer = state.writer { object.append(("writer", .string(writer))) }
            return .object(object)
        }))
    }

    private func setParam(_ request: HTTPRequest, address: String) async -> HTTPResponse {
        guard let body = JSON.parse(request.body), let value = body["value"] else {
            return .problem(422, "send {\"value\": …}", problems: [("value", "required")])
        }
        do {
            try Address.validate(address, maxLength: Address.defaultMaxLength)
        } catch {
            return .problem(422, "address: \(error)", problems: [("address", "\(error)")])
        }
        switch await SignalMonitor.set(host: host, address: address, value: value.claspValue) {
        case .success: return .json(200, .object([("address", .string(address)), ("value", value)]))
        case .failure(let failure): return .problem(failure.status, failure.message, problems: [("value", failure.message)])
        }
    }

    // MARK: - Bridges and config

    private func putBridge(_ request: HTTPRequest, id pathID: String?) async -> HTTPResponse {
        guard let body = JSON.parse(request.body), case .object = body else {
            return .problem(422, "send a JSON object {\"id\", \"kind\", \"enabled\", \"options\"}")
        }
        var problems: [(field: String, reason: String)] = []
        let id = pathID ?? body["id"]?.stringValue ?? ""
        if pathID == nil, body["id"]?.stringValue == nil { problems.append(("id", "required string")) }
        if let bodyID = body["id"]?.stringValue, let pathID, bodyID != pathID {
            problems.append(("id", "does not match the URL (\(pathID)); delete and add to rename"))
        }
        let kind = body["kind"]?.stringValue ?? ""
        if body["kind"]?.stringValue == nil { problems.append(("kind", "required string")) }
        var enabled = true
        if let flag = body["enabled"] {
            if let value = flag.boolValue { enabled = value } else { problems.append(("enabled", "must be true or false")) }
        }
        var options: [String: OptionValue] = [:]
        switch body["options"] {
        case .object(let members)?:
            for (name, value) in members {
                if let option = Self.optionValue(value) { options[name] = option } else {
                    problems.append((name, "must be a string, number, boolean or a list of them"))
                }
            }
        case nil, .null?: break
        default: problems.append(("options", "must be an object"))
        }
        guard problems.isEmpty else { return .problem(422, "invalid bridge", problems: problems) }
        if pathID == nil, await backend.bridgeReports().contains(where: { $0.config.id == id }) {
            return .problem(409, "a bridge \"\(id)\" exists already; PUT /api/bridges/\(id) changes it", problems: [("id", "exists already")])
        }
        if let pathID, !(await backend.bridgeReports().contains { $0.config.id == pathID }) {
            return .problem(404, "no bridge \"\(pathID)\"; POST /api/bridges adds one")
        }
        do throws(ConfigRefusal) {
            try await backend.setBridge(id: id, to: BridgeConfig(id: id, kind: kind, enabled: enabled, options: options))
        } catch {
            return Self.response(error, "bridge \(id) refused")
        }
        let report = await backend.bridgeReports().first { $0.config.id == id }
        return .json(pathID == nil ? 201 : 200, report.map(Self.json) ?? .null)
    }

    private func removeBridge(_ id: String) async -> HTTPResponse {
        do throws(ConfigRefusal) {
            try await backend.setBridge(id: id, to: nil)
            return .json(200, .object([("removed", .string(id))]))
        } catch {
            return Self.response(error, "bridge \(id) not removed")
        }
    }

    private func importConfig(_ request: HTTPRequest) async -> HTTPResponse {
        guard let text = request.bodyText else { return .problem(422, "the config file must be UTF-8 text") }
        do throws(ConfigRefusal) {
            let restartKeys = try await backend.importConfig(text)
            return .json(200, .object([
                ("applied", .bool(true)), ("restart_required", .array(restartKeys.map { .string($0) })),
            ]))
        } catch {
            return Self.response(error, "config refused; the running config is unchanged")
        }
    }

    private static func response(_ refusal: ConfigRefusal, _ message: String) -> HTTPResponse {
        let detail = refusal.problems.map { $0.field.isEmpty ? $0.reason : "\($0.field): \($0.reason)" }.joined(separator: "; ")
        return .problem(refusal.status, "\(message): \(detail)", problems: refusal.problems.map { ($0.field, $0.reason) })
    }

    /// A bridge option from JSON: a plain value, or a list of plain values (as the config
    /// file's arrays); nil for null, objects and nested lists.
    static func optionValue(_ json: JSON) -> OptionValue? {
        switch json {
        case .string(let text): return .string(text)
        case .integer(let number): return .integer(number)
        case .number(let number): return .number(number)
        case .bool(let flag): return .bool(flag)
        case .array(let items):
            let options = items.compactMap { item -> OptionValue? in
                if case .array = item { nil } else { optionValue(item) }
            }
            return options.count == items.count ? .list(options) : nil
        case .null, .object: return nil
        }
    }
}

import Bridges
import CLASP
import Logging
import NIOCore
import NIOPosix
import Router
import Testing
import Transports
import Web

@testable import Gateway

/// A bridge kind that exists only for these tests, with a counter.
private final class CountingBridge: Bridge {
    func start(link: any RouterLink) async throws {}
    func receive(_ message: Message) {}
    func stop() async {}
    var status: BridgeStatus { BridgeStatus(counters: [BridgeCounter(name: "frames_out", value: 42)]) }
}

private let catalog = BridgeCatalog([
    BridgeKind(
        name: "counting", summary: "counts nothing",
        fields: [
            BridgeField("universe", .integer(1...63_999), help: "the universe"),
            BridgeField("rate", .number(1...44), default: .number(44), help: "frames per second"),
        ],
        make: { _ in CountingBridge() })
])

/// The bridge endpoints of the REST API, through `AdminApp.handle` with a real router host
/// and `GatewayAdmin`, against a kind registered only here (the build's catalog may be empty).
@Suite struct AdminBridgeAPITests {
    private struct Fixture {
        let app: AdminApp
        let host: RouterHost
        let group: MultiThreadedEventLoopGroup
        let directory: String
        var cookie = ""
        var csrf = ""

        func call(_ method: String, _ target: String, _ body: String = "", csrf: Bool = true) async -> (status: Int, json: JSON?) {
            var headers = [("Cookie", "clasp_admin=\(cookie)"), ("Content-Type", "application/json")]
            if csrf { headers.append(("X-CSRF-Token", self.csrf)) }
            let response = await app.handle(HTTPRequest(method: method, target: target, headers: headers, body: Array(body.utf8), remote: "127.0.0.1"))
            guard case .bytes(let bytes) = response.body else { return (response.status, nil) }
            return (response.status, JSON.parse(bytes))
        }

        func shutdown() async {
            await host.shutdown()
            try? await group.shutdownGracefully()
        }
    }

    private func makeFixture() async throws -> Fixture {
        let directory = try temporaryDirectory()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let logger = Logger(label: "test")
        let host = RouterHost(configuration: RouterConfiguration(), eventLoop: group.next(), logger: logger)
        let supervisor = BridgeSupervisor(
            catalog: catalog,
            connect: { name, deliver in try await LocalRouterLink.open(host: host, name: name, deliver: deliver) },
            logger: logger)
        let admin = GatewayAdmin(
            settings: GatewaySettings(), serverName: "test", dataDirectory: directory, catalog: catalog,
            supervisor: supervisor, logger: logger, restart: {})
        let app = AdminApp(backend: admin, auth: try AdminAuth(directory: directory), host: host, logs: LogRing())
        var fixture = Fixture(app: app, host: host, group: group, directory: directory)
        let setup = await app.handle(HTTPRequest(
            method: "POST", target: "/api/auth/setup", headers: [("Content-Type", "application/json")],
            body: Array(#"{"password":"long enough"}"#.utf8), remote: "127.0.0.1"))
        #expect(setup.status == 200)
        let cookie = setup.headers.first { $0.0 == "Set-Cookie" }?.1 ?? ""
        fixture.cookie = String(cookie.dropFirst("clasp_admin=".count).prefix { $0 != ";" })
        guard case .bytes(let bytes) = setup.body, let csrf = JSON.parse(bytes)?["csrf"]?.stringValue else {
            throw TestFailure("no csrf in the setup answer")
        }
        fixture.csrf = csrf
        return fixture
    }

    @Test func kindsAreDescribedWithTheirFields() async throws {
        let fixture = try await makeFixture()
        let kinds = await fixture.call("GET", "/api/bridge-kinds")
        #expect(kinds.status == 200)
        guard case .array(let list)? = kinds.json, case .array(let fields)? = list.first?["fields"] else {
            Issue.record("no kinds")
            return
        }
        #expect(list.first?["name"] == .string("counting"))
        #expect(fields.first == .object([
            ("name", .string("universe")), ("type", .string("integer")), ("min", .integer(1)), ("max", .integer(63_999)),
            ("required", .bool(true)), ("help", .string("the universe")),
        ]))
        #expect(fields.last?["default"] == .number(44))
        await fixture.shutdown()
    }

    @Test func bridgesAreAddedChangedDisabledAndRemovedWithReasonsForRefusals() async throws {
        let fixture = try await makeFixture()
        let added = await fixture.call("POST", "/api/bridges", #"{"id":"stage","kind":"counting","options":{"universe":3}}"#)
        #expect(added.status == 201)
        #expect(added.json?["state"] == .string("running"))
        #expect(added.json?["counters"] == .object([("frames_out", .integer(42))]))

        let withoutCSRF = await fixture.call("POST", "/api/bridges", #"{"id":"x","kind":"counting","options":{"universe":1}}"#, csrf: false)
        #expect(withoutCSRF.status == 403)
        let duplicate = await fixture.call("POST", "/api/bridges", #"{"id":"stage","kind":"counting","options":{"universe":1}}"#)
        #expect(duplicate.status == 409)
        let outOfRange = await fixture.call("PUT", "/api/bridges/stage", #"{"kind":"counting","options":{"universe":70000,"speed":2}}"#)
        #expect(outOfRange.status == 422)
        guard case .array(let problems)? = outOfRange.json?["problems"] else {
            Issue.record("no problems listed")
            return
        }
        #expect(problems.map { $0["field"] } == [.string("speed"), .string("universe")])
        #expect(problems.last?["reason"] == .string("must be from 1 to 63999, got 70000"))
        let unchanged = await fixture.call("GET", "/api/bridges/stage")
        #expect(unchanged.json?["options"] == .object([("universe", .integer(3))]))

        let disabled = await fixture.call("PUT", "/api/bridges/stage", #"{"kind":"counting","enabled":false,"options":{"universe":4}}"#)
        #expect(disabled.status == 200)
        #expect(disabled.json?["state"] == .string("disabled"))
        guard case .success(let saved) = FileText.read(fixture.directory + "/gateway.toml") else {
            Issue.record("not saved")
            return
        }
        #expect(saved.contains("[bridges.stage]\nkind = \"counting\"\nenabled = false\nuniverse = 4\n"))

        let metrics = await fixture.app.handle(HTTPRequest(method: "GET", target: "/metrics", headers: [], body: [], remote: "127.0.0.1"))
        guard case .bytes(let text) = metrics.body else { return }
        #expect(String(decoding: text, as: UTF8.self).contains("clasp_bridge_running{bridge=\"stage\",kind=\"counting\"} 0"))

        #expect(await fixture.call("DELETE", "/api/bridges/stage").status == 200)
        #expect(await fixture.call("GET", "/api/bridges").json == .array([]))
        #expect(await fixture.call("DELETE", "/api/bridges/stage").status == 404)
        await fixture.shutdown()
    }
}

import Bridges
import CLASP
import Logging
import Testing
import Web

@testable import Gateway

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A bridge kind that exists only for these tests.
private final class QuietBridge: Bridge {
    func start(link: any RouterLink) async throws {}
    func receive(_ message: Message) {}
    func stop() async {}
    var status: BridgeStatus { BridgeStatus(counters: [BridgeCounter(name: "frames_out", value: 3)]) }
}

private struct NoLink: RouterLink {
    func send(_ message: Message) throws(CodecError) {}
    func close() {}
}

private let catalog = BridgeCatalog([
    BridgeKind(
        name: "quiet", summary: "does nothing",
        fields: [
            BridgeField("universe", .integer(1...63_999), help: "the universe"),
            BridgeField("mode", .choice(["in", "out"]), default: .string("out"), help: "direction"),
        ],
        make: { _ in QuietBridge() })
])

@Suite struct ConfigExportTests {
    @Test func anExportedConfigReadsBackToTheSameSettings() throws {
        var settings = try GatewaySettings().applying(configFile: exampleConfigPath())
        settings = try settings.applying(
            configText: """
                [params."/mixer/*/fader"]
                strategy = "max"
                type = ["int", "float"]
                min = 0.0
                max = 1.0

                [bridges.stage]
                kind = "quiet"
                universe = 7
                """, source: "extra.toml", bridgeCatalog: catalog)
        settings.websocket.handshakeTimeout = 2.5
        let text = settings.configText
        var back = try GatewaySettings().applying(configText: text, source: "export", bridgeCatalog: catalog, complete: true)
        back.dataDirectory = settings.dataDirectory
        #expect(back == settings)
        #expect(back.configText == text)
        #expect(text.contains("[admin]\nport = 8080"))
    }

    @Test func aCompleteFileWithoutBridgesRemovesThem() throws {
        let withBridge = try GatewaySettings().applying(
            configText: "[bridges.a]\nkind = \"quiet\"\nuniverse = 1\n", source: "a", bridgeCatalog: catalog)
        #expect(withBridge.bridges.count == 1)
        let partial = try withBridge.applying(configText: "[server]\nname = \"x\"\n", source: "b", bridgeCatalog: catalog)
        #expect(partial.bridges.count == 1)
        let complete = try withBridge.applying(configText: "[server]\nname = \"x\"\n", source: "c", bridgeCatalog: catalog, complete: true)
        #expect(complete.bridges.isEmpty)
    }

    @Test func theAdminFileInTheDataDirectoryComesAfterTheConfigFileAndBeforeFlags() throws {
        let directory = try temporaryDirectory()
        try writeFile(directory + "/base.toml", "[server]\nname = \"base\"\nport = 7400\n[limits]\nmax_sessions = 50\n")
        try writeFile(directory + "/gateway.toml", "[server]\nname = \"saved\"\n")
        let command = try GatewayCommand.parse(["--config", directory + "/base.toml", "--data-dir", directory, "--port", "7500"])
        let (running, files) = try command.resolveLayers()
        #expect(files.router.name == "saved")
        #expect(files.port == 7400 && files.router.maxSessions == 50)
        #expect(running.port == 7500 && running.router.name == "saved")
        #expect(try GatewayCommand.parse(["--admin-port", "0"]).resolveSettings().adminPort == 0)
    }
}

@Suite struct GatewayAdminTests {
    private func makeAdmin(_ directory: String) async -> (GatewayAdmin, BridgeSupervisor) {
        let supervisor = BridgeSupervisor(catalog: catalog, connect: { _, _ in NoLink() }, logger: Logger(label: "test"))
        let admin = GatewayAdmin(
            settings: GatewaySettings(), serverName: "test", dataDirectory: directory, catalog: catalog,
            supervisor: supervisor, logger: Logger(label: "test"), restart: {})
        return (admin, supervisor)
    }

    private func savedFile(_ directory: String) -> String? {
        if case .success(let text) = FileText.read(directory + "/gateway.toml") { text } else { nil }
    }

    @Test func aValidBridgeIsSavedAndRunsAndAnInvalidOneChangesNothing() async throws {
        let directory = try temporaryDirectory()
        let (admin, _) = await makeAdmin(directory)
        try await admin.setBridge(id: "stage", to: BridgeConfig(id: "stage", kind: "quiet", options: ["universe": .integer(3)]))
        #expect(savedFile(directory)?.contains("[bridges.stage]\nkind = \"quiet\"\nenabled = true\nuniverse = 3\n") == true)
        let reports = await admin.bridgeReports()
        #expect(reports.map(\.config.id) == ["stage"])
        #expect(reports.first?.state == .running(BridgeStatus(counters: [BridgeCounter(name: "frames_out", value: 3)])))

        let before = savedFile(directory)
        await #expect(throws: ConfigRefusal([.init(field: "universe", reason: "must be from 1 to 63999, got 0")])) {
            try await admin.setBridge(id: "stage", to: BridgeConfig(id: "stage", kind: "quiet", options: ["universe": .integer(0)]))
        }
        await #expect(throws: ConfigRefusal.self) {
            try await admin.setBridge(id: "other", to: BridgeConfig(id: "other", kind: "quiet", options: ["mode": .string("sideways"), "universe": .integer(1)]))
        }
        #expect(savedFile(directory) == before)
        #expect(await admin.bridgeReports().map(\.config.options) == [["universe": .integer(3)]])

        try await admin.setBridge(id: "stage", to: BridgeConfig(id: "stage", kind: "quiet", enabled: false, options: ["universe": .integer(3)]))
        #expect(await admin.bridgeReports().first?.state == .disabled)
        try await admin.setBridge(id: "stage", to: nil)
        #expect(await admin.bridgeReports().isEmpty)
        #expect(savedFile(directory)?.contains("[bridges") == false)
        await #expect(throws: ConfigRefusal([.init(field: "id", reason: "no bridge \"stage\"")], status: 404)) {
            try await admin.setBridge(id: "stage", to: nil)
        }
    }

    @Test func anImportIsCheckedWhole() async throws {
        let directory = try temporaryDirectory()
        let (admin, _) = await makeAdmin(directory)
        let refused: ConfigRefusal
        do {
            _ = try await admin.importConfig("[limits]\nmax_sessions = 0\n[bridges.x]\nkind = \"quiet\"\n")
            Issue.record("accepted an invalid file")
            return
        } catch {
            refused = error
        }
        #expect(refused.problems.map(\.field) == ["limits.max_sessions", "bridges.x.universe"])
        let unknown: ConfigRefusal
        do {
            _ = try await admin.importConfig("[limit]\nmax_sessions = 1\n[server]\nprot = 1\n")
            Issue.record("accepted unknown names")
            return
        } catch {
            unknown = error
        }
        #expect(unknown.problems.map(\.field) == ["limit", "server.prot"])
        #expect(savedFile(directory) == nil)
        let later = try await admin.importConfig("[limits]\nmax_sessions = 10\n[bridges.x]\nkind = \"quiet\"\nuniverse = 2\n")
        #expect(later == ["limits.max_sessions"])
        #expect(await admin.bridgeReports().map(\.config.id) == ["x"])
        #expect(await admin.exportConfig() == savedFile(directory))
    }
}

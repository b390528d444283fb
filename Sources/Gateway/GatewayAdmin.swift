import Bridges
import Logging
import Web

/// The gateway's side of the admin API: holds the config as loaded from files (flags not
/// included), checks every change, saves it to `<data-dir>/gateway.toml` atomically before
/// applying it, and applies bridge changes live through the supervisor (only the bridge
/// that changed restarts).
actor GatewayAdmin: AdminBackend {
    /// The file the admin page saves to, inside the data directory.
    static let fileName = "gateway.toml"

    nonisolated let bridgeCatalog: BridgeCatalog
    nonisolated let serverName: String
    nonisolated let version = GatewayVersion.string
    private var settings: GatewaySettings
    private let supervisor: BridgeSupervisor
    private let path: String
    private let logger: Logger
    private let restartRequest: @Sendable () -> Void
    private var listening: [Listener] = []

    /// - Parameters:
    ///   - settings: the config files' settings, without command-line flags.
    ///   - serverName: the name the gateway runs with (flags included).
    init(
        settings: GatewaySettings, serverName: String, dataDirectory: String, catalog: BridgeCatalog,
        supervisor: BridgeSupervisor, logger: Logger, restart: @escaping @Sendable () -> Void
    ) {
        self.settings = settings
        self.bridgeCatalog = catalog
        self.serverName = serverName
        self.supervisor = supervisor
        self.path = dataDirectory + "/" + Self.fileName
        self.logger = logger
        self.restartRequest = restart
    }

    func setListeners(_ listeners: [Listener]) {
        listening = listeners
    }

    func bridgeReports() async -> [BridgeSupervisor.Report] {
        await supervisor.reports()
    }

    func setBridge(id: String, to config: BridgeConfig?) async throws(ConfigRefusal) {
        var updated = settings
        if let index = updated.bridges.firstIndex(where: { $0.id == id }) {
            if let config { updated.bridges[index] = config } else { updated.bridges.remove(at: index) }
        } else if let config {
            updated.bridges.append(config)
        } else {
            throw ConfigRefusal([.init(field: "id", reason: "no bridge \"\(id)\"")], status: 404)
        }
        let problems = supervisor.problems(in: updated.bridges).filter { $0.id == id }
        guard problems.isEmpty else {
            throw ConfigRefusal(problems.map { .init(field: $0.problem.field.isEmpty ? "id" : $0.problem.field, reason: $0.problem.reason) })
        }
        try save(updated)
        await supervisor.apply(updated.bridges)
        logger.notice("admin: bridge \(id) \(config == nil ? "removed" : "saved and applied")")
    }

    func exportConfig() async -> String {
        settings.configText
    }

    func importConfig(_ text: String) async throws(ConfigRefusal) -> [String] {
        var imported: GatewaySettings
        do throws(ConfigError) {
            imported = try GatewaySettings().applying(configText: text, source: "imported file", bridgeCatalog: bridgeCatalog, complete: true)
        } catch {
            throw ConfigRefusal(error.messages.map(Self.problem))
        }
        imported.dataDirectory = settings.dataDirectory
        let restartKeys = imported.keysDiffering(from: settings)
        try save(imported)
        await supervisor.apply(imported.bridges)
        logger.notice("admin: config imported\(restartKeys.isEmpty ? "" : "; at the next restart: \(restartKeys.joined(separator: ", "))")")
        return restartKeys
    }

    func listeners() async -> [Listener] { listening }

    nonisolated func restart() {
        restartRequest()
    }

    /// Writes the file, then makes `updated` the config; a failed write changes nothing.
    private func save(_ updated: GatewaySettings) throws(ConfigRefusal) {
        do throws(AtomicFile.Failure) {
            try AtomicFile.write(Array(updated.configText.utf8), to: path, mode: 0o644)
        } catch {
            throw ConfigRefusal([.init(field: "", reason: error.description)], status: 500)
        }
        settings = updated
    }

    /// `limits.max_sessions: must be … (imported file line 3)` → field and reason;
    /// `unknown key server.nmae (…)` and `unknown table [limit] (…)` name the key or table.
    private static func problem(_ message: String) -> ConfigRefusal.Problem {
        for prefix in ["unknown key ", "unknown table "] where message.hasPrefix(prefix) {
            let name = message.dropFirst(prefix.count).prefix { $0 != " " }
            return .init(field: String(name.filter { $0 != "[" && $0 != "]" }), reason: message)
        }
        let parts = message.split(separator: ": ", maxSplits: 1)
        guard parts.count == 2, !parts[0].contains(" ") else { return .init(field: "", reason: message) }
        return .init(field: String(parts[0]), reason: String(parts[1]))
    }
}

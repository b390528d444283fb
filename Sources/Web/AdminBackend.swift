public import Bridges

/// What the admin page and API ask of the gateway. The gateway owns the config, its file and
/// the bridges; the web layer only validates input shapes and renders.
public protocol AdminBackend: Sendable {
    var bridgeCatalog: BridgeCatalog { get }
    /// Server name and version for the dashboard.
    var serverName: String { get }
    var version: String { get }

    func bridgeReports() async -> [BridgeSupervisor.Report]
    /// Adds (new id), replaces or removes (`nil`) one bridge: validated, applied (only that
    /// bridge restarts) and saved before returning. On a problem nothing changes.
    func setBridge(id: String, to config: BridgeConfig?) async throws(ConfigRefusal)
    /// The running config as a TOML file that `importConfig` and `--config` accept.
    func exportConfig() async -> String
    /// Validates a whole config file, applies what can change live (bridges), saves it, and
    /// returns the keys whose new value takes effect at the next restart.
    func importConfig(_ text: String) async throws(ConfigRefusal) -> [String]
    /// The listeners and their ports.
    func listeners() async -> [Listener]
    /// Restarts the gateway process (after the response is sent).
    func restart()
}

/// A refused change: each problem names the field (a config key or a bridge option) and why.
public struct ConfigRefusal: Error, Equatable, Sendable {
    public var problems: [Problem]
    /// 404 when the thing to change does not exist, 422 for invalid values, 500 when saving failed.
    public var status: Int

    public struct Problem: Equatable, Sendable {
        public var field: String
        public var reason: String

        public init(field: String, reason: String) {
            self.field = field
            self.reason = reason
        }
    }

    public init(_ problems: [Problem], status: Int = 422) {
        self.problems = problems
        self.status = status
    }
}

/// One listening socket, for the transports page.
public struct Listener: Sendable, Equatable {
    public var name: String
    /// `ws`, `tcp`, `udp`, `http`.
    public var scheme: String
    public var address: String
    public var port: Int

    public init(name: String, scheme: String, address: String, port: Int) {
        self.name = name
        self.scheme = scheme
        self.address = address
        self.port = port
    }
}

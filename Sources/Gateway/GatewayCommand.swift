import ArgumentParser
import Logging
import Web

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum GatewayVersion {
    static let string = "0.1.0"
}

/// Exit codes besides 0 (clean stop) and ArgumentParser's 64 (bad flags).
enum GatewayExit {
    /// The config file was refused.
    static let config: Int32 = 78
    /// Could not start: data directory, port in use, bind address.
    static let startFailure: Int32 = 1
}

@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clasp-gateway",
        abstract: "CLASP router and gateway (WebSocket, TCP and UDP; WebSocket and TCP also over TLS; wire-compatible with the CLASP reference).",
        discussion: """
            Settings come from, in order of precedence: these flags, <data-dir>/gateway.toml (saved \
            by the admin page), the config file (--config), then the embedded defaults. See \
            README.md for every config key.

            Exit codes: 0 after a clean stop (SIGINT/SIGTERM), 64 bad flags, 78 bad config file, \
            1 start failure (data directory, bind address, port in use).
            """,
        version: GatewayVersion.string
    )

    @Option(help: ArgumentHelp("Address to listen on. (default: 0.0.0.0)", valueName: "host"))
    var bind: String?

    @Option(help: ArgumentHelp("WebSocket port; 0 picks a free port. (default: 7330)", valueName: "port"))
    var port: Int?

    @Option(
        name: .customLong("discovery-port"),
        help: ArgumentHelp("UDP discovery responder port; 0 disables it. (default: 7331)", valueName: "port"))
    var discoveryPort: Int?

    @Option(
        name: .customLong("tcp-port"),
        help: ArgumentHelp("TCP port (length-prefixed frames); 0 disables it. (default: 7332)", valueName: "port"))
    var tcpPort: Int?

    @Option(
        name: .customLong("wss-port"),
        help: ArgumentHelp("WebSocket-over-TLS port; 0 disables it. (default: 7343)", valueName: "port"))
    var wssPort: Int?

    @Option(
        name: .customLong("tcps-port"),
        help: ArgumentHelp("TCP-over-TLS port (length-prefixed frames); 0 disables it. (default: 7344)", valueName: "port"))
    var tcpsPort: Int?

    @Option(
        name: .customLong("udp-port"),
        help: ArgumentHelp("UDP port (one frame per datagram); 0 disables UDP. (default: 7333)", valueName: "port"))
    var udpPort: Int?

    @Option(
        name: .customLong("admin-port"),
        help: ArgumentHelp("Admin page and REST API (HTTP) port; 0 disables it. (default: 8080)", valueName: "port"))
    var adminPort: Int?

    @Option(
        name: .customLong("data-dir"),
        help: ArgumentHelp("Data directory, created if missing; must be writable. (default: ./data)", valueName: "path"))
    var dataDir: String?

    @Option(help: ArgumentHelp("Config file (TOML).", valueName: "path"))
    var config: String?

    @Option(
        name: .customLong("log-level"),
        help: ArgumentHelp("Log level. (default: info)", valueName: "level"))
    var logLevel: LogLevelArgument?

    @Option(help: ArgumentHelp("Server name sent in WELCOME. (default: clasp-gateway)", valueName: "name"))
    var name: String?

    init() {}

    func validate() throws {
        if let port, !(0...65_535).contains(port) {
            throw ValidationError("--port must be an integer from 0 to 65535, got \(port)")
        }
        if let discoveryPort, !(0...65_535).contains(discoveryPort) {
            throw ValidationError("--discovery-port must be an integer from 0 to 65535 (0 disables), got \(discoveryPort)")
        }
        for (flag, value) in [("--tcp-port", tcpPort), ("--wss-port", wssPort), ("--tcps-port", tcpsPort), ("--udp-port", udpPort), ("--admin-port", adminPort)] {
            if let value, !(0...65_535).contains(value) {
                throw ValidationError("\(flag) must be an integer from 0 to 65535 (0 disables), got \(value)")
            }
        }
        if let bind, !Validate.bindHost(bind) {
            throw ValidationError("--bind must be an IPv4 or IPv6 address or a host name, got \"\(bind)\"")
        }
        if let name, !Validate.serverName(name) {
            throw ValidationError("--name must be a non-empty string of at most 255 bytes without control characters")
        }
        if let dataDir, dataDir.isEmpty {
            throw ValidationError("--data-dir must not be empty")
        }
    }

    /// Embedded defaults, then the config file, then the admin page's file in the data
    /// directory, then the flags.
    func resolveSettings(defaults: GatewaySettings = GatewaySettings()) throws(ConfigError) -> GatewaySettings {
        try resolveLayers(defaults: defaults).running
    }

    /// `resolveSettings`, plus the settings before the flags (what the admin page edits and
    /// exports).
    func resolveLayers(defaults: GatewaySettings = GatewaySettings()) throws(ConfigError) -> (running: GatewaySettings, files: GatewaySettings) {
        var files = defaults
        if let config {
            files = try files.applying(configFile: config)
        }
        let directory = dataDir ?? files.dataDirectory
        let saved = directory + "/" + GatewayAdmin.fileName
        if FileText.exists(saved) {
            files = try files.applying(configFile: saved, complete: true)
            files.dataDirectory = directory
        }
        var settings = files
        applyFlags(to: &settings)
        return (settings, files)
    }

    func applyFlags(to settings: inout GatewaySettings) {
        if let bind { settings.bind = bind }
        if let port { settings.port = port }
        if let discoveryPort { settings.discoveryPort = discoveryPort }
        if let tcpPort { settings.tcp.port = tcpPort }
        if let wssPort { settings.tls.websocketPort = wssPort }
        if let tcpsPort { settings.tls.tcpPort = tcpsPort }
        if let udpPort { settings.udp.port = udpPort }
        if let dataDir { settings.dataDirectory = dataDir }
        if let logLevel { settings.logLevel = logLevel.level }
        if let name { settings.router.name = name }
        if let adminPort { settings.adminPort = adminPort }
    }

    func run() async throws {
        let settings: GatewaySettings
        let fileSettings: GatewaySettings
        do {
            (settings, fileSettings) = try resolveLayers()
        } catch {
            StandardError.write(error.description)
            throw ExitCode(GatewayExit.config)
        }

        let level = settings.logLevel
        let recent = LogRing()
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, level: level, recent: recent) }
        let logger = Logger(label: "clasp-gateway")

        let directory: String
        do {
            let prepared = try DataDirectory.prepare(settings.dataDirectory)
            directory = prepared.path
            logger.info("data directory \(prepared.path)\(prepared.created ? " (created)" : "")")
        } catch {
            logger.critical("cannot start: \(error.description)")
            throw ExitCode(GatewayExit.startFailure)
        }

        let stop = try await GatewayServer.run(
            settings: settings, fileSettings: fileSettings, dataDirectory: directory, logs: recent, logger: logger)
        if stop == .restart { Restart.reexecute(logger: logger) }
    }
}

/// `--log-level` values.
struct LogLevelArgument: ExpressibleByArgument, Sendable {
    var level: Logger.Level

    init?(argument: String) {
        guard let level = LogLevelName.level(named: argument.lowercased()) else { return nil }
        self.level = level
    }

    static var allValueStrings: [String] { LogLevelName.all.map(\.0) }
}

enum StandardError {
    static func write(_ text: String) {
        var bytes = Array(text.utf8)
        if bytes.last != 0x0A { bytes.append(0x0A) }
        _ = FileDescriptorIO.writeAll(2, bytes)
    }
}

enum FileDescriptorIO {
    /// Writes all of `bytes` (retrying after signals); 0 on success, else the errno.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32 {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = systemWrite(fd, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += written
            }
            return 0
        }
    }
}

private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    write(fd, buffer, count)
}

import ArgumentParser
import CLASP
import Logging
import Router
import Testing
import Transports

@testable import Gateway

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Applies `text` on the defaults and returns the refusal messages (empty when accepted).
private func refusals(_ text: String) -> [String] {
    do {
        _ = try GatewaySettings().applying(configText: text, source: "test.toml")
        return []
    } catch {
        return error.messages
    }
}

private func settings(_ text: String) throws -> GatewaySettings {
    try GatewaySettings().applying(configText: text, source: "test.toml")
}

/// A fresh temporary directory.
func temporaryDirectory() throws -> String {
    var template = Array("/tmp/gateway-tests-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { buffer -> String? in
        guard let base = buffer.baseAddress, let result = mkdtemp(base) else { return nil }
        return String(cString: result)
    }
    guard let made else { throw TestFailure("mkdtemp failed") }
    return made
}

func writeFile(_ path: String, _ text: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { throw TestFailure("cannot write \(path)") }
    defer { close(fd) }
    let bytes = Array(text.utf8)
    let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    guard written == bytes.count else { throw TestFailure("short write to \(path)") }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

@Suite struct ConfigFileTests {
    @Test func embeddedDefaultsAreTheStructDefaults() throws {
        let defaults = GatewaySettings()
        #expect(defaults.bind == "0.0.0.0")
        #expect(defaults.port == 7330)
        #expect(defaults.dataDirectory == "./data")
        #expect(defaults.logLevel == .info)
        #expect(defaults.router == RouterConfiguration())
        #expect(defaults.websocket == WebSocketSettings())
        #expect(try settings("") == defaults)
        #expect(try settings("# only a comment\n\n[server]\n") == defaults)
    }

    @Test func everyKeyIsApplied() throws {
        let result = try settings(
            """
            [server]
            name = "Stage Left"
            bind = "127.0.0.1"
            port = 0
            data_dir = "/var/lib/clasp"
            log_level = "debug"
            [websocket]
            handshake_timeout = 2.5
            max_frame_bytes = 70000
            outbound_queue_frames = 50
            outbound_queue_bytes = 100000
            [tcp]
            port = 7400
            read_timeout = 1.5
            [tls]
            enabled = false
            websocket_port = 7401
            tcp_port = 0
            certificate = "/etc/clasp/cert.pem"
            private_key = "/etc/clasp/key.pem"
            [limits]
            max_sessions = 10
            handshake_timeout = 3
            idle_timeout = 0
            max_subscriptions_per_session = 20
            max_bad_frames_per_second = 5
            max_address_length = 256
            max_params = 500
            snapshot_chunk_bytes = 4096
            [protocol]
            ack_only_when_asked = false
            features = ["param", "event"]
            """)
        #expect(result.router.name == "Stage Left")
        #expect(result.bind == "127.0.0.1")
        #expect(result.port == 0)
        #expect(result.dataDirectory == "/var/lib/clasp")
        #expect(result.logLevel == .debug)
        #expect(result.websocket.handshakeTimeout == 2.5)
        #expect(result.websocket.maxFrameBytes == 70_000)
        #expect(result.websocket.outboundQueueFrames == 50)
        #expect(result.websocket.outboundQueueBytes == 100_000)
        #expect(result.tcp == TCPSettings(port: 7400, readTimeout: 1.5))
        #expect(result.tls == TLSSettings(
            enabled: false, websocketPort: 7401, tcpPort: 0,
            certificatePath: "/etc/clasp/cert.pem", privateKeyPath: "/etc/clasp/key.pem"))
        #expect(result.router.maxSessions == 10)
        #expect(result.router.handshakeTimeout == 3)
        #expect(result.router.idleTimeout == 0)
        #expect(result.router.maxSubscriptionsPerSession == 20)
        #expect(result.router.maxBadFramesPerSecond == 5)
        #expect(result.router.maxAddressLength == 256)
        #expect(result.router.maxParams == 500)
        #expect(result.router.snapshotChunkBytes == 4096)
        #expect(result.router.ackOnlyWhenAsked == false)
        #expect(result.router.features == [.param, .event])
    }

    @Test func theDocumentedMessageFormatIsUsed() {
        #expect(
            refusals("[limits]\nmax_sessions = \"ten\"")
                == ["limits.max_sessions: must be a positive integer, got \"ten\" (test.toml line 2)"])
        #expect(refusals("[server]\nprot = 7330") == ["unknown key server.prot (did you mean port?) (test.toml line 2)"])
        #expect(ConfigError(["a", "b"]).description == "config error: a\nconfig error: b")
    }

    @Test(arguments: [
        ("[server]\nname = \"\"", "server.name: must be a non-empty string"),
        ("[server]\nname = 3", "server.name: must be a non-empty string"),
        ("[server]\nname = \"\(String(repeating: "n", count: 256))\"", "server.name: must be"),
        ("[server]\nname = \"a\\nb\"", "server.name: must be"),
        ("[server]\nbind = \"\"", "server.bind: must be an IPv4 or IPv6 address or a host name, got \"\""),
        ("[server]\nbind = \"300.1.1.1\"", "server.bind: must be"),
        ("[server]\nbind = \"ws://host\"", "server.bind: must be"),
        ("[server]\nbind = 127", "server.bind: must be"),
        ("[server]\nport = 65536", "server.port: must be an integer from 0 to 65535 (0 = any free port), got 65536"),
        ("[server]\nport = -1", "server.port: must be"),
        ("[server]\nport = \"7330\"", "server.port: must be an integer from 0 to 65535 (0 = any free port), got \"7330\""),
        ("[server]\nport = 7330.0", "server.port: must be"),
        ("[server]\ndata_dir = \"\"", "server.data_dir: must be a non-empty path"),
        ("[server]\ndata_dir = 1", "server.data_dir: must be"),
        ("[server]\nlog_level = \"loud\"", "server.log_level: must be one of trace, debug, info, notice, warning, error, critical, got \"loud\""),
        ("[server]\nlog_level = \"INFO\"", "server.log_level: must be"),
        ("[websocket]\nhandshake_timeout = 0", "websocket.handshake_timeout: must be a number of seconds greater than 0"),
        ("[websocket]\nhandshake_timeout = nan", "websocket.handshake_timeout: must be"),
        ("[websocket]\nhandshake_timeout = inf", "websocket.handshake_timeout: must be"),
        ("[websocket]\nhandshake_timeout = \"10s\"", "websocket.handshake_timeout: must be"),
        ("[websocket]\nmax_frame_bytes = 100", "websocket.max_frame_bytes: must be an integer from 1024 to 16777216, got 100"),
        ("[websocket]\noutbound_queue_frames = 0", "websocket.outbound_queue_frames: must be a positive integer, got 0"),
        ("[websocket]\noutbound_queue_bytes = -5", "websocket.outbound_queue_bytes: must be a positive integer, got -5"),
        ("[limits]\nmax_sessions = 0", "limits.max_sessions: must be a positive integer, got 0"),
        ("[limits]\nmax_sessions = 1.5", "limits.max_sessions: must be a positive integer, got 1.5"),
        ("[limits]\nmax_sessions = true", "limits.max_sessions: must be a positive integer, got true"),
        ("[limits]\nmax_sessions = [1]", "limits.max_sessions: must be a positive integer, got [1]"),
        ("[limits]\nhandshake_timeout = -1", "limits.handshake_timeout: must be a number of seconds greater than 0"),
        ("[limits]\nhandshake_timeout = 3601", "limits.handshake_timeout: must be"),
        ("[limits]\nidle_timeout = -0.5", "limits.idle_timeout: must be a number of seconds from 0 to 86400 (0 = never)"),
        ("[limits]\nmax_subscriptions_per_session = 0", "limits.max_subscriptions_per_session: must be a positive integer"),
        ("[limits]\nmax_bad_frames_per_second = 0", "limits.max_bad_frames_per_second: must be a positive integer"),
        ("[limits]\nmax_address_length = 65536", "limits.max_address_length: must be an integer from 1 to 65535"),
        ("[limits]\nmax_params = 0", "limits.max_params: must be a positive integer"),
        ("[limits]\nsnapshot_chunk_bytes = 70000", "limits.snapshot_chunk_bytes: must be an integer from 1024 to 65535"),
        ("[protocol]\nack_only_when_asked = \"yes\"", "protocol.ack_only_when_asked: must be true or false, got \"yes\""),
        ("[protocol]\nack_only_when_asked = 1", "protocol.ack_only_when_asked: must be true or false"),
        ("[protocol]\nfeatures = [\"param\", \"param\"]", "protocol.features: must be an array of distinct names"),
        ("[protocol]\nfeatures = [\"federation\"]", "protocol.features: must be an array of distinct names"),
        ("[protocol]\nfeatures = \"param\"", "protocol.features: must be an array of distinct names"),
    ])
    func invalidValuesAreRefusedWithKeyAndReason(text: String, expected: String) {
        let messages = refusals(text)
        #expect(messages.count == 1, "\(text)")
        #expect(messages.first?.hasPrefix(expected) == true, "\(text) -> \(messages)")
        #expect(messages.first?.hasSuffix("(test.toml line 2)") == true, "\(messages)")
    }

    @Test(arguments: [
        ("[server]\nprot = 1", "unknown key server.prot (did you mean port?)"),
        ("[server]\nnmae = \"x\"", "unknown key server.nmae (did you mean name?)"),
        ("[limits]\nmax_session = 1", "unknown key limits.max_session (did you mean max_sessions?)"),
        ("[server]\nmax_sessions = 1", "unknown key server.max_sessions (did you mean limits.max_sessions?)"),
        ("port = 1", "unknown key port (did you mean server.port?)"),
        ("[server]\ncolour = \"red\"", "unknown key server.colour (test.toml"),
        ("[server]\nport.x = 1", "unknown key server.port.x"),
    ])
    func unknownKeysAreRefusedWithASuggestion(text: String, expected: String) {
        let messages = refusals(text)
        #expect(messages.count == 1, "\(messages)")
        #expect(messages.first?.hasPrefix(expected) == true, "\(messages)")
    }

    @Test func unknownTablesAreRefusedOnceWithASuggestion() {
        let messages = refusals("[limit]\nmax_sessions = 1\nother = 2\n[mqtt]\nhost = \"x\"")
        #expect(
            messages == [
                "unknown table [limit] (did you mean [limits]?) (test.toml line 1)",
                "unknown table [mqtt] (test.toml line 4)",
            ])
    }

    @Test func everyProblemIsReportedInLineOrderAndNothingIsApplied() {
        let messages = refusals("[server]\nport = \"x\"\nbogus = 1\n[limits]\nmax_params = 0\n")
        #expect(messages.count == 3)
        #expect(messages[0].hasPrefix("server.port"))
        #expect(messages[1].hasPrefix("unknown key server.bogus"))
        #expect(messages[2].hasPrefix("limits.max_params"))
    }

    @Test func syntaxErrorsNameTheFileAndLine() {
        #expect(refusals("[server]\nport = = 1") == ["test.toml line 2: unexpected character '=', expected a value"])
        #expect(refusals("[server\n") == ["test.toml line 1: expected ']' to close the table header"])
    }

    @Test func integersAreAcceptedForSeconds() throws {
        #expect(try settings("[limits]\nidle_timeout = 60").router.idleTimeout == 60)
        #expect(try settings("[limits]\nidle_timeout = 0.25").router.idleTimeout == 0.25)
    }

    @Test func bindAcceptsAddressesAndHostNames() {
        for host in ["0.0.0.0", "127.0.0.1", "::", "::1", "fe80::1", "localhost", "gateway-1.local"] {
            #expect(Validate.bindHost(host), "\(host)")
        }
        for host in ["", "300.1.1.1", "1.2.3", "a b", "-bad", "host:7330", "[::1]", "bad..dots"] {
            #expect(!Validate.bindHost(host), "\(host)")
        }
    }

    @Test func theExampleFileLoadsAndStatesTheDefaults() throws {
        let path = exampleConfigPath()
        let loaded = try GatewaySettings().applying(configFile: path)
        var expected = GatewaySettings()
        expected.websocket = loaded.websocket
        expected.tcp.readTimeout = loaded.tcp.readTimeout
        expected.udp = loaded.udp
        #expect(loaded.tls == TLSSettings())
        // The example writes out every default; [websocket] and [tcp] defaults belong to the
        // transports.
        #expect(loaded == expected)
        #expect(loaded.tcp.port == TCPServer.Configuration().listener.port)
        #expect(loaded.tcp.readTimeout == TCPServer.Configuration().readTimeout)
        let udp = UDPServer.Configuration()
        #expect(loaded.udp.port == udp.port)
        #expect(loaded.udp.idleTimeout == udp.idleTimeout && loaded.udp.maxDatagramBytes == udp.maxDatagramBytes)
        #expect(loaded.udp.multicastGroup == nil && loaded.udp.multicastInterface == nil)
        #expect(loaded.udp.multicastTTL == udp.multicastTTL && loaded.udp.multicastLoop == udp.multicastLoop)
        #expect(loaded.udp.broadcast == udp.broadcast && loaded.udp.broadcastAddress == udp.broadcastAddress)
        #expect(loaded.udp.groupSubscribe == udp.groupSubscriptions)
        let transport = WebSocketServer.Configuration()
        #expect(loaded.websocket.handshakeTimeout == transport.handshakeTimeout)
        #expect(loaded.websocket.maxFrameBytes == transport.maxFrameBytes)
        #expect(loaded.websocket.outboundQueueFrames == transport.listener.outboundQueueFrames)
        #expect(loaded.websocket.outboundQueueBytes == transport.listener.outboundQueueBytes)
    }

    @Test func unreadableFilesAreRefused() throws {
        let directory = try temporaryDirectory()
        #expect(throws: ConfigError(["cannot read \(directory)/missing.toml: No such file or directory"])) {
            try GatewaySettings().applying(configFile: directory + "/missing.toml")
        }
        #expect(throws: ConfigError(["cannot read \(directory): not a regular file"])) {
            try GatewaySettings().applying(configFile: directory)
        }
        try writeFile(directory + "/latin1.toml", "")
        let fd = open(directory + "/latin1.toml", O_WRONLY)
        var byte: UInt8 = 0xE9
        _ = write(fd, &byte, 1)
        close(fd)
        #expect(throws: ConfigError(["cannot read \(directory)/latin1.toml: the file is not valid UTF-8"])) {
            try GatewaySettings().applying(configFile: directory + "/latin1.toml")
        }
    }
}

/// `docs/clasp-gateway.example.toml`, found from this source file.
func exampleConfigPath() -> String {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)  // Tests/GatewayTests/SettingsTests.swift
    return parts.joined(separator: "/") + "/docs/clasp-gateway.example.toml"
}

@Suite struct PrecedenceTests {
    @Test func flagsOverrideTheFileWhichOverridesDefaults() throws {
        let directory = try temporaryDirectory()
        let file = directory + "/gateway.toml"
        try writeFile(
            file,
            """
            [server]
            name = "from-file"
            port = 9000
            bind = "127.0.0.1"
            log_level = "warning"
            [limits]
            max_sessions = 7
            """)
        let command = try GatewayCommand.parse(["--config", file, "--port", "0", "--name", "from-flag"])
        let result = try command.resolveSettings()
        #expect(result.port == 0)  // flag
        #expect(result.router.name == "from-flag")  // flag
        #expect(result.bind == "127.0.0.1")  // file
        #expect(result.logLevel == .warning)  // file
        #expect(result.router.maxSessions == 7)  // file
        #expect(result.dataDirectory == "./data")  // default
        #expect(result.router.idleTimeout == RouterConfiguration().idleTimeout)  // default
    }

    @Test func everyFlagOverrides() throws {
        let command = try GatewayCommand.parse([
            "--bind", "::1", "--port", "1234", "--data-dir", "/tmp/x", "--log-level", "trace", "--name", "n",
        ])
        let result = try command.resolveSettings()
        #expect(result.bind == "::1")
        #expect(result.port == 1234)
        #expect(result.dataDirectory == "/tmp/x")
        #expect(result.logLevel == .trace)
        #expect(result.router.name == "n")
    }

    @Test func portFlagsWinOverTheFileAndZeroLeavesAListenerOut() throws {
        let directory = try temporaryDirectory()
        let file = directory + "/ports.toml"
        try writeFile(file, "[tcp]\nport = 9000\n[tls]\nwebsocket_port = 9001\ntcp_port = 9002\n")
        let flags = try GatewayCommand.parse(["--config", file, "--tcp-port", "0", "--wss-port", "9100", "--tcps-port", "0"])
            .resolveSettings()
        #expect(flags.tcp.port == 0 && flags.tls.websocketPort == 9100 && flags.tls.tcpPort == 0)
        var settings = flags
        settings.port = 0
        let pem = try SelfSignedCertificate.generate(names: ["localhost"])
        let tls = try TLSIdentity(certificatePEM: pem.certificate, privateKeyPEM: pem.privateKey)
        #expect(GatewayServer.listenerPlans(settings, tls: tls).map(\.scheme) == ["ws", "udp", "wss"])
        #expect(GatewayServer.listenerPlans(GatewaySettings(), tls: tls).map(\.scheme) == ["ws", "tcp", "udp", "wss", "tcps"])
        #expect(GatewayServer.listenerPlans(GatewaySettings(), tls: nil).map(\.scheme) == ["ws", "tcp", "udp"])
    }

    @Test func aCertificateNeedsItsKey() throws {
        #expect(throws: ConfigError(["tls.certificate and tls.private_key go together: set both or neither (t.toml line 2)"])) {
            try GatewaySettings().applying(configText: "[tls]\ncertificate = \"/c.pem\"\n", source: "t.toml")
        }
    }

    @Test func udpPortZeroLeavesUDPOutAndTheFlagWins() throws {
        let directory = try temporaryDirectory()
        let file = directory + "/udp.toml"
        try writeFile(file, "[udp]\nport = 0\n")
        let off = try GatewaySettings().applying(configFile: file)
        #expect(off.udp.port == 0)
        #expect(!GatewayServer.listenerPlans(off, tls: nil).map(\.scheme).contains("udp"))
        let on = try GatewayCommand.parse(["--config", file, "--udp-port", "9100"]).resolveSettings()
        #expect(on.udp.port == 9100)
        #expect(GatewayServer.listenerPlans(on, tls: nil).map(\.scheme) == ["ws", "tcp", "udp"])
        #expect(throws: (any Error).self) { try GatewayCommand.parse(["--udp-port", "70000"]) }
    }

    @Test func udpGroupKeysAreCheckedAndReachTheTransport() throws {
        let directory = try temporaryDirectory()
        let good = directory + "/groups.toml"
        try writeFile(good, """
            [udp]
            multicast_group = "239.1.2.3"
            multicast_interface = "lo"
            multicast_ttl = 4
            broadcast = true
            broadcast_address = "10.0.0.255"
            group_subscribe = ["/out/**"]
            max_datagram_bytes = 1200
            idle_timeout = 5
            """)
        var settings = try GatewaySettings().applying(configFile: good)
        settings.bind = "127.0.0.1"
        settings.websocket.outboundQueueFrames = 33
        let configuration = GatewayServer.udpConfiguration(settings)
        #expect(configuration.host == "127.0.0.1" && configuration.port == 7333)
        #expect(configuration.multicastGroup == "239.1.2.3" && configuration.multicastInterface == "lo")
        #expect(configuration.multicastTTL == 4 && configuration.broadcast && configuration.broadcastAddress == "10.0.0.255")
        #expect(configuration.groupSubscriptions == ["/out/**"])
        #expect(configuration.maxDatagramBytes == 1_200 && configuration.idleTimeout == 5)
        #expect(configuration.outboundQueueFrames == 33)
        for bad in [
            "multicast_group = \"10.0.0.1\"", "multicast_group = \"nope\"", "broadcast_address = \"x\"",
            "group_subscribe = [\"no-slash\"]", "max_datagram_bytes = 100", "multicast_ttl = 300", "broadcast = 1",
        ] {
            let file = directory + "/bad.toml"
            try writeFile(file, "[udp]\n\(bad)\n")
            #expect(throws: ConfigError.self, "\(bad)") { try GatewaySettings().applying(configFile: file) }
        }
    }

    @Test func noFlagsGiveTheEmbeddedDefaults() throws {
        #expect(try GatewayCommand.parse([]).resolveSettings() == GatewaySettings())
    }

    @Test func aBadConfigFileIsRefusedEvenWhenFlagsWouldOverrideIt() throws {
        let directory = try temporaryDirectory()
        let file = directory + "/bad.toml"
        try writeFile(file, "[server]\nport = \"x\"\n")
        let command = try GatewayCommand.parse(["--config", file, "--port", "1"])
        #expect(throws: ConfigError.self) { try command.resolveSettings() }
    }

    @Test(arguments: [
        ["--port", "65536"], ["--port", "-1"], ["--port", "x"], ["--bind", ""], ["--bind", "999.0.0.1"],
        ["--log-level", "loud"], ["--name", ""], ["--data-dir", ""], ["--unknown"], ["extra"],
        ["--tcp-port", "65536"], ["--tcp-port", "-1"], ["--no-tcp"], ["--wss-port", "70000"], ["--tcps-port", "-1"],
    ])
    func badFlagsAreRefused(arguments: [String]) {
        #expect(throws: (any Error).self) { try GatewayCommand.parse(arguments) }
    }

    @Test func logLevelNamesAreCaseInsensitiveOnTheCommandLine() throws {
        #expect(try GatewayCommand.parse(["--log-level", "DEBUG"]).resolveSettings().logLevel == .debug)
    }
}

@Suite struct DataDirectoryTests {
    @Test func aMissingDirectoryIsCreatedWithItsParents() throws {
        let base = try temporaryDirectory()
        let result = try DataDirectory.prepare(base + "/a/b/c")
        #expect(result.created)
        #expect(result.path == base + "/a/b/c")
        var info = stat()
        #expect(stat(base + "/a/b/c", &info) == 0)
        let again = try DataDirectory.prepare(base + "/a/b/c")
        #expect(!again.created)
    }

    @Test func aFileInTheWayIsRefused() throws {
        let base = try temporaryDirectory()
        try writeFile(base + "/file", "x")
        #expect(throws: DataDirectory.Failure.self) { try DataDirectory.prepare(base + "/file") }
        #expect(throws: DataDirectory.Failure.self) { try DataDirectory.prepare(base + "/file/sub") }
    }

    @Test func aReadOnlyDirectoryIsRefused() throws {
        // Root ignores permission bits, so use a read-only file system path when running as root.
        let path: String
        if geteuid() == 0 {
            path = "/proc/self"
        } else {
            path = try temporaryDirectory()
            chmod(path, 0o555)
        }
        do {
            _ = try DataDirectory.prepare(path)
            Issue.record("accepted \(path)")
        } catch {
            #expect(error.reason.hasPrefix("not writable"), "\(error)")
        }
    }
}

@Suite struct LogFormatTests {
    @Test func linesAreConcise() {
        let line = LineLogHandler.format(
            timestamp: "2026-01-01T00:00:00.000Z", level: .info, label: "clasp-gateway",
            message: "listening on ws://127.0.0.1:7330", metadata: ["version": "0.1.0", "name": "my gateway"])
        #expect(line == "2026-01-01T00:00:00.000Z info clasp-gateway: listening on ws://127.0.0.1:7330 name=\"my gateway\" version=0.1.0")
    }

    @Test func timestampsAreISO8601UTC() {
        let stamp = LineLogHandler.timestamp()
        #expect(stamp.count == 24)
        #expect(stamp.hasSuffix("Z"))
        #expect(Array(stamp)[10] == "T")
    }
}

@Suite struct WiringTests {
    @Test func websocketOverridesReachTheTransportAndOthersKeepItsDefaults() {
        var settings = GatewaySettings()
        settings.bind = "127.0.0.1"
        settings.port = 0
        settings.websocket.maxFrameBytes = 70_000
        let configuration = GatewayServer.websocketConfiguration(settings)
        let defaults = WebSocketServer.Configuration()
        #expect(configuration.listener.host == "127.0.0.1")
        #expect(configuration.listener.port == 0)
        #expect(configuration.maxFrameBytes == 70_000)
        #expect(configuration.handshakeTimeout == defaults.handshakeTimeout)
        #expect(configuration.listener.outboundQueueFrames == defaults.listener.outboundQueueFrames)
        #expect(configuration.listener.outboundQueueBytes == defaults.listener.outboundQueueBytes)
    }

    @Test func tcpSettingsReachTheTransportWithTheSharedQueueLimits() {
        var settings = GatewaySettings()
        settings.bind = "127.0.0.1"
        settings.tcp.port = 0
        settings.tcp.readTimeout = 2
        settings.websocket.outboundQueueFrames = 77
        let configuration = GatewayServer.tcpConfiguration(settings)
        let defaults = TCPServer.Configuration()
        #expect(configuration.listener.host == "127.0.0.1")
        #expect(configuration.listener.port == 0)
        #expect(configuration.readTimeout == 2)
        #expect(configuration.listener.outboundQueueFrames == 77)
        #expect(configuration.listener.outboundQueueBytes == defaults.listener.outboundQueueBytes)
        #expect(configuration.maxFrameBytes == defaults.maxFrameBytes)
    }

    @Test func endpointsBracketIPv6() {
        #expect(GatewayServer.endpoint("0.0.0.0", 7330) == "0.0.0.0:7330")
        #expect(GatewayServer.endpoint("::1", 7330) == "[::1]:7330")
    }
}

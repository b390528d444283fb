import Bridges
import CLASP
import Logging
import Router

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Everything the gateway runs with. The initial values are the embedded defaults; a config
/// file is applied on top of them, then command-line flags on top of that.
struct GatewaySettings: Sendable, Equatable {
    /// Address the WebSocket listener binds to.
    var bind: String = "0.0.0.0"
    /// WebSocket port; 0 lets the system pick a free one.
    var port: Int = 7330
    /// UDP discovery responder port (wire-format §4.18); 0 disables it.
    var discoveryPort: Int = 7331
    /// Where the gateway keeps its state (created if missing, must be writable).
    var dataDirectory: String = "./data"
    var logLevel: Logger.Level = .info
    /// Event-loop threads for the router and every listener; 0 = one per core.
    var threads: Int = 0
    /// Router core settings (server name, features, limits, ACK policy).
    var router = RouterConfiguration()
    /// WebSocket listener settings; `nil` keeps the transport's own default.
    var websocket = WebSocketSettings()
    /// TCP listener settings (length-prefixed frames, wire-format §1.5); binds to `bind` too.
    var tcp = TCPSettings()
    /// UDP transport settings (one frame per datagram); binds to `bind` too.
    var udp = UDPSettings()
    /// The TLS listeners (WSS and TCP+TLS) beside the plain ones; bind to `bind` too.
    var tls = TLSSettings()
    /// `[bridges.<id>]` tables, in file order.
    var bridges: [BridgeConfig] = []
    /// Admin page, REST API and metrics (HTTP); binds to `bind` too. 0 disables it.
    var adminPort: Int = 8080
}

/// The UDP transport. A field left `nil` keeps the transport's default.
struct UDPSettings: Sendable, Equatable {
    /// 0: no UDP transport.
    var port: Int = 7333
    var idleTimeout: Double?
    var maxDatagramBytes: Int?
    var multicastGroup: String?
    var multicastInterface: String?
    var multicastTTL: Int?
    var multicastLoop: Bool?
    var broadcast: Bool?
    var broadcastAddress: String?
    var groupSubscribe: [String]?
}

/// The TCP listener. A field left `nil` keeps the transport's default.
struct TCPSettings: Sendable, Equatable {
    /// 0: no TCP listener.
    var port: Int = 7332
    var readTimeout: Double?
}

/// The TLS listeners: WebSocket over TLS (WSS) and length-prefixed TCP over TLS, each the same
/// transport as its plain twin with a TLS handshake first.
struct TLSSettings: Sendable, Equatable {
    /// False: neither TLS listener (and no certificate is made or read).
    var enabled = true
    /// 0: no WSS listener.
    var websocketPort: Int = 7343
    /// 0: no TCP+TLS listener.
    var tcpPort: Int = 7344
    /// PEM files of the certificate (chain, leaf first) and its private key; both or neither.
    /// Neither: a self-signed certificate kept in `<data dir>/tls/`.
    var certificatePath: String?
    var privateKeyPath: String?
}

/// Overrides for the WebSocket listener. A field left `nil` keeps the transport's default.
struct WebSocketSettings: Sendable, Equatable {
    var handshakeTimeout: Double?
    var maxFrameBytes: Int?
    var outboundQueueFrames: Int?
    var outboundQueueBytes: Int?
}

/// A refused configuration: one message per problem, each naming the key and the reason.
struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    var messages: [String]

    init(_ messages: [String]) { self.messages = messages }
    init(_ message: String) { self.messages = [message] }

    var description: String {
        messages.map { "config error: " + $0 }.joined(separator: "\n")
    }
}

extension ClosedRange where Bound == Int {
    /// 1 … Int32.max: counts and sizes that must be positive.
    static var positive: ClosedRange<Int> { 1...Int(Int32.max) }
}

// MARK: - The schema: every key the file may contain

/// How one key is checked and applied.
struct ConfigKey: Sendable {
    var table: String
    var key: String
    /// What the key accepts, as said in errors and docs ("a positive integer").
    var expects: String
    /// The key's value in `settings` as written to an exported file; nil leaves it out.
    var read: @Sendable (GatewaySettings) -> TOMLValue?
    /// Checks the value and writes it into the settings; returns false to refuse it.
    var apply: @Sendable (inout GatewaySettings, TOMLValue) -> Bool

    init(
        table: String, key: String, expects: String,
        read: @escaping @Sendable (GatewaySettings) -> TOMLValue?,
        apply: @escaping @Sendable (inout GatewaySettings, TOMLValue) -> Bool
    ) {
        self.table = table
        self.key = key
        self.expects = expects
        self.read = read
        self.apply = apply
    }

    var path: String { table + "." + key }

    /// A key holding an integer within `range`.
    static func integer(
        _ table: String, _ key: String, in range: ClosedRange<Int>, expects: String,
        get: @escaping @Sendable (GatewaySettings) -> Int?,
        set: @escaping @Sendable (inout GatewaySettings, Int) -> Void
    ) -> ConfigKey {
        ConfigKey(table: table, key: key, expects: expects, read: { get($0).map { .integer(Int64($0)) } }) { settings, value in
            guard let number = value.int(in: range) else { return false }
            set(&settings, number)
            return true
        }
    }

    /// A key holding a file system path: a non-empty string without NUL.
    static func path(
        _ table: String, _ key: String, get: @escaping @Sendable (GatewaySettings) -> String?,
        set: @escaping @Sendable (inout GatewaySettings, String) -> Void
    ) -> ConfigKey {
        ConfigKey(table: table, key: key, expects: "a non-empty path", read: { get($0).map { .string($0) } }) { settings, value in
            guard case .string(let path) = value, !path.isEmpty, !path.unicodeScalars.contains(where: { $0.value == 0 }) else {
                return false
            }
            set(&settings, path)
            return true
        }
    }

    /// A key holding seconds as an integer or a float (see `TOMLValue.seconds`).
    static func seconds(
        _ table: String, _ key: String, allowZero: Bool, max: Double = 3_600, expects: String,
        get: @escaping @Sendable (GatewaySettings) -> Double?,
        set: @escaping @Sendable (inout GatewaySettings, Double) -> Void
    ) -> ConfigKey {
        ConfigKey(table: table, key: key, expects: expects, read: { get($0).map { .float($0) } }) { settings, value in
            guard let seconds = value.seconds(allowZero: allowZero, max: max) else { return false }
            set(&settings, seconds)
            return true
        }
    }
}

enum ConfigSchema {
    static let tables = ["server", "websocket", "tcp", "tls", "udp", "limits", "protocol", "storage", "gestures", "timelines", "discovery", "admin"]

    static let keys: [ConfigKey] = [
        // [server]
        ConfigKey(table: "server", key: "name", expects: "a non-empty string of at most 255 bytes", read: { .string($0.router.name) }) { settings, value in
            guard case .string(let name) = value, Validate.serverName(name) else { return false }
            settings.router.name = name
            return true
        },
        ConfigKey(table: "server", key: "bind", expects: "an IPv4 or IPv6 address or a host name", read: { .string($0.bind) }) { settings, value in
            guard case .string(let host) = value, Validate.bindHost(host) else { return false }
            settings.bind = host
            return true
        },
        .integer("server", "port", in: 0...65_535, expects: "an integer from 0 to 65535 (0 = any free port)", get: { $0.port }) { $0.port = $1 },
        .path("server", "data_dir", get: { _ in nil }) { $0.dataDirectory = $1 },
        ConfigKey(table: "server", key: "log_level", expects: "one of \(LogLevelName.allNames)", read: { settings in LogLevelName.all.first { $0.1 == settings.logLevel }.map { .string($0.0) } }) { settings, value in
            guard case .string(let name) = value, let level = LogLevelName.level(named: name) else { return false }
            settings.logLevel = level
            return true
        },
        .integer("server", "threads", in: 0...256, expects: "an integer from 0 to 256 (0 = one per core)", get: { $0.threads }) { $0.threads = $1 },
        // [websocket]
        .seconds("websocket", "handshake_timeout", allowZero: false, expects: "a number of seconds greater than 0 and at most 3600", get: { $0.websocket.handshakeTimeout }) { $0.websocket.handshakeTimeout = $1 },
        .integer("websocket", "max_frame_bytes", in: 1_024...16_777_216, expects: "an integer from 1024 to 16777216", get: { $0.websocket.maxFrameBytes }) { $0.websocket.maxFrameBytes = $1 },
        .integer("websocket", "outbound_queue_frames", in: .positive, expects: "a positive integer", get: { $0.websocket.outboundQueueFrames }) { $0.websocket.outboundQueueFrames = $1 },
        .integer("websocket", "outbound_queue_bytes", in: .positive, expects: "a positive integer", get: { $0.websocket.outboundQueueBytes }) { $0.websocket.outboundQueueBytes = $1 },
        // [tcp]
        .integer("tcp", "port", in: 0...65_535, expects: "an integer from 0 to 65535 (0 = no TCP listener)", get: { $0.tcp.port }) { $0.tcp.port = $1 },
        .seconds("tcp", "read_timeout", allowZero: false, expects: "a number of seconds greater than 0 and at most 3600", get: { $0.tcp.readTimeout }) { $0.tcp.readTimeout = $1 },
        // [tls]
        ConfigKey(table: "tls", key: "enabled", expects: "true or false", read: { .boolean($0.tls.enabled) }) { settings, value in
            guard case .boolean(let enabled) = value else { return false }
            settings.tls.enabled = enabled
            return true
        },
        .integer("tls", "websocket_port", in: 0...65_535, expects: "an integer from 0 to 65535 (0 = no WSS listener)", get: { $0.tls.websocketPort }) { $0.tls.websocketPort = $1 },
        .integer("tls", "tcp_port", in: 0...65_535, expects: "an integer from 0 to 65535 (0 = no TCP+TLS listener)", get: { $0.tls.tcpPort }) { $0.tls.tcpPort = $1 },
        .path("tls", "certificate", get: { $0.tls.certificatePath }) { $0.tls.certificatePath = $1 },
        .path("tls", "private_key", get: { $0.tls.privateKeyPath }) { $0.tls.privateKeyPath = $1 },
        // [udp]
        .integer("udp", "port", in: 0...65_535, expects: "an integer from 0 to 65535 (0 = no UDP transport)", get: { $0.udp.port }) { $0.udp.port = $1 },
        .seconds("udp", "idle_timeout", allowZero: false, max: 86_400, expects: "a number of seconds greater than 0 and at most 86400", get: { $0.udp.idleTimeout }) { $0.udp.idleTimeout = $1 },
        .integer("udp", "max_datagram_bytes", in: 512...65_507, expects: "an integer from 512 to 65507", get: { $0.udp.maxDatagramBytes }) { $0.udp.maxDatagramBytes = $1 },
        ConfigKey(table: "udp", key: "multicast_group", expects: "an IPv4 multicast address (224.0.0.0 to 239.255.255.255)", read: { $0.udp.multicastGroup.map { .string($0) } }) { settings, value in
            guard case .string(let group) = value, Validate.ipv4Multicast(group) else { return false }
            settings.udp.multicastGroup = group
            return true
        },
        ConfigKey(table: "udp", key: "multicast_interface", expects: "an interface name or IPv4 address", read: { $0.udp.multicastInterface.map { .string($0) } }) { settings, value in
            guard case .string(let interface) = value, !interface.isEmpty, interface.utf8.count <= 64 else { return false }
            settings.udp.multicastInterface = interface
            return true
        },
        .integer("udp", "multicast_ttl", in: 0...255, expects: "an integer from 0 to 255", get: { $0.udp.multicastTTL }) { $0.udp.multicastTTL = $1 },
        ConfigKey(table: "udp", key: "multicast_loop", expects: "true or false", read: { $0.udp.multicastLoop.map { .boolean($0) } }) { settings, value in
            guard case .boolean(let loop) = value else { return false }
            settings.udp.multicastLoop = loop
            return true
        },
        ConfigKey(table: "udp", key: "broadcast", expects: "true or false", read: { $0.udp.broadcast.map { .boolean($0) } }) { settings, value in
            guard case .boolean(let broadcast) = value else { return false }
            settings.udp.broadcast = broadcast
            return true
        },
        ConfigKey(table: "udp", key: "broadcast_address", expects: "an IPv4 address", read: { $0.udp.broadcastAddress.map { .string($0) } }) { settings, value in
            guard case .string(let address) = value, Validate.ipv4(address) else { return false }
            settings.udp.broadcastAddress = address
            return true
        },
        ConfigKey(table: "udp", key: "group_subscribe", expects: "an array of address patterns", read: { $0.udp.groupSubscribe.map { .array($0.map { .string($0) }) } }) { settings, value in
            guard case .array(let items) = value else { return false }
            var patterns: [String] = []
            for item in items {
                guard case .string(let pattern) = item, (try? AddressPattern(pattern)) != nil else { return false }
                patterns.append(pattern)
            }
            settings.udp.groupSubscribe = patterns
            return true
        },
        // [limits]
        .integer("limits", "max_sessions", in: .positive, expects: "a positive integer", get: { $0.router.maxSessions }) { $0.router.maxSessions = $1 },
        .seconds("limits", "handshake_timeout", allowZero: false, expects: "a number of seconds greater than 0 and at most 3600", get: { $0.router.handshakeTimeout }) { $0.router.handshakeTimeout = $1 },
        .seconds("limits", "idle_timeout", allowZero: true, max: 86_400, expects: "a number of seconds from 0 to 86400 (0 = never)", get: { $0.router.idleTimeout }) { $0.router.idleTimeout = $1 },
        .integer("limits", "max_subscriptions_per_session", in: .positive, expects: "a positive integer", get: { $0.router.maxSubscriptionsPerSession }) { $0.router.maxSubscriptionsPerSession = $1 },
        .integer("limits", "max_bad_frames_per_second", in: .positive, expects: "a positive integer", get: { $0.router.maxBadFramesPerSecond }) { $0.router.maxBadFramesPerSecond = $1 },
        .integer("limits", "max_address_length", in: 1...65_535, expects: "an integer from 1 to 65535", get: { $0.router.maxAddressLength }) { $0.router.maxAddressLength = $1 },
        .integer("limits", "max_params", in: .positive, expects: "a positive integer", get: { $0.router.maxParams }) { $0.router.maxParams = $1 },
        .integer("limits", "snapshot_chunk_bytes", in: 1_024...65_535, expects: "an integer from 1024 to 65535", get: { $0.router.snapshotChunkBytes }) { $0.router.snapshotChunkBytes = $1 },
        .integer("limits", "max_scheduled_bundles_per_session", in: .positive, expects: "a positive integer", get: { $0.router.maxScheduledBundlesPerSession }) { $0.router.maxScheduledBundlesPerSession = $1 },
        .seconds("limits", "max_bundle_horizon", allowZero: false, max: 604_800, expects: "a number of seconds greater than 0 and at most 604800 (7 days)", get: { $0.router.maxBundleHorizon }) { $0.router.maxBundleHorizon = $1 },
        // [gestures]
        .seconds("gestures", "move_interval", allowZero: true, max: 1, expects: "a number of seconds from 0 to 1 (0 = forward every move)", get: { $0.router.gestureMoveInterval }) { $0.router.gestureMoveInterval = $1 },
        .seconds("gestures", "timeout", allowZero: false, max: 3_600, expects: "a number of seconds greater than 0 and at most 3600", get: { $0.router.gestureTimeout }) { $0.router.gestureTimeout = $1 },
        // [discovery]
        .integer("discovery", "port", in: 0...65_535, expects: "an integer from 0 to 65535 (0 = no discovery responder)", get: { $0.discoveryPort }) { $0.discoveryPort = $1 },
        // [admin]
        .integer("admin", "port", in: 0...65_535, expects: "an integer from 0 to 65535 (0 = no admin page)", get: { $0.adminPort }) { $0.adminPort = $1 },
        // [timelines]
        ConfigKey(table: "timelines", key: "tick_rate", expects: "a number of Hz from 1 to 1000", read: { .float($0.router.timelineTickRate) }) { settings, value in
            let rate: Double
            switch value {
            case .integer(let number): rate = Double(number)
            case .float(let number): rate = number
            default: return false
            }
            guard rate.isFinite, rate >= 1, rate <= 1_000 else { return false }
            settings.router.timelineTickRate = rate
            return true
        },
        // [storage]
        .seconds("storage", "flush_interval", allowZero: false, max: 10, expects: "a number of seconds greater than 0 and at most 10", get: { $0.router.storeFlushInterval }) { $0.router.storeFlushInterval = $1 },
        // [protocol]
        ConfigKey(table: "protocol", key: "ack_only_when_asked", expects: "true or false", read: { .boolean($0.router.ackOnlyWhenAsked) }) { settings, value in
            guard case .boolean(let flag) = value else { return false }
            settings.router.ackOnlyWhenAsked = flag
            return true
        },
        ConfigKey(
            table: "protocol", key: "features",
            expects: "an array of distinct names from \"param\", \"event\", \"stream\", \"gesture\", \"timeline\""
        ,
            read: { settings in .array(FeatureName.all.filter { settings.router.features.contains($0.1) }.map { .string($0.0) }) }
        ) { settings, value in
            guard case .array(let items) = value else { return false }
            var features: Features = []
            for item in items {
                guard case .string(let name) = item, let feature = FeatureName.feature(named: name),
                    !features.contains(feature)
                else { return false }
                features.insert(feature)
            }
            settings.router.features = features
            return true
        },
    ]

    static func key(_ path: String) -> ConfigKey? { keys.first { $0.path == path } }
    static func keys(in table: String) -> [ConfigKey] { keys.filter { $0.table == table } }
}

// MARK: - Loading

extension GatewaySettings {
    /// Applies a config file's text on top of `self`. All problems are collected and refused
    /// together; on any problem nothing is applied. A `complete` file (the one the admin page
    /// saves) also replaces the param rules and bridges when it has none.
    func applying(
        configText text: String, source: String, bridgeCatalog: BridgeCatalog = .standard, complete: Bool = false
    ) throws(ConfigError) -> GatewaySettings {
        let document: TOMLDocument
        do {
            document = try TOMLSubsetParser.parse(text)
        } catch {
            throw ConfigError("\(source) line \(error.line): \(error.reason)")
        }
        var result = self
        var problems: [(line: Int, message: String)] = []
        for table in document.tables
        where !ConfigSchema.tables.contains(table.name) && !ParamRuleSchema.isRuleTable(table.name)
            && !BridgeSettingsSchema.isBridgeTable(table.name)
        {
            // One message for the table rather than one per key inside it.
            let hint = Suggest.hint(for: table.name, among: ConfigSchema.tables, wrap: { "[\($0)]" })
            problems.append((table.line, "unknown table [\(table.name)]\(hint) (\(source) line \(table.line))"))
        }
        let unknownTables = Set(document.tables.map(\.name)).subtracting(ConfigSchema.tables)
        for entry in document.entries {
            let location = "(\(source) line \(entry.line))"
            if unknownTables.contains(entry.table) { continue }  // unknown, rule and bridge tables
            guard let spec = ConfigSchema.key(entry.path) else {
                problems.append((entry.line, "unknown key \(entry.path)\(Suggest.hintForKey(entry)) \(location)"))
                continue
            }
            if !spec.apply(&result, entry.value) {
                problems.append((entry.line, "\(entry.path): must be \(spec.expects), got \(entry.value.tomlText) \(location)"))
            }
        }
        let rules = ParamRuleSchema.rules(
            from: document, maxAddressLength: result.router.maxAddressLength, source: source, problems: &problems)
        if complete || document.tables.contains(where: { ParamRuleSchema.isRuleTable($0.name) }) {
            result.router.paramRules = rules
        }
        let bridges = BridgeSettingsSchema.bridges(
            from: document, catalog: bridgeCatalog, source: source, problems: &problems)
        if complete || document.tables.contains(where: { BridgeSettingsSchema.isBridgeTable($0.name) }) {
            result.bridges = bridges
        }
        if (result.tls.certificatePath == nil) != (result.tls.privateKeyPath == nil),
            let entry = document.entries.first(where: { $0.path == "tls.certificate" || $0.path == "tls.private_key" })
        {
            problems.append((entry.line, "tls.certificate and tls.private_key go together: set both or neither (\(source) line \(entry.line))"))
        }
        problems.sort { $0.line < $1.line }
        if !problems.isEmpty { throw ConfigError(problems.map(\.message)) }
        return result
    }

    /// Reads and applies a config file.
    func applying(configFile path: String, complete: Bool = false) throws(ConfigError) -> GatewaySettings {
        let text: String
        switch FileText.read(path) {
        case .success(let contents): text = contents
        case .failure(let reason): throw ConfigError("cannot read \(path): \(reason)")
        }
        return try applying(configText: text, source: path, complete: complete)
    }
}

// MARK: - Value checks shared by the file and the flags

extension TOMLValue {
    func int(in range: ClosedRange<Int>) -> Int? {
        guard case .integer(let number) = self, let value = Int(exactly: number), range.contains(value) else { return nil }
        return value
    }

    /// Seconds as an integer or a float; finite, > 0 (or ≥ 0 when allowed), ≤ max.
    func seconds(allowZero: Bool, max: Double = 3_600) -> Double? {
        let value: Double
        switch self {
        case .integer(let number): value = Double(number)
        case .float(let number): value = number
        default: return nil
        }
        guard value.isFinite, value <= max, allowZero ? value >= 0 : value > 0 else { return nil }
        return value
    }
}

enum Validate {
    static func serverName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 255 && !name.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }

    /// An IPv4/IPv6 literal or a DNS host name (letters, digits, '-' and '.').
    static func bindHost(_ host: String) -> Bool {
        guard !host.isEmpty, host.utf8.count <= 253 else { return false }
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1 { return true }
        // Dotted digits that are not a valid IPv4 address (e.g. 300.1.1.1) are refused.
        if host.allSatisfy({ $0 == "." || ($0.isASCII && $0.isNumber) }) { return false }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }

    static func ipv4(_ text: String) -> Bool {
        var address = in_addr()
        return inet_pton(AF_INET, text, &address) == 1
    }

    /// An IPv4 address in 224.0.0.0/4.
    static func ipv4Multicast(_ text: String) -> Bool {
        var address = in_addr()
        guard inet_pton(AF_INET, text, &address) == 1 else { return false }
        return UInt32(bigEndian: address.s_addr) >> 28 == 0xE
    }
}

/// Log levels by name, as used by `--log-level` and `server.log_level`.
enum LogLevelName {
    static let all: [(String, Logger.Level)] = [
        ("trace", .trace), ("debug", .debug), ("info", .info), ("notice", .notice),
        ("warning", .warning), ("error", .error), ("critical", .critical),
    ]
    static var allNames: String { all.map(\.0).joined(separator: ", ") }

    static func level(named name: String) -> Logger.Level? {
        all.first { $0.0 == name }?.1
    }
}

enum FeatureName {
    static let all: [(String, Features)] = [
        ("param", .param), ("event", .event), ("stream", .stream), ("gesture", .gesture), ("timeline", .timeline),
    ]

    static func feature(named name: String) -> Features? {
        all.first { $0.0 == name }?.1
    }
}

// MARK: - "did you mean"

enum Suggest {
    /// The closest candidate within a small edit distance, if any.
    static func closest(to word: String, among candidates: [String]) -> String? {
        let limit = max(1, min(3, word.count / 3 + 1))
        var best: (String, Int)?
        for candidate in candidates {
            let distance = editDistance(word, candidate)
            let prefix = candidate.hasPrefix(word) || word.hasPrefix(candidate)
            let score = prefix && min(word.count, candidate.count) >= 3 ? min(distance, 1) : distance
            if score <= limit, score < (best?.1 ?? Int.max) { best = (candidate, score) }
        }
        return best?.0
    }

    static func hint(for word: String, among candidates: [String], wrap: (String) -> String = { $0 }) -> String {
        guard let match = closest(to: word, among: candidates) else { return "" }
        return " (did you mean \(wrap(match))?)"
    }

    /// For a key: first look in its own table; at the top level, or if nothing is close there,
    /// look for the same name in another table.
    static func hintForKey(_ entry: TOMLEntry) -> String {
        let sameTable = ConfigSchema.keys(in: entry.table).map(\.key)
        if let match = closest(to: entry.key, among: sameTable) { return " (did you mean \(match)?)" }
        if let elsewhere = ConfigSchema.keys.first(where: { $0.key == entry.key }) {
            return " (did you mean \(elsewhere.path)?)"
        }
        if entry.table.isEmpty, let match = closest(to: entry.key, among: ConfigSchema.keys.map(\.key)),
            let spec = ConfigSchema.keys.first(where: { $0.key == match })
        {
            return " (did you mean \(spec.path)?)"
        }
        return ""
    }

    static func editDistance(_ lhs: String, _ rhs: String) -> Int {
        let a = Array(lhs.unicodeScalars)
        let b = Array(rhs.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

// MARK: - Reading a file without Foundation

enum FileText {
    enum Failure: Error, CustomStringConvertible {
        case system(String)
        case notUTF8
        case tooLarge
        case notAFile

        var description: String {
            switch self {
            case .system(let reason): reason
            case .notUTF8: "the file is not valid UTF-8"
            case .tooLarge: "the file is larger than 1 MiB"
            case .notAFile: "not a regular file"
            }
        }
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    static func read(_ path: String) -> Result<String, Failure> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(.system(SystemError.text(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .failure(.system(SystemError.text(errno))) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return .failure(.notAFile) }
        let limit = 1 << 20
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = chunk.withUnsafeMutableBytes { buffer in systemRead(fd, buffer.baseAddress, buffer.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(.system(SystemError.text(errno)))
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > limit { return .failure(.tooLarge) }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { return .failure(.notUTF8) }
        return .success(text)
    }
}

enum SystemError {
    static func text(_ code: Int32) -> String {
        guard let message = strerror(code) else { return "errno \(code)" }
        return String(cString: message)
    }
}

/// `read(2)`, named so it does not clash with `FileText.read`.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}

extension BridgeKind {
    /// `kind = "sacn"`: sACN (E1.31) universes in and out.
    public static let sacn = BridgeKind(
        name: "sacn",
        summary: "sACN (E1.31) universes in and out, multicast and unicast, with merge and fail-safe",
        fields: NetworkBridgeFields.fields(defaultPort: SACN.port, universes: 1...63999, keepAlive: 1.0) + [
            BridgeField("priority", .integer(0...200), default: .integer(100), help: "priority of the universes sent"),
            BridgeField("source_name", .string, default: .string("clasp-gateway"), help: "source name in packets sent (up to 63 bytes)"),
            BridgeField("multicast", .bool, default: .bool(true),
                        help: "send to and join 239.255.{hi}.{lo} for each universe (and the discovery universe)"),
            BridgeField("interface", .string, default: .string(""),
                        help: "IPv4 address of the interface for multicast; empty: the kernel's route"),
            BridgeField("sync_universe", .integer(0...63999), default: .integer(0),
                        help: "send a universe sync packet on this universe after each round of output (0: off)"),
            BridgeField("discovery", .bool, default: .bool(true), help: "announce the output universes every 10 s"),
        ],
        make: { options throws(BridgeConfigProblem) in
            try NetworkBridgeFields.checkIPv4(options.string("bind"), field: "bind")
            if !options.string("interface").isEmpty {
                try NetworkBridgeFields.checkIPv4(options.string("interface"), field: "interface")
            }
            let settings = SACNBridge.Settings(
                bind: options.string("bind"), port: options.integer("port"),
                destinations: try NetworkBridgeFields.destinations(from: options),
                multicast: options.bool("multicast"),
                interface: options.string("interface").isEmpty ? nil : options.string("interface"),
                priority: UInt8(options.integer("priority")), sourceName: options.string("source_name"),
                syncUniverse: UInt16(options.integer("sync_universe")), discovery: options.bool("discovery"))
            return SACNBridge(settings: settings, exchange: try NetworkBridgeFields.exchange(from: options))
        })
}

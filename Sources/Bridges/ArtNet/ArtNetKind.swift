import NIOCore

extension BridgeKind {
    /// `kind = "artnet"`: Art-Net 4 universes in and out.
    public static let artnet = BridgeKind(
        name: "artnet",
        summary: "Art-Net 4 universes in and out (ArtDmx, ArtPoll/ArtPollReply, ArtSync), with merge and fail-safe",
        fields: NetworkBridgeFields.fields(defaultPort: ArtNet.port, universes: 0...32767, keepAlive: 1.0) + [
            BridgeField("broadcast", .string, default: .string(""),
                        help: "IPv4 broadcast address ArtPoll goes to (e.g. \"2.255.255.255\"); empty: polls go to the destinations only"),
            BridgeField("broadcast_dmx", .bool, default: .bool(false),
                        help: "also broadcast ArtDmx, for nodes that never answer ArtPoll (needs broadcast)"),
            BridgeField("poll", .bool, default: .bool(true),
                        help: "send ArtPoll every 3 s and unicast output to the nodes whose replies list the universe"),
            BridgeField("sync", .bool, default: .bool(false), help: "send ArtSync after each round of output"),
            BridgeField("short_name", .string, default: .string("clasp-gateway"), help: "node short name in ArtPollReply (up to 17 bytes)"),
            BridgeField("long_name", .string, default: .string("CLASP gateway Art-Net bridge"),
                        help: "node long name in ArtPollReply (up to 63 bytes)"),
            BridgeField("source_timeout", .number(1...60), default: .number(10),
                        help: "seconds of silence after which an Art-Net source is dropped from the merge"),
        ],
        make: { options throws(BridgeConfigProblem) in
            try NetworkBridgeFields.checkIPv4(options.string("bind"), field: "bind")
            var broadcast: SocketAddress?
            if !options.string("broadcast").isEmpty {
                try NetworkBridgeFields.checkIPv4(options.string("broadcast"), field: "broadcast")
                broadcast = try? SocketAddress(ipAddress: options.string("broadcast"), port: options.integer("port"))
            }
            if options.bool("broadcast_dmx"), broadcast == nil {
                throw BridgeConfigProblem(field: "broadcast_dmx", reason: "needs a broadcast address")
            }
            let settings = ArtNetBridge.Settings(
                bind: options.string("bind"), port: options.integer("port"),
                destinations: try NetworkBridgeFields.destinations(from: options), broadcast: broadcast,
                broadcastDMX: options.bool("broadcast_dmx"), poll: options.bool("poll"), sync: options.bool("sync"), shortName: options.string("short_name"),
                longName: options.string("long_name"),
                sourceTimeout: .nanoseconds(Int64(options.number("source_timeout") * 1e9)))
            return ArtNetBridge(settings: settings, exchange: try NetworkBridgeFields.exchange(from: options))
        })
}

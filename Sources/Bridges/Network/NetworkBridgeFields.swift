import NIOCore

/// Options every network DMX bridge (sACN, Art-Net) takes, and what they become.
enum NetworkBridgeFields {
    static func fields(defaultPort: Int, universes: ClosedRange<Int64>, keepAlive: Double) -> [BridgeField] {
        [
            BridgeField("output_universes", .integerList(universes), default: .list([]),
                        help: "universes sent to the network from /dmx/{universe}/{channel} and /dmx/{universe}"),
            BridgeField("input_universes", .integerList(universes), default: .list([]),
                        help: "universes received from the network and set as /dmx/{universe}/{channel}"),
            BridgeField("bind", .string, default: .string("0.0.0.0"), help: "local IPv4 address to listen and send on"),
            BridgeField("port", .integer(1...65535), default: .integer(Int64(defaultPort)),
                        help: "UDP port to listen on, and the port of destinations that name none"),
            BridgeField("destinations", .stringList, default: .list([]),
                        help: "unicast destinations for output, \"host\" or \"host:port\""),
            BridgeField("merge", .choice(MergeMode.allCases.map(\.rawValue)), default: .string("htp"),
                        help: "how sources of equal priority combine: htp (highest level per channel) or ltp (latest change wins)"),
            BridgeField("fail_safe", .choice(DMXFailSafe.names), default: .string("hold"),
                        help: "what an input universe shows once its last source is gone"),
            BridgeField("fail_safe_scene", .integerList(0...255), default: .list([]),
                        help: "levels from channel 1 on, for fail_safe = \"scene\""),
            BridgeField("rate", .number(1...44), default: .number(44),
                        help: "frames per second per universe: the most on change, every frame in steady mode"),
            BridgeField("steady", .bool, default: .bool(false), help: "send every output universe at `rate`, changed or not"),
            BridgeField("keep_alive", .number(0.1...2.0), default: .number(keepAlive),
                        help: "seconds after which an unchanged output universe is sent again"),
            BridgeField("whole_frame", .bool, default: .bool(false),
                        help: "input universes also set /dmx/{universe} as 512 bytes when they change"),
        ]
    }

    /// The exchange, destinations and socket settings from validated options, or the problem.
    static func exchange(from options: BridgeOptions) throws(BridgeConfigProblem) -> UniverseExchange {
        let outputs = options.integers("output_universes")
        let inputs = options.integers("input_universes")
        guard !outputs.isEmpty || !inputs.isEmpty else {
            throw BridgeConfigProblem(field: "", reason: "needs output_universes or input_universes")
        }
        if let both = outputs.first(where: inputs.contains) {
            throw BridgeConfigProblem(field: "input_universes", reason: "universe \(both) is also an output universe")
        }
        let failSafe: DMXFailSafe
        do throws(DMXMappingError) {
            failSafe = try DMXFailSafe.parse(policy: options.string("fail_safe"), scene: options.integers("fail_safe_scene"))
        } catch {
            throw BridgeConfigProblem(field: "fail_safe", reason: error.description)
        }
        func mappings(_ universes: [Int], field: String) throws(BridgeConfigProblem) -> [DMXUniverseMapping] {
            var mappings: [DMXUniverseMapping] = []
            for universe in Set(universes).sorted() {
                do throws(DMXMappingError) {
                    mappings.append(try DMXUniverseMapping(universe: universe))
                } catch {
                    throw BridgeConfigProblem(field: field, reason: error.description)
                }
            }
            return mappings
        }
        let rate = options.number("rate")
        return UniverseExchange(
            outputs: try mappings(outputs, field: "output_universes"), inputs: try mappings(inputs, field: "input_universes"),
            merge: MergeMode(rawValue: options.string("merge")) ?? .htp, failSafe: failSafe,
            wholeFrame: options.bool("whole_frame"),
            pacing: .init(
                interval: .nanoseconds(Int64(1e9 / rate)), keepAlive: .nanoseconds(Int64(options.number("keep_alive") * 1e9)),
                steady: options.bool("steady")))
    }

    static func destinations(from options: BridgeOptions) throws(BridgeConfigProblem) -> [SocketAddress] {
        var addresses: [SocketAddress] = []
        for text in options.strings("destinations") {
            do {
                addresses.append(try socketAddress(text, defaultPort: options.integer("port")))
            } catch {
                throw BridgeConfigProblem(field: "destinations", reason: "\(error)")
            }
        }
        return addresses
    }

    static func checkIPv4(_ text: String, field: String) throws(BridgeConfigProblem) {
        guard case .v4? = try? SocketAddress(ipAddress: text, port: 0) else {
            throw BridgeConfigProblem(field: field, reason: "must be an IPv4 address, got \"\(text)\"")
        }
    }
}

import Bridges
import CLASP
import Testing

@testable import Gateway

/// A bridge kind that exists only for these tests.
private final class IdleBridge: Bridge {
    func start(link: any RouterLink) async throws {}
    func receive(_ message: Message) {}
    func stop() async {}
    var status: BridgeStatus { BridgeStatus() }
}

private let catalog = BridgeCatalog([
    BridgeKind(
        name: "idle", summary: "does nothing",
        fields: [
            BridgeField("universe", .integer(1...63_999), help: "the universe"),
            BridgeField("rate", .number(1...44), default: .number(44), help: "frames per second"),
        ],
        make: { _ in IdleBridge() })
])

@Suite struct BridgeSettingsTests {
    private func apply(_ text: String) -> Result<GatewaySettings, ConfigError> {
        Result { () throws(ConfigError) in
            try GatewaySettings().applying(configText: text, source: "test.toml", bridgeCatalog: catalog)
        }
    }

    @Test func bridgeTablesBecomeConfigsInFileOrder() throws {
        let settings = try apply("""
            [bridges.stage]
            kind = "idle"
            universe = 2

            [bridges.spare]
            kind = "idle"
            enabled = false
            universe = 3
            rate = 30
            """).get()
        #expect(settings.bridges == [
            BridgeConfig(id: "stage", kind: "idle", options: ["universe": .integer(2)]),
            BridgeConfig(id: "spare", kind: "idle", enabled: false, options: ["universe": .integer(3), "rate": .integer(30)]),
        ])
    }

    @Test func noBridgeTablesLeaveNoBridges() throws {
        #expect(try apply("[server]\nname = \"a\"").get().bridges.isEmpty)
    }

    @Test func badBridgesAreRefusedWithTheKeyTheReasonAndTheLine() {
        guard case .failure(let error) = apply("""
            [bridges.a]
            universe = 1

            [bridges.b]
            kind = "dmx"

            [bridges.c]
            kind = "idle"
            universe = 0
            colour = "red"

            [bridges.d]
            kind = "idle"
            universe = 1
            enabled = "yes"

            [bridges."e f"]
            kind = "idle"
            universe = 1
            """) else {
            Issue.record("bad bridges were accepted")
            return
        }
        #expect(error.messages == [
            "[bridges.a]: kind is required (this build has \"idle\") (test.toml line 1)",
            "bridges.b.kind: unknown bridge kind \"dmx\"; this build has \"idle\" (test.toml line 5)",
            "bridges.c.universe: must be from 1 to 63999, got 0 (test.toml line 9)",
            "bridges.c.colour: unknown option for bridge kind idle; it takes universe, rate (test.toml line 10)",
            "bridges.d.enabled: must be true or false, got \"yes\" (test.toml line 15)",
            "[bridges.e f]: bridge id \"e f\" must be 1–64 letters, digits, '-' or '_' (test.toml line 17)",
        ])
    }
}

@Suite struct ExampleBridgeTablesTests {
    /// The example config shows its bridge tables commented out; uncommented, they must load.
    @Test func theExamplesCommentedBridgeTablesAreValidForThisBuild() throws {
        let text = try FileText.read(exampleConfigPath()).get()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let first = try #require(lines.firstIndex { $0.hasPrefix("# [bridges.") })
        var uncommented: [String] = []
        for line in lines[first...] {
            uncommented.append(line.hasPrefix("# ") ? String(line.dropFirst(2)) : String(line.drop { $0 == "#" }))
        }
        let settings = try GatewaySettings().applying(
            configText: uncommented.joined(separator: "\n"), source: "example", bridgeCatalog: .standard)
        #expect(settings.bridges.map { $0.kind } == ["dmx", "sacn", "artnet"])
        #expect(settings.bridges.allSatisfy { $0.enabled })
    }
}

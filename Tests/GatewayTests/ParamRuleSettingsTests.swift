import CLASP
import Router
import Testing

@testable import Gateway

@Suite struct ParamRuleSettingsTests {
    private func apply(_ text: String) -> Result<GatewaySettings, ConfigError> {
        Result { () throws(ConfigError) in try GatewaySettings().applying(configText: text, source: "test.toml") }
    }

    @Test func rulesAreReadInFileOrder() throws {
        let settings = try apply("""
            [params."/mixer/*/fader"]
            strategy = "max"
            type = "number"
            min = 0
            max = 1.5

            [params.'/stage/**']
            strategy = "lock"
            type = ["int", "string"]

            [storage]
            flush_interval = 0.05
            """).get()
        let rules = settings.router.paramRules
        #expect(rules.map(\.pattern.description) == ["/mixer/*/fader", "/stage/**"])
        #expect(rules.map(\.strategy) == [.max, .lock])
        #expect(rules.first?.constraint == ValueConstraint(kinds: [.number], minimum: 0, maximum: 1.5))
        #expect(rules.last?.constraint.kinds == [.int, .string])
        #expect(settings.router.storeFlushInterval == 0.05)
    }

    @Test func badRulesAreRefusedWithTheKeyAndTheReason() {
        guard case .failure(let error) = apply("""
            [params."/a/**"]
            strategy = "newest"
            type = "decimal"
            min = "low"
            colour = 1

            [params."no-slash"]
            strategy = "lww"

            [params."/b"]
            min = 2
            max = 1
            """) else {
            Issue.record("accepted")
            return
        }
        #expect(error.messages == [
            "params.\"/a/**\".strategy: must be one of \"lww\", \"max\", \"min\", \"lock\", got \"newest\" (test.toml line 2)",
            "params.\"/a/**\".type: must be a type name or an array of them (null, bool, int, float, number, string, bytes, array, map), got \"decimal\" (test.toml line 3)",
            "params.\"/a/**\".min: must be a finite number, got \"low\" (test.toml line 4)",
            "params.\"/a/**\".colour: unknown key; a [params.\"…\"] table takes strategy, type, min, max (test.toml line 5)",
            "[params.\"no-slash\"]: invalid address pattern: \(patternError("no-slash")) (test.toml line 7)",
            "[params.\"/b\"]: min (2.0) is above max (1.0) (test.toml line 10)",
        ])
    }

    private func patternError(_ text: String) -> String {
        do {
            _ = try AddressPattern(text)
            return "(parsed)"
        } catch {
            return "\(error)"
        }
    }
}

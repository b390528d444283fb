@testable import Bridges
import CLASP
import Testing

@Suite("Network DMX input: merge, sequence, timeout, fail-safe")
struct NetworkMergeTests {
    let start = ContinuousClock.now

    func frame(_ levels: [UInt8]) -> DMXFrame { DMXFrame(levels) }

    @Test func theHighestPriorityWinsWhateverTheLevels() {
        var merge = SourceMerge(mode: .htp)
        _ = merge.take(frame([255, 255]), priority: 100, sequence: 1, from: "a", at: start)
        _ = merge.take(frame([10]), priority: 150, sequence: 1, from: "b", at: start)
        #expect(merge.merged?[1] == 10 && merge.merged?[2] == 0)
    }

    @Test func htpTakesTheHighestLevelPerChannelAmongEqualPriorities() {
        var merge = SourceMerge(mode: .htp)
        _ = merge.take(frame([200, 10]), priority: 100, sequence: nil, from: "a", at: start)
        _ = merge.take(frame([50, 90]), priority: 100, sequence: nil, from: "b", at: start)
        #expect(Array(merge.merged?.slots.prefix(3) ?? []) == [200, 90, 0])
    }

    @Test func ltpTakesTheSourceThatChangedLast() {
        var merge = SourceMerge(mode: .ltp)
        _ = merge.take(frame([200]), priority: 100, sequence: nil, from: "a", at: start)
        _ = merge.take(frame([50]), priority: 100, sequence: nil, from: "b", at: start + .seconds(1))
        #expect(merge.merged?[1] == 50)
        // "a" repeating the same levels is not a change; "a" changing is.
        _ = merge.take(frame([200]), priority: 100, sequence: nil, from: "a", at: start + .seconds(2))
        #expect(merge.merged?[1] == 50)
        _ = merge.take(frame([201]), priority: 100, sequence: nil, from: "a", at: start + .seconds(3))
        #expect(merge.merged?[1] == 201)
    }

    @Test func ltpIsPerChannelEachFollowingTheSourceThatLastMovedIt() {
        var merge = SourceMerge(mode: .ltp)
        _ = merge.take(frame([10, 20, 30]), priority: 100, sequence: nil, from: "desk", at: start)
        _ = merge.take(frame([0, 0, 0]), priority: 100, sequence: nil, from: "app", at: start + .seconds(1))
        #expect(Array(merge.merged?.slots.prefix(3) ?? []) == [0, 0, 0])
        // The desk moves channel 1 only: channel 1 is the desk's, 2 and 3 stay the app's.
        _ = merge.take(frame([99, 20, 30]), priority: 100, sequence: nil, from: "desk", at: start + .seconds(2))
        #expect(Array(merge.merged?.slots.prefix(3) ?? []) == [99, 0, 0])
        // The app moves channel 3: the desk keeps channel 1.
        _ = merge.take(frame([0, 0, 77]), priority: 100, sequence: nil, from: "app", at: start + .seconds(3))
        #expect(Array(merge.merged?.slots.prefix(3) ?? []) == [99, 0, 77])
        // The app leaves: its channels follow the desk, the one left.
        let removed = merge.remove("app")
        #expect(removed)
        #expect(Array(merge.merged?.slots.prefix(3) ?? []) == [99, 20, 30])
    }

    @Test func theSequenceRuleDropsPacketsUpTo19Behind() {
        #expect(SourceMerge.isOutOfOrder(5, after: 5))
        #expect(SourceMerge.isOutOfOrder(4, after: 5))
        #expect(SourceMerge.isOutOfOrder(242, after: 5))  // 19 behind, across the wrap
        #expect(!SourceMerge.isOutOfOrder(241, after: 5))  // 20 behind: a restarted source
        #expect(!SourceMerge.isOutOfOrder(6, after: 5))
        #expect(!SourceMerge.isOutOfOrder(0, after: 255))
        var merge = SourceMerge(mode: .htp)
        #expect(merge.take(frame([1]), priority: 100, sequence: 10, from: "a", at: start) == .accepted)
        #expect(merge.take(frame([2]), priority: 100, sequence: 9, from: "a", at: start) == .outOfOrder)
        #expect(merge.merged?[1] == 1)
        #expect(merge.take(frame([2]), priority: 100, sequence: 9, from: "b", at: start) == .accepted)  // per source
    }

    func exchange(failSafe: DMXFailSafe = .hold, steady: Bool = false) throws -> UniverseExchange {
        UniverseExchange(
            outputs: [try DMXUniverseMapping(universe: 2)], inputs: [try DMXUniverseMapping(universe: 1)], merge: .htp,
            failSafe: failSafe, wholeFrame: false,
            pacing: .init(interval: .milliseconds(25), keepAlive: .seconds(1), steady: steady))
    }

    func levels(_ messages: [Message]) -> [String: Int64] {
        var levels: [String: Int64] = [:]
        for case .set(let set) in messages { if case .int(let level) = set.value { levels[set.address] = level } }
        return levels
    }

    @Test func inputBecomesSetsOfWhatChanged() throws {
        var exchange = try exchange()
        guard case .accepted(let first) = exchange.receive(frame([7]), universe: 1, priority: 100, sequence: 1, from: "a", at: start) else {
            Issue.record("not accepted"); return
        }
        #expect(first.count == 512 && levels(first)["/dmx/1/1"] == 7)
        #expect(exchange.receive(frame([8]), universe: 1, priority: 100, sequence: 2, from: "a", at: start) == .accepted([
            .set(SetMessage(address: "/dmx/1/1", value: .int(8)))]))
        #expect(exchange.receive(frame([9]), universe: 2, priority: 100, sequence: 1, from: "a", at: start) == .notAnInput)
        #expect(exchange.receive(frame([9]), universe: 1, priority: 100, sequence: 2, from: "a", at: start) == .outOfOrder)
    }

    @Test func aSilentSourceTimesOutAndTheFailSafeApplies() throws {
        for (failSafe, expected) in [(DMXFailSafe.hold, nil), (.blackout, Int64(0)), (.scene(frame([33])), Int64(33))] {
            var exchange = try exchange(failSafe: failSafe)
            _ = exchange.receive(frame([200]), universe: 1, priority: 100, sequence: 1, from: "a", at: start)
            #expect(exchange.expire(at: start + .milliseconds(2400), timeout: SACN.sourceTimeout).expired == 0)
            let (expired, messages) = exchange.expire(at: start + .milliseconds(2600), timeout: SACN.sourceTimeout)
            #expect(expired == 1)
            #expect(levels(messages)["/dmx/1/1"] == expected)
            #expect(exchange.sourceCount == 0)
        }
    }

    @Test func aTerminatedStreamLeavesTheOtherSource() throws {
        var exchange = try exchange(failSafe: .blackout)
        _ = exchange.receive(frame([200]), universe: 1, priority: 100, sequence: 1, from: "a", at: start)
        _ = exchange.receive(frame([50]), universe: 1, priority: 100, sequence: 1, from: "b", at: start)
        #expect(levels(exchange.terminate("a", universe: 1))["/dmx/1/1"] == 50)
        #expect(levels(exchange.terminate("b", universe: 1))["/dmx/1/1"] == 0)
        #expect(exchange.terminate("b", universe: 1).isEmpty)
    }

    @Test func outputIsSentOnChangeAtMostAtTheRateThenKeptAlive() throws {
        var exchange = try exchange()
        #expect(exchange.due(at: start).map(\.universe) == [2])  // first frame
        _ = exchange.apply(.set(SetMessage(address: "/dmx/2/3", value: .int(255))))
        #expect(exchange.due(at: start + .milliseconds(10)).isEmpty)  // within the frame interval
        let changed = exchange.due(at: start + .milliseconds(30))
        #expect(changed.count == 1 && changed[0].frame[3] == 255 && changed[0].packetsSent == 1)
        #expect(exchange.due(at: start + .milliseconds(500)).isEmpty)
        #expect(exchange.due(at: start + .milliseconds(1031)).count == 1)  // keep-alive
        let refused = exchange.apply(.set(SetMessage(address: "/dmx/2/513", value: .int(1))))
        #expect(refused.count == 1)
    }

    @Test func aChangeWaitingForItsIntervalIsDueExactlyWhenTheIntervalEnds() throws {
        var exchange = try exchange()
        #expect(exchange.due(at: start).count == 1)
        #expect(exchange.nextDue == nil)  // nothing changed since
        _ = exchange.apply(.set(SetMessage(address: "/dmx/2/1", value: .int(9))))
        #expect(exchange.due(at: start + .milliseconds(5)).isEmpty)
        // The bridge wakes then, not at its next tick (which may be up to an interval later).
        #expect(exchange.nextDue == start + .milliseconds(25))
        #expect(exchange.due(at: start + .milliseconds(25)).first?.frame[1] == 9)
        #expect(exchange.nextDue == nil)
    }

    @Test func steadyModeSendsEveryUniverseOnEachTickAndOnlyThen() throws {
        var exchange = try exchange(steady: true)
        for tick in 0..<5 {
            #expect(exchange.due(at: start + .milliseconds(25 * tick), onTick: true).count == 1)
            // A change between ticks waits for the next one: a frame sent between ticks would
            // shift the universe off the tick rate.
            _ = exchange.apply(.set(SetMessage(address: "/dmx/2/1", value: .int(Int64(tick)))))
            #expect(exchange.due(at: start + .milliseconds(25 * tick + 12)).isEmpty)
            #expect(exchange.nextDue == nil)
        }
    }

    @Test func healthIsDegradedWhileAnInputUniverseHasNoSource() throws {
        let universes = NetworkUniverses(try exchange(), counters: BridgeCounters(["sources", "sets_in", "merges"]))
        #expect(universes.health(protocolName: "sACN") == .degraded("no sACN source for input universe 1"))
        universes.received(frame([1]), universe: 1, priority: 100, sequence: nil, from: "a", at: start)
        universes.received(frame([2]), universe: 1, priority: 100, sequence: nil, from: "b", at: start)
        #expect(universes.health(protocolName: "sACN") == .ok)
        #expect(universes.snapshot() == [
            BridgeCounter(name: "sources", value: 2), BridgeCounter(name: "sets_in", value: 0), BridgeCounter(name: "merges", value: 1),
        ])  // no link attached: nothing was sent to a router
        universes.expire(at: start + .seconds(3), timeout: SACN.sourceTimeout)
        #expect(universes.health(protocolName: "sACN") == .degraded("no sACN source for input universe 1"))
    }

    @Test func artNetOutputThatReachesNoNodeIsDegraded() throws {
        let output: [String: OptionValue] = ["output_universes": .list([.integer(7)])]
        let alone = try BridgeCatalog.standard.build(BridgeConfig(id: "a", kind: "artnet", options: output))
        #expect(alone.status.health == .degraded("no Art-Net node subscribes to output universe 7"))
        let unicast = try BridgeCatalog.standard.build(BridgeConfig(
            id: "b", kind: "artnet", options: output.merging(["destinations": .list([.string("127.0.0.1")])]) { $1 }))
        #expect(unicast.status.health == .ok)
    }

    @Test func configProblemsAreNamed() {
        func problems(_ options: [String: OptionValue], kind: String = "sacn") -> [String] {
            do throws(BridgeConfigProblems) {
                _ = try BridgeCatalog.standard.build(BridgeConfig(id: "x", kind: kind, options: options))
                return []
            } catch {
                return error.problems.map(\.description)
            }
        }
        #expect(problems([:]) == ["needs output_universes or input_universes"])
        #expect(problems(["output_universes": .list([.integer(0)])]).first?.hasPrefix("output_universes: must be a list of integers from 1 to 63999") == true)
        #expect(problems(["output_universes": .list([.integer(1)]), "input_universes": .list([.integer(1)])])
            == ["input_universes: universe 1 is also an output universe"])
        #expect(problems(["output_universes": .list([.integer(1)]), "destinations": .list([.string("nowhere:5568")])])
            == ["destinations: destination nowhere:5568: not an IP address"])
        #expect(problems(["output_universes": .list([.integer(1)]), "fail_safe": .string("scene")]).first?.hasPrefix("fail_safe:") == true)
        #expect(problems(["input_universes": .list([.integer(32768)])], kind: "artnet").count == 1)
        #expect(problems(["input_universes": .list([.integer(0)]), "broadcast": .string("2.255.255.255")], kind: "artnet").isEmpty)
    }
}

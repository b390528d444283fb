import Bridges
import CLASP
import Testing

@Suite("Universe mapping")
struct UniverseMappingTests {
    let mapping: DMXUniverseMapping

    init() throws {
        let patch = try DMXPatch(parsing: ["/fixtures/wash1 @ 10: dimmer", "/fixtures/mover @ 20: pan:16 tilt:16 dimmer"])
        mapping = try DMXUniverseMapping(universe: 1, patch: patch)
    }

    func applied(_ messages: [Message], to start: DMXFrame = DMXFrame()) -> (DMXFrame, DMXUniverseMapping.Update) {
        var frame = start
        var total = DMXUniverseMapping.Update()
        for message in messages {
            let update = mapping.apply(message, to: &frame)
            total.changed = total.changed || update.changed
            total.refused += update.refused
        }
        return (frame, total)
    }

    func set(_ address: String, _ value: Value) -> Message {
        .set(SetMessage(address: address, value: value))
    }

    @Test func levelScaling() throws {
        #expect(try DMXLevel.eightBit(.int(0)).get() == 0)
        #expect(try DMXLevel.eightBit(.int(255)).get() == 255)
        #expect(try DMXLevel.eightBit(.float(1.0)).get() == 255)
        #expect(try DMXLevel.eightBit(.float(0.5)).get() == 128)
        #expect(try DMXLevel.eightBit(.float(0.0)).get() == 0)
        #expect(try DMXLevel.eightBit(.bool(true)).get() == 255)
        #expect(try DMXLevel.sixteenBit(.float(0.5)).get() == 32_768)
        #expect(try DMXLevel.sixteenBit(.int(65_535)).get() == 65_535)
        for refused: Value in [.int(256), .int(-1), .float(1.01), .float(-0.1), .float(.nan), .string("x"), .null, .bytes([1])] {
            #expect(throws: DMXMappingError.self) { try DMXLevel.eightBit(refused).get() }
        }
        #expect(throws: DMXMappingError.self) { try DMXLevel.sixteenBit(.int(65_536)).get() }
    }

    @Test func channelParams() {
        let (frame, update) = applied([set("/dmx/1/1", .int(255)), set("/dmx/1/512", .float(0.5)), set("/dmx/1/3", .bool(true))])
        #expect(frame[1] == 255 && frame[512] == 128 && frame[3] == 255 && frame[2] == 0)
        #expect(update.changed && update.refused.isEmpty)
    }

    @Test func badChannelsAndValuesAreRefusedAndLeaveTheFrame() {
        let (frame, update) = applied([
            set("/dmx/1/0", .int(1)), set("/dmx/1/513", .int(1)), set("/dmx/1/01", .int(1)),
            set("/dmx/1/x", .int(1)), set("/dmx/1/5", .int(300)), set("/dmx/1/5", .string("full")),
        ])
        #expect(frame == DMXFrame())
        #expect(!update.changed)
        #expect(update.refused.count == 6)
        #expect(update.refused[4] == "/dmx/1/5: integer level 300 is outside 0–255")
    }

    @Test func otherUniversesAndAddressesAreIgnored() {
        let (frame, update) = applied([set("/dmx/2/1", .int(9)), set("/dmx/10/1", .int(9)), set("/other", .int(1)), .ping])
        #expect(frame == DMXFrame())
        #expect(update == DMXUniverseMapping.Update())
    }

    @Test func wholeFrame() {
        let bytes = (0..<512).map { UInt8($0 & 0xFF) }
        let (frame, _) = applied([set("/dmx/1", .bytes(bytes))])
        #expect(frame.slots == bytes)
        // A shorter frame writes from channel 1 and keeps the rest.
        let (partial, _) = applied([set("/dmx/1", .bytes([9, 9]))], to: frame)
        #expect(partial[1] == 9 && partial[2] == 9 && partial[3] == 2 && partial[512] == 255)
        let (same, update) = applied([set("/dmx/1", .bytes([UInt8](repeating: 1, count: 513))), set("/dmx/1", .bytes([])), set("/dmx/1", .int(1))])
        #expect(same == DMXFrame() && update.refused.count == 3)
    }

    @Test func patchedParamsEightAndSixteenBit() {
        let (frame, update) = applied([
            set("/fixtures/wash1/dimmer", .float(1.0)),
            set("/fixtures/mover/pan", .int(0x1234)),
            set("/fixtures/mover/tilt", .float(1.0)),
            set("/fixtures/mover/dimmer", .int(7)),
        ])
        #expect(update.refused.isEmpty)
        #expect(frame[10] == 255)
        #expect(frame[20] == 0x12 && frame[21] == 0x34)
        #expect(frame[22] == 0xFF && frame[23] == 0xFF)
        #expect(frame[24] == 7)
    }

    @Test func snapshotAndPublishApply() {
        let snapshot = Message.snapshot(Snapshot(params: [
            ParamState(address: "/dmx/1/4", value: .int(4), revision: 1),
            ParamState(address: "/elsewhere", value: .int(4), revision: 1),
        ]))
        let publish = Message.publish(Publish(address: "/dmx/1/5", signal: .stream, value: .int(5)))
        let (frame, _) = applied([snapshot, publish])
        #expect(frame[4] == 4 && frame[5] == 5)
    }

    @Test func subscriptions() {
        #expect(mapping.subscriptionPatterns == [
            "/dmx/1", "/dmx/1/*", "/fixtures/wash1/dimmer", "/fixtures/mover/pan", "/fixtures/mover/tilt", "/fixtures/mover/dimmer",
        ])
    }

    @Test func patchParsingErrors() {
        let bad = [
            "no at sign", "/a @ x: dimmer", "/a @ 1:", "a @ 1: dimmer", "/a @ 1: pan:8",
            "/a @ 512: pan:16", "/a @ 0: dimmer", "/a @ 1: dimmer dimmer",
        ]
        for fixture in bad {
            #expect(throws: DMXMappingError.self, "\(fixture)") { try DMXPatch(parsing: [fixture]) }
        }
        #expect(throws: DMXMappingError("channel 2 is patched to both /a/pan and /b/dimmer")) {
            try DMXPatch(parsing: ["/a @ 1: pan:16", "/b @ 2: dimmer"])
        }
        #expect(throws: DMXMappingError.self) {
            try DMXUniverseMapping(universe: 1, patch: DMXPatch(parsing: ["/dmx/2 @ 1: level"]))
        }
        #expect(throws: DMXMappingError.self) { try DMXUniverseMapping(universe: 64_000) }
    }

    @Test func inputSendsOnlyChanges() throws {
        var tracker = DMXInputTracker(mapping: mapping, wholeFrame: false)
        var frame = DMXFrame()
        // The first frame sends every channel and every patched param.
        #expect(tracker.messages(for: frame).count == 512 + 4)
        #expect(tracker.messages(for: frame).isEmpty)
        frame[1] = 200
        frame[21] = 0x01
        let messages = tracker.messages(for: frame)
        #expect(messages == [
            set("/dmx/1/1", .int(200)),
            set("/dmx/1/21", .int(1)),
            set("/fixtures/mover/pan", .int(1)),
        ])
        tracker.reset()
        #expect(tracker.messages(for: frame).count == 512 + 4)
    }

    @Test func inputWholeFrame() throws {
        var tracker = DMXInputTracker(mapping: try DMXUniverseMapping(universe: 3), wholeFrame: true)
        _ = tracker.messages(for: DMXFrame())
        var frame = DMXFrame()
        frame[7] = 1
        #expect(tracker.messages(for: frame) == [set("/dmx/3", .bytes(frame.slots)), set("/dmx/3/7", .int(1))])
    }

    @Test func failSafe() throws {
        var last = DMXFrame()
        last[1] = 50
        #expect(try DMXFailSafe.parse(policy: "hold", scene: []).frame(after: last) == last)
        #expect(try DMXFailSafe.parse(policy: "blackout", scene: []).frame(after: last) == DMXFrame())
        let scene = try DMXFailSafe.parse(policy: "scene", scene: [10, 20])
        #expect(scene.frame(after: last) == DMXFrame([10, 20]))
        #expect(throws: DMXMappingError.self) { try DMXFailSafe.parse(policy: "scene", scene: []) }
        #expect(throws: DMXMappingError.self) { try DMXFailSafe.parse(policy: "scene", scene: [256]) }
        #expect(throws: DMXMappingError.self) { try DMXFailSafe.parse(policy: "hold", scene: [1]) }
        #expect(throws: DMXMappingError.self) { try DMXFailSafe.parse(policy: "dim", scene: []) }
    }

    @Test func frameBasics() {
        var frame = DMXFrame([UInt8](repeating: 1, count: 600))
        #expect(frame.slots.count == 512)
        frame.replace(from: 511, with: [7, 8, 9])
        #expect(frame[511] == 7 && frame[512] == 8)
        #expect(frame.changedChannels(since: DMXFrame([UInt8](repeating: 1, count: 512))) == [511, 512])
    }
}

import Bridges
import CLASP
import HAL
import Testing

@Suite("DMX bridge")
struct DMXBridgeTests {
    func build(_ options: [String: OptionValue]) throws -> DMXBridge {
        let bridge = try BridgeCatalog.standard.build(BridgeConfig(id: "dmx", kind: "dmx", options: options))
        return try #require(bridge as? DMXBridge)
    }

    /// Polls `condition` every 10 ms for up to `seconds`.
    func eventually(_ seconds: Double = 5, _ condition: () -> Bool) async -> Bool {
        for _ in 0..<Int(seconds * 100) {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    func counter(_ bridge: DMXBridge, _ name: String) -> UInt64 {
        bridge.status.counters.first { $0.name == name }?.value ?? 0
    }

    @Test func paramsGoOutAtTheRefreshRate() async throws {
        let bridge = try build(["interface": .string("simulated"), "patch": .list([.string("/fixtures/mover @ 20: pan:16")])])
        let link = RecordingLink(name: "bridge:dmx")
        try await bridge.start(link: link)
        let subscribed = link.sent.withLock { $0 }.compactMap { if case .subscribe(let s) = $0 { s.pattern } else { nil } }
        #expect(subscribed == ["/dmx/1", "/dmx/1/*", "/fixtures/mover/pan"])
        bridge.receive(.set(SetMessage(address: "/dmx/1/1", value: .int(255))))
        bridge.receive(.set(SetMessage(address: "/fixtures/mover/pan", value: .float(1.0))))
        let device = bridge.simulatedDevice
        #expect(await eventually { device.sent.last.map { $0.slots[0] == 255 && $0.slots[19] == 255 && $0.slots[20] == 255 } ?? false })
        let before = device.sent.count
        try await Task.sleep(for: .seconds(1))
        // Counted by the frames' own send times: on a busy machine this task may wake late.
        let sent = device.sent.dropFirst(before - 1)
        let frames = sent.dropFirst().prefix { $0.time - (sent.first?.time ?? 0) <= 1_000_000_000 }.count
        // 44 Hz; generous bounds for a loaded 2-core machine.
        #expect((30...50).contains(frames), "\(frames) frames in 1 s")
        await bridge.stop()
        await bridge.stop()
        #expect(counter(bridge, "sets_in") == 2)
    }

    @Test func inputGoesOnAsItComesNotWithTheNextOutputFrame() async throws {
        // One frame a second: the device thread must not hold input until its next tick.
        let bridge = try build(["interface": .string("simulated"), "direction": .string("in"), "refresh_rate": .number(1)])
        let link = RecordingLink(name: "bridge:dmx")
        try await bridge.start(link: link)
        var frame = [UInt8](repeating: 0, count: 512)
        bridge.simulatedDevice.feed(frame)
        #expect(await eventually { link.sent.withLock { $0.count } == 512 })
        for level in UInt8(1)...3 {
            frame[0] = level
            let fed = MonotonicClock.now()
            bridge.simulatedDevice.feed(frame)
            #expect(await eventually { link.sent.withLock { $0.count } == 512 + Int(level) })
            let sentAt = link.sentAt.withLock { $0.last } ?? 0
            let delay = sentAt >= fed ? sentAt - fed : .max
            // Timed by the device thread, so a late test task does not count.
            #expect(delay < 300_000_000, "input \(level) went on \(delay / 1_000_000) ms after it came")
        }
        await bridge.stop()
    }

    @Test func inputBecomesSetsOfChangedChannels() async throws {
        let bridge = try build(["interface": .string("simulated"), "direction": .string("in"), "universe": .integer(3)])
        let link = RecordingLink(name: "bridge:dmx")
        try await bridge.start(link: link)
        #expect(link.sent.withLock { $0 }.isEmpty)  // input only: no subscriptions
        bridge.simulatedDevice.feed([UInt8](repeating: 0, count: 512))
        #expect(await eventually { link.sent.withLock { $0.count } == 512 })
        var frame = [UInt8](repeating: 0, count: 512)
        frame[0] = 77
        bridge.simulatedDevice.feed(frame)
        #expect(await eventually { link.sent.withLock { $0.count } == 513 })
        #expect(link.sent.withLock { $0.last } == .set(SetMessage(address: "/dmx/3/1", value: .int(77))))
        await bridge.stop()
    }

    @Test func unplugIsReportedAndRecovered() async throws {
        let bridge = try build(["interface": .string("simulated")])
        try await bridge.start(link: RecordingLink(name: "bridge:dmx"))
        bridge.simulatedDevice.setPlugged(false)
        #expect(await eventually {
            if case .degraded(let reason) = bridge.status.health { reason.hasPrefix("device unplugged: ") } else { false }
        })
        bridge.simulatedDevice.setPlugged(true)
        #expect(await eventually { bridge.status.health == .ok && counter(bridge, "reconnects") == 1 })
        let sent = bridge.simulatedDevice.sent.count
        #expect(await eventually { bridge.simulatedDevice.sent.count > sent + 5 })
        await bridge.stop()
    }

    @Test func inputLossAppliesTheFailSafe() async throws {
        let bridge = try build([
            "interface": .string("simulated"), "direction": .string("in"), "input_timeout": .number(0.2),
            "fail_safe": .string("scene"), "fail_safe_scene": .list([.integer(9)]),
        ])
        let link = RecordingLink(name: "bridge:dmx")
        try await bridge.start(link: link)
        bridge.simulatedDevice.feed([UInt8](repeating: 0, count: 512))
        #expect(await eventually {
            link.sent.withLock { $0.last } == .set(SetMessage(address: "/dmx/1/1", value: .int(9)))
        })
        #expect(bridge.status.health == .degraded("no DMX input for 0.2 s"))
        await bridge.stop()
    }

    @Test func blackoutIsLeftOnTheCableWhenTheBridgeStops() async throws {
        let bridge = try build(["interface": .string("simulated"), "fail_safe": .string("blackout")])
        try await bridge.start(link: RecordingLink(name: "bridge:dmx"))
        bridge.receive(.set(SetMessage(address: "/dmx/1/5", value: .int(100))))
        #expect(await eventually { bridge.simulatedDevice.sent.last?.slots[4] == 100 })
        await bridge.stop()
        #expect(bridge.simulatedDevice.sent.last?.slots.allSatisfy { $0 == 0 } == true)
    }

    @Test func aMissingDeviceFailsTheStartWithItsReason() async throws {
        let bridge = try build(["device": .string("/nonexistent/ttyUSB9")])
        await #expect(throws: BridgeError("cannot open /nonexistent/ttyUSB9: No such file or directory")) {
            try await bridge.start(link: RecordingLink(name: "bridge:dmx"))
        }
        await bridge.stop()
    }

    @Test func configChecksAcrossOptions() {
        func problems(_ options: [String: OptionValue]) -> [String] {
            do {
                _ = try BridgeCatalog.standard.build(BridgeConfig(id: "d", kind: "dmx", options: options))
                return []
            } catch {
                return error.problems.map(\.description)
            }
        }
        #expect(problems([:]) == ["device: interface \"usbpro\" needs device (a serial device path) or usb_vid/usb_pid/usb_serial to find it"])
        #expect(problems(["interface": .string("opendmx"), "refresh_rate": .number(44)])
            == ["refresh_rate: interface \"opendmx\" times each frame from the host: at most 40 frames per second, got 44.0"])
        #expect(problems(["interface": .string("opendmx"), "refresh_rate": .number(30), "direction": .string("both")])
            == ["direction: interface \"opendmx\" can only send: direction must be \"out\""])
        #expect(problems(["interface": .string("simulated"), "refresh_rate": .number(100)]) == ["refresh_rate: must be from 1.0 to 44.0, got 100.0"])
        #expect(problems(["interface": .string("simulated"), "patch": .list([.string("/a @ 600: x")])])
            == ["patch: /a/x needs channel 600, outside 1–512"])
        #expect(problems(["interface": .string("simulated"), "fail_safe_scene": .list([.integer(1)])])
            == ["fail_safe_scene: a fail-safe scene is only used with fail_safe = \"scene\", not \"hold\""])
        #expect(problems(["interface": .string("usbpro"), "usb_vid": .integer(0x0403)]).isEmpty)
    }
}

public import CLASP
public import HAL
import Logging
import Synchronization

/// `kind = "dmx"`: one universe on one DMX interface. Params written to the universe's
/// addresses (`DMXUniverseMapping`) go out at a steady `refresh_rate`; DMX read in comes back
/// as SETs of the channels that changed. The device runs on a thread of its own with a
/// monotonic deadline per frame. An unplugged device makes the bridge degraded and is
/// reopened every second until it is back.
public final class DMXBridge: Bridge {
    public let settings: DMXBridgeSettings
    /// The device behind `interface = "simulated"` (tests read what was sent from it).
    public let simulatedDevice = SimulatedDMXDevice()
    let counters = BridgeCounters([
        "frames_out", "frames_in", "sets_in", "sets_out", "values_refused", "late_frames", "errors", "reconnects",
    ])
    private let output = Mutex(DMXFrame())
    private let health = Mutex(BridgeStatus.Health.ok)
    private let running = Mutex<Running?>(nil)
    private let logger = Logger(label: "bridge.dmx")
    private let realtime = Atomic(false)

    /// One start's device thread: `stopping` asks it to end, `stopped` is resumed when it has.
    private final class Running: Sendable {
        let stopping = Atomic(false)
        let stopped = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let ended = Atomic(false)
    }

    public init(settings: DMXBridgeSettings) {
        self.settings = settings
    }

    public var status: BridgeStatus {
        BridgeStatus(health: health.withLock { $0 }, counters: counters.snapshot)
    }

    public func start(link: any RouterLink) async throws {
        if settings.direction.sends {
            for (index, pattern) in settings.mapping.subscriptionPatterns.enumerated() {
                try link.send(.subscribe(Subscribe(id: UInt32(index + 1), pattern: pattern)))
            }
        }
        let run = Running()
        running.withLock { $0 = run }
        let opened: Result<String, DMXDeviceError> = await withCheckedContinuation { continuation in
            let started = DeviceThread.start { [self] in
                deviceLoop(run: run, link: link) { continuation.resume(returning: $0) }
            }
            if !started { continuation.resume(returning: .failure(DMXDeviceError("cannot start a device thread", unplugged: false))) }
        }
        switch opened {
        case .success(let device):
            let priority = realtime.load(ordering: .relaxed) ? "real-time priority" : "normal priority (SCHED_FIFO not permitted)"
            logger.notice("universe \(settings.mapping.universe) \(settings.direction.rawValue) on \(device) at \(settings.refreshRate) Hz, device thread at \(priority)")
        case .failure(let error):
            await stop()
            throw BridgeError(error.description)
        }
    }

    public func receive(_ message: Message) {
        guard settings.direction.sends else { return }
        let update = output.withLock { settings.mapping.apply(message, to: &$0) }
        if case .set = message { counters.add("sets_in") }
        if !update.refused.isEmpty {
            counters.add("values_refused", UInt64(update.refused.count))
            logger.debug("refused: \(update.refused.joined(separator: "; "))")
        }
    }

    public func stop() async {
        guard let run = running.withLock({ current in defer { current = nil }; return current }) else { return }
        run.stopping.store(true, ordering: .sequentiallyConsistent)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = run.stopped.withLock { waiting in
                if run.ended.load(ordering: .sequentiallyConsistent) { return true }
                waiting = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// The device thread: opens the interface (reporting the first result through `opened`),
    /// then one frame per deadline until asked to stop.
    private func deviceLoop(run: Running, link: any RouterLink, opened: @escaping (Result<String, DMXDeviceError>) -> Void) {
        defer {
            let waiting = run.stopped.withLock { waiting in
                run.ended.store(true, ordering: .sequentiallyConsistent)
                defer { waiting = nil }
                return waiting
            }
            waiting?.resume()
        }
        realtime.store(DeviceThread.raisePriority(), ordering: .relaxed)
        var interface: (any DMXInterface)?
        do throws(DMXDeviceError) {
            let first = try settings.makeInterface(simulated: simulatedDevice)
            try first.open()
            interface = first
            opened(.success(first.description))
        } catch {
            opened(.failure(error))
            return
        }
        var input = DMXInputTracker(mapping: settings.mapping, wholeFrame: settings.inputFrame)
        let interval = UInt64(1e9 / settings.refreshRate)
        let inputTimeout = UInt64(settings.inputTimeout * 1e9)
        var lastInput = MonotonicClock.now()
        var inputLost = false
        var deadline = MonotonicClock.now() + interval
        // A device error is logged once until a frame goes through again, not every frame.
        var failing = false
        while !run.stopping.load(ordering: .sequentiallyConsistent) {
            guard let device = interface else {
                interface = reopen(run: run, input: &input)
                if interface != nil { deadline = MonotonicClock.now() + interval; lastInput = MonotonicClock.now() }
                continue
            }
            do throws(DMXDeviceError) {
                // Until the next output frame is due, input goes on as each frame comes in:
                // a receive may return as soon as one has.
                repeat {
                    for slots in try device.receive(until: deadline) {
                        counters.add("frames_in")
                        lastInput = MonotonicClock.now()
                        if inputLost {
                            inputLost = false
                            health.withLock { $0 = .ok }
                            logger.notice("universe \(settings.mapping.universe): DMX input is back")
                        }
                        send(input.messages(for: DMXFrame(slots)), on: link)
                    }
                } while MonotonicClock.now() < deadline
                if settings.direction.sends {
                    try device.send(output.withLock { $0.slots })
                    counters.add("frames_out")
                }
                failing = false
            } catch {
                counters.add("errors")
                if error.unplugged {
                    device.close()
                    interface = nil
                    health.withLock { $0 = .degraded("device unplugged: \(error.description)") }
                    logger.error("universe \(settings.mapping.universe): device unplugged: \(error.description); reopening every second")
                    continue
                }
                if !failing { logger.warning("universe \(settings.mapping.universe): \(error.description)") }
                failing = true
            }
            let now = MonotonicClock.now()
            if settings.direction.reads, !inputLost, now - lastInput > inputTimeout {
                inputLost = true
                health.withLock { $0 = .degraded("no DMX input for \(settings.inputTimeout) s") }
                logger.warning("universe \(settings.mapping.universe): no DMX input for \(settings.inputTimeout) s; fail-safe \(settings.failSafe.name)")
                if settings.failSafe != .hold {
                    send(input.messages(for: settings.failSafe.frame(after: DMXFrame())), on: link)
                }
            }
            deadline += interval
            if deadline < now {
                // Fell more than a frame behind (machine stalled): count it and start afresh
                // rather than sending a burst to catch up.
                counters.add("late_frames")
                deadline = now + interval
            }
        }
        if let device = interface {
            if settings.direction.sends, settings.failSafe != .hold {
                // The source (this bridge) goes away: leave the fail-safe look on the cable;
                // a USB Pro keeps repeating the last frame it was given.
                try? device.send(settings.failSafe.frame(after: output.withLock { $0 }).slots)
            }
            device.close()
        }
    }

    /// One attempt to reopen an unplugged device, a second after the last (stopping cuts the
    /// wait short).
    private func reopen(run: Running, input: inout DMXInputTracker) -> (any DMXInterface)? {
        let retryAt = MonotonicClock.now() + 1_000_000_000
        while MonotonicClock.now() < retryAt {
            if run.stopping.load(ordering: .sequentiallyConsistent) { return nil }
            MonotonicClock.sleep(nanoseconds: 20_000_000)
        }
        do throws(DMXDeviceError) {
            let device = try settings.makeInterface(simulated: simulatedDevice)
            try device.open()
            counters.add("reconnects")
            input.reset()
            health.withLock { $0 = .ok }
            logger.notice("universe \(settings.mapping.universe): \(device.description) is back")
            return device
        } catch {
            health.withLock { $0 = .degraded("device unplugged: \(error.description)") }
            return nil
        }
    }

    private func send(_ messages: [Message], on link: any RouterLink) {
        for message in messages {
            do {
                try link.send(message)
                counters.add("sets_out")
            } catch {
                counters.add("errors")
            }
        }
    }
}

extension DMXFailSafe {
    var name: String {
        switch self {
        case .hold: "hold"
        case .blackout: "blackout"
        case .scene: "scene"
        }
    }
}

import Synchronization

/// A DMX device in memory, for tests and for trying a config without hardware: it records
/// what is sent with the time, hands out frames queued as input, and can be unplugged.
public final class SimulatedDMXDevice: Sendable {
    public struct SentFrame: Sendable, Equatable {
        /// Monotonic ns.
        public let time: UInt64
        public let slots: [UInt8]
    }

    private struct State {
        var plugged = true
        var sent: [SentFrame] = []
        var input: [[UInt8]] = []
        var opens = 0
    }

    private let state = Mutex(State())
    /// Sent frames kept, oldest dropped first.
    private let keep: Int

    public init(keep: Int = 10_000) {
        self.keep = keep
    }

    public var sent: [SentFrame] { state.withLock { $0.sent } }
    public var opens: Int { state.withLock { $0.opens } }

    public func setPlugged(_ plugged: Bool) {
        state.withLock { $0.plugged = plugged }
    }

    /// Queues a frame for the interface to read in.
    public func feed(_ slots: [UInt8]) {
        state.withLock { $0.input.append(slots) }
    }

    fileprivate func open() throws(DMXDeviceError) {
        try state.withLock { state throws(DMXDeviceError) in
            guard state.plugged else { throw DMXDeviceError("simulated device unplugged", unplugged: true) }
            state.opens += 1
        }
    }

    fileprivate func record(_ slots: [UInt8]) throws(DMXDeviceError) {
        try state.withLock { state throws(DMXDeviceError) in
            guard state.plugged else { throw DMXDeviceError("simulated device unplugged", unplugged: true) }
            state.sent.append(SentFrame(time: MonotonicClock.now(), slots: slots))
            if state.sent.count > keep { state.sent.removeFirst(state.sent.count - keep) }
        }
    }

    fileprivate func takeInput() throws(DMXDeviceError) -> [[UInt8]] {
        try state.withLock { state throws(DMXDeviceError) in
            guard state.plugged else { throw DMXDeviceError("simulated device unplugged", unplugged: true) }
            defer { state.input.removeAll() }
            return state.input
        }
    }
}

/// The `DMXInterface` of a `SimulatedDMXDevice`.
public final class SimulatedDMXInterface: DMXInterface {
    public let device: SimulatedDMXDevice
    public let readsInput: Bool
    private var isOpen = false

    public init(device: SimulatedDMXDevice, input: Bool) {
        self.device = device
        readsInput = input
    }

    public var description: String { "simulated DMX interface" }

    public func open() throws(DMXDeviceError) {
        try device.open()
        isOpen = true
    }

    public func close() {
        isOpen = false
    }

    public func send(_ slots: [UInt8]) throws(DMXDeviceError) {
        guard isOpen else { throw DMXDeviceError("simulated device is not open", unplugged: true) }
        try device.record(Array(slots.prefix(512)))
    }

    public func receive(until deadline: UInt64) throws(DMXDeviceError) -> [[UInt8]] {
        guard isOpen else { throw DMXDeviceError("simulated device is not open", unplugged: true) }
        guard readsInput else {
            MonotonicClock.sleep(until: deadline)
            return []
        }
        // Like a USB Pro: back as soon as a frame is in (polled every millisecond).
        while true {
            let frames = try device.takeInput()
            let now = MonotonicClock.now()
            if !frames.isEmpty || now >= deadline { return frames }
            MonotonicClock.sleep(until: min(deadline, now + 1_000_000))
        }
    }
}

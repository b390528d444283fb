/// A device that puts DMX512 on a cable, and for some kinds reads it back. Owned and used
/// by one thread (the bridge's device thread); `open` again after an unplug to recover.
public protocol DMXInterface: AnyObject {
    /// For logs and status: which device this is, once opened with what it reported.
    var description: String { get }
    /// Whether `receive` can return DMX read from the cable.
    var readsInput: Bool { get }
    func open() throws(DMXDeviceError)
    /// Closes the device; `open` may be called again.
    func close()
    /// Sends one frame: start code 0 and the given slots (at most 512).
    func send(_ slots: [UInt8]) throws(DMXDeviceError)
    /// Waits until `deadline` (monotonic ns) for DMX read in and returns the frames that came
    /// (slots only, after start code 0), oldest first; empty when none did. May return before
    /// the deadline, once a frame is in.
    func receive(until deadline: UInt64) throws(DMXDeviceError) -> [[UInt8]]
}

/// What went wrong with a DMX device. `unplugged` says the device is gone (not found,
/// disconnected) rather than misbehaving, so the caller reopens it until it is back.
public struct DMXDeviceError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
    public var unplugged: Bool

    public init(_ description: String, unplugged: Bool) {
        self.description = description
        self.unplugged = unplugged
    }

    init(_ error: SerialError) {
        switch error {
        case .open, .disconnected:
            self.init(error.description, unplugged: true)
        case .settings, .timedOut:
            self.init(error.description, unplugged: false)
        }
    }
}

/// Line settings of a serial port.
public struct SerialSettings: Sendable, Equatable {
    public enum Parity: String, Sendable, CaseIterable {
        case none, even, odd
    }

    /// Bits per second; any rate the driver takes (250000 for DMX included).
    public var baudRate: Int
    /// 5–8.
    public var dataBits: Int
    public var parity: Parity
    /// 1 or 2.
    public var stopBits: Int

    public init(baudRate: Int = 115_200, dataBits: Int = 8, parity: Parity = .none, stopBits: Int = 1) {
        self.baudRate = baudRate
        self.dataBits = dataBits
        self.parity = parity
        self.stopBits = stopBits
    }
}

/// Why a serial port could not be opened, set up, read or written.
public enum SerialError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `open` failed (no such device, permission denied, busy).
    case open(path: String, reason: String)
    /// The settings are out of range or the driver refused them.
    case settings(path: String, reason: String)
    /// The device went away (USB unplugged, the other end of a pty closed): reopen to recover.
    case disconnected(path: String, reason: String)
    /// A write did not finish in time.
    case timedOut(path: String)

    public var description: String {
        switch self {
        case .open(let path, let reason): "cannot open \(path): \(reason)"
        case .settings(let path, let reason): "cannot set up \(path): \(reason)"
        case .disconnected(let path, let reason): "\(path) disconnected: \(reason)"
        case .timedOut(let path): "\(path): write timed out"
        }
    }
}

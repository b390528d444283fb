#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSerial

/// A serial device opened by path through termios: USB serial adapters (`/dev/ttyUSB0`,
/// `/dev/ttyACM0`, `/dev/serial/by-id/…`) and ptys alike. Raw mode, no flow control, reads
/// and writes bounded by deadlines. Used from one thread at a time.
///
/// Unplugging is an error, never a crash: a read of 0 bytes after the port polled readable,
/// `EIO`/`ENXIO`/`ENODEV`, or a hang-up all throw `SerialError.disconnected`; close the port
/// and open it again once the device is back.
public final class SerialPort {
    public let path: String
    private var descriptor: Int32

    public init(path: String, settings: SerialSettings) throws(SerialError) {
        self.path = path
        descriptor = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw .open(path: path, reason: Self.errorText()) }
        do throws(SerialError) {
            try configure(settings)
        } catch {
            Glibc.close(descriptor)
            descriptor = -1
            throw error
        }
    }

    deinit {
        close()
    }

    public func close() {
        guard descriptor >= 0 else { return }
        Glibc.close(descriptor)
        descriptor = -1
    }

    private func configure(_ settings: SerialSettings) throws(SerialError) {
        guard isatty(descriptor) == 1 else { throw .settings(path: path, reason: "not a serial device (tty)") }
        guard (5...8).contains(settings.dataBits), (1...2).contains(settings.stopBits), settings.baudRate > 0,
              settings.baudRate <= 12_000_000 else {
            throw .settings(path: path, reason: "\(settings.baudRate) baud, \(settings.dataBits) data bits, \(settings.stopBits) stop bits is out of range")
        }
        var options = termios()
        guard tcgetattr(descriptor, &options) == 0 else { throw .settings(path: path, reason: Self.errorText()) }
        cfmakeraw(&options)
        options.c_cflag &= ~(tcflag_t(CSIZE | PARENB | PARODD | CSTOPB) | tcflag_t(CRTSCTS))
        options.c_cflag |= tcflag_t(CLOCAL | CREAD)
        options.c_cflag |= tcflag_t([5: CS5, 6: CS6, 7: CS7, 8: CS8][settings.dataBits] ?? CS8)
        switch settings.parity {
        case .none: break
        case .even: options.c_cflag |= tcflag_t(PARENB)
        case .odd: options.c_cflag |= tcflag_t(PARENB | PARODD)
        }
        if settings.stopBits == 2 { options.c_cflag |= tcflag_t(CSTOPB) }
        options.c_iflag &= ~tcflag_t(IXON | IXOFF | IXANY)
        // Reads never block in the kernel: waiting is done with poll and a deadline.
        withUnsafeMutableBytes(of: &options.c_cc) { cc in
            cc[Int(VMIN)] = 0
            cc[Int(VTIME)] = 0
        }
        guard tcsetattr(descriptor, TCSANOW, &options) == 0 else { throw .settings(path: path, reason: Self.errorText()) }
        guard serial_set_baud(descriptor, UInt32(settings.baudRate)) == 0 else {
            throw .settings(path: path, reason: "\(settings.baudRate) baud: \(Self.errorText())")
        }
        tcflush(descriptor, TCIOFLUSH)
    }

    /// Reads what is there, waiting until `deadline` (monotonic ns) for the first byte.
    /// Returns the bytes read, empty when the deadline passed with nothing to read.
    public func read(maxCount: Int = 4096, until deadline: UInt64) throws(SerialError) -> [UInt8] {
        guard descriptor >= 0 else { throw .disconnected(path: path, reason: "port is closed") }
        guard try wait(for: Int16(POLLIN), until: deadline) else { return [] }
        var buffer = [UInt8](repeating: 0, count: maxCount)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, maxCount) }
        if count > 0 { return Array(buffer[..<count]) }
        if count == 0 { throw .disconnected(path: path, reason: "end of file") }
        if errno == EAGAIN || errno == EINTR { return [] }
        throw .disconnected(path: path, reason: Self.errorText())
    }

    /// Writes all of `bytes`, or throws when the device is gone or the deadline passes.
    public func write(_ bytes: [UInt8], until deadline: UInt64) throws(SerialError) {
        guard descriptor >= 0 else { throw .disconnected(path: path, reason: "port is closed") }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written > 0 {
                offset += written
                continue
            }
            guard written < 0, errno == EAGAIN || errno == EINTR else {
                throw .disconnected(path: path, reason: written == 0 ? "wrote nothing" : Self.errorText())
            }
            guard try wait(for: Int16(POLLOUT), until: deadline) else { throw .timedOut(path: path) }
        }
    }

    /// Waits for `events`; false when the deadline passed first. A hang-up or error throws.
    private func wait(for events: Int16, until deadline: UInt64) throws(SerialError) -> Bool {
        while true {
            var entry = pollfd(fd: descriptor, events: events, revents: 0)
            let now = MonotonicClock.now()
            // poll takes whole milliseconds: wait those, then sleep the last fraction exactly
            // and look once more without waiting, so the deadline is met to the microsecond.
            let left = deadline > now ? deadline - now : 0
            if left > 0, left < 1_000_000 { MonotonicClock.sleep(until: deadline) }
            let ready = poll(&entry, 1, Int32(min(left / 1_000_000, 60_000)))
            if ready < 0 {
                if errno == EINTR { continue }
                throw .disconnected(path: path, reason: Self.errorText())
            }
            if ready == 0 {
                if MonotonicClock.now() < deadline { continue }
                return false
            }
            if entry.revents & Int16(POLLNVAL | POLLERR) != 0 {
                throw .disconnected(path: path, reason: "device error")
            }
            if entry.revents & events != 0 { return true }
            if entry.revents & Int16(POLLHUP) != 0 {
                throw .disconnected(path: path, reason: "hang-up")
            }
        }
    }

    private static func errorText() -> String {
        String(cString: strerror(errno))
    }
}

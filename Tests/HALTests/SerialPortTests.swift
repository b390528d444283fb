import CSerial
import Glibc
import HAL
import Testing

/// A pty pair made here: the test holds the master, the port under test opens the slave.
final class PseudoTerminal {
    let master: Int32
    let slavePath: String

    init() throws {
        var name = [CChar](repeating: 0, count: 128)
        master = serial_open_pty(&name, name.count)
        guard master >= 0 else { throw SerialError.open(path: "/dev/ptmx", reason: "cannot make a pty") }
        slavePath = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func write(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.write(master, $0.baseAddress, $0.count) }
    }

    func read(count: Int, within seconds: Double) -> [UInt8] {
        var got: [UInt8] = []
        let deadline = MonotonicClock.now() + UInt64(seconds * 1e9)
        while got.count < count, MonotonicClock.now() < deadline {
            var entry = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 50) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: count - got.count)
            let n = buffer.withUnsafeMutableBytes { Glibc.read(master, $0.baseAddress, $0.count) }
            if n > 0 { got += buffer[..<n] }
        }
        return got
    }

    func close() { Glibc.close(master) }
}

@Suite("Serial port")
struct SerialPortTests {
    @Test func readsAndWritesOverAPty() throws {
        let pty = try PseudoTerminal()
        defer { pty.close() }
        let port = try SerialPort(path: pty.slavePath, settings: SerialSettings(baudRate: 250_000, stopBits: 2))
        try port.write([1, 2, 0x7E, 0xE7], until: MonotonicClock.now() + 1_000_000_000)
        #expect(pty.read(count: 4, within: 2) == [1, 2, 0x7E, 0xE7])
        pty.write([9, 8, 7])
        var got: [UInt8] = []
        let deadline = MonotonicClock.now() + 2_000_000_000
        while got.count < 3, MonotonicClock.now() < deadline { got += try port.read(until: deadline) }
        #expect(got == [9, 8, 7])
    }

    @Test func readTimesOutEmpty() throws {
        let pty = try PseudoTerminal()
        defer { pty.close() }
        let port = try SerialPort(path: pty.slavePath, settings: SerialSettings())
        let start = MonotonicClock.now()
        #expect(try port.read(until: start + 50_000_000).isEmpty)
        #expect(MonotonicClock.now() - start >= 50_000_000)
    }

    @Test func otherEndClosingIsADisconnectNotACrash() throws {
        let pty = try PseudoTerminal()
        let port = try SerialPort(path: pty.slavePath, settings: SerialSettings())
        pty.close()
        #expect {
            _ = try port.read(until: MonotonicClock.now() + 1_000_000_000)
        } throws: { error in
            if case SerialError.disconnected = error { true } else { false }
        }
    }

    @Test func clearErrorsForMissingAndNonSerialPaths() {
        #expect(throws: SerialError.open(path: "/nonexistent/tty", reason: "No such file or directory")) {
            try SerialPort(path: "/nonexistent/tty", settings: SerialSettings())
        }
        #expect(throws: SerialError.settings(path: "/dev/null", reason: "not a serial device (tty)")) {
            try SerialPort(path: "/dev/null", settings: SerialSettings())
        }
    }

    @Test func listingDoesNotFail() {
        // Containers have no USB ports; listing must still work and describe what is there.
        for port in SerialPortInfo.list() { #expect(!port.path.isEmpty) }
    }
}

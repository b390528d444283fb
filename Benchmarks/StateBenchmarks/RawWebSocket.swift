import CLASP
import Glibc

/// A minimal blocking WebSocket client over a plain socket, for what `CLASPClient` cannot do:
/// - a subscriber that stops reading with a tiny receive buffer. `CLASPClient` cannot set
///   SO_RCVBUF, and with the kernel's loopback buffers (tcp_rmem up to 32 MB here) a stalled
///   reader would hide the router's own outbound queue for a long time;
/// - a publisher that sends as fast as the router takes frames: many frames per write,
///   without `CLASPClient.send`'s wait for each write (≈ 70–150 µs per call here);
/// - a subscriber read by a thread of its own, to see what the router delivers rather than
///   what an async sequence and a decoding task can take.
///
/// Used by one thread at a time (not Sendable; `RawClients.swift` wraps it). Every read is
/// bounded by `SO_RCVTIMEO`, every write by `SO_SNDTIMEO`.
final class RawWebSocket {
    /// A WebSocket message from the server (it never fragments or masks).
    enum Incoming {
        case binary([UInt8])
        case close(code: UInt16?)
        /// The server closed or reset the TCP connection without (more) WebSocket frames.
        case eof(errno: Int32)
    }

    private let fd: Int32
    /// Received bytes; those before `start` are consumed (compacted now and then, so draining
    /// many small frames stays linear).
    private var buffer: [UInt8] = []
    private var start = 0

    /// Connects to 127.0.0.1:`port`, with the receive buffer set to `receiveBuffer` bytes
    /// before connecting (so the TCP window is small from the start) when given, and
    /// upgrades. Then sends HELLO with `name`.
    init(port: Int, name: String, receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchmarkFailure("socket(): errno \(errno)") }
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var noDelay: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        // Reads wait 100 ms at most (callers loop to their deadline); a write that cannot
        // progress for 10 s fails rather than hanging the benchmark.
        var readTimeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &readTimeout, socklen_t(MemoryLayout<timeval>.size))
        var writeTimeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &writeTimeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let error = errno
            Glibc.close(fd)
            throw BenchmarkFailure("connect to 127.0.0.1:\(port): errno \(error)")
        }
        try upgrade(port: port)
        try send(.hello(Hello(features: .allSignals, name: name)))
    }

    deinit {
        Glibc.close(fd)
    }

    /// Ends the connection in both directions (the descriptor is closed with the object).
    func shutdown() {
        _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
    }

    /// The kernel's actual receive buffer (Linux doubles the value asked for).
    var receiveBufferSize: Int {
        var size: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, &length)
        return Int(size)
    }

    private func upgrade(port: Int) throws {
        let request = "GET / HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: c3RhbGxlZC1yZWFkZXIxMg==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: clasp\r\n\r\n"
        try writeAll(Array(request.utf8))
        let deadline = wallMicroseconds() + 5_000_000
        let end: [UInt8] = Array("\r\n\r\n".utf8)
        while buffer.firstRange(of: end) == nil {
            try require(wallMicroseconds() < deadline, "no HTTP upgrade response within 5 s")
            if case .eof(let error) = try fill() { throw BenchmarkFailure("connection closed during the upgrade (errno \(error))") }
        }
        let headEnd = buffer.firstRange(of: end)!.upperBound
        let head = String(decoding: buffer[..<headEnd], as: UTF8.self)
        start = headEnd
        try require(head.hasPrefix("HTTP/1.1 101"), "upgrade refused: \(head.prefix(40))")
    }

    /// Sends one CLASP frame (QoS fire: nothing asks for an ACK) as one masked binary
    /// WebSocket message.
    func send(_ message: Message) throws {
        try sendFrames([message.encodedFrame(qos: .fire)])
    }

    /// Sends CLASP frames, each as one masked binary WebSocket message, in one write.
    func sendFrames(_ frames: [[UInt8]]) throws {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(frames.reduce(0) { $0 + $1.count + 8 })
        for payload in frames {
            bytes.append(0x82)
            if payload.count < 126 {
                bytes.append(0x80 | UInt8(payload.count))
            } else {
                bytes.append(0x80 | 126)
                bytes.append(UInt8(payload.count >> 8))
                bytes.append(UInt8(payload.count & 0xFF))
            }
            bytes.append(contentsOf: Self.mask)
            for index in payload.indices { bytes.append(payload[index] ^ Self.mask[index & 3]) }
        }
        try writeAll(bytes)
    }

    private static let mask: [UInt8] = [0x5A, 0x17, 0xC3, 0x81]

    /// Reads up to the PONG answering an earlier PING (WELCOME, SNAPSHOTs and anything else
    /// before it are skipped); throws on an ERROR, a close, or when `timeout` passes.
    func readUntilPong(timeout: Duration, who: String) throws {
        let deadline = wallMicroseconds() + UInt64(timeout.components.seconds) * 1_000_000
        while true {
            guard let message = try receive(before: deadline) else { throw BenchmarkFailure("\(who): no PONG within \(timeout)") }
            guard case .binary(let bytes) = message else { throw BenchmarkFailure("\(who): connection ended: \(message)") }
            switch try FrameCodec.decode(bytes).message {
            case .pong: return
            case .error(let error): throw BenchmarkFailure("\(who): ERROR \(error.code) \(error.message)")
            default: continue
            }
        }
    }

    /// The next message, or nil when none arrived before `deadline` (wall µs).
    func receive(before deadline: UInt64) throws -> Incoming? {
        while true {
            if let message = try parseMessage() { return message }
            guard wallMicroseconds() < deadline else { return nil }
            if case .eof(let error) = try fill() { return .eof(errno: error) }
        }
    }

    private enum Filled { case data, timeout, eof(Int32) }

    /// One read into the buffer (at most 100 ms, SO_RCVTIMEO).
    private func fill() throws -> Filled {
        if start > 65_536 {
            buffer.removeFirst(start)
            start = 0
        }
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count > 0 {
            buffer.append(contentsOf: chunk[0..<count])
            return .data
        }
        if count == 0 { return .eof(0) }
        let error = errno
        if error == EAGAIN || error == EWOULDBLOCK || error == EINTR { return .timeout }
        return .eof(error)
    }

    /// A whole message from the buffer, if one is there.
    private func parseMessage() throws -> Incoming? {
        while true {
            let available = buffer.count - start
            guard available >= 2 else { return nil }
            let first = buffer[start], second = buffer[start + 1]
            var length = Int(second & 0x7F)
            var offset = 2
            if length == 126 {
                guard available >= 4 else { return nil }
                length = Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])
                offset = 4
            } else if length == 127 {
                guard available >= 10 else { return nil }
                length = buffer[start + 2..<start + 10].reduce(0) { $0 << 8 | Int($1) }
                offset = 10
            }
            try require(second & 0x80 == 0, "the server masked a frame")
            try require(first & 0x80 != 0, "the server fragmented a message")
            guard available >= offset + length else { return nil }
            let payload = Array(buffer[start + offset..<start + offset + length])
            start += offset + length
            switch first & 0x0F {
            case 0x2: return .binary(payload)
            case 0x8: return .close(code: payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : nil)
            default: continue  // ping, pong, text: not sent by the gateway here
            }
        }
    }

    private func writeAll(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { throw BenchmarkFailure("send(): errno \(errno)") }
            sent += count
        }
    }
}

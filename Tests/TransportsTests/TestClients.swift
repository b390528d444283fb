import NIOCore
import NIOPosix
import Synchronization

/// A raw TCP client over NIO that records every byte it receives. Tests poll it with bounded
/// waits. `stopReading()` makes a peer that stops reading.
final class RawClient: Sendable {
    struct Received {
        var bytes: [UInt8] = []
        var closed = false
    }

    let channel: any Channel
    private let received: Recorder

    private init(channel: any Channel, received: Recorder) {
        self.channel = channel
        self.received = received
    }

    /// `receiveBuffer`: a small SO_RCVBUF (set before connecting) makes a reader that falls
    /// behind quickly.
    static func connect(port: Int, group: any EventLoopGroup, receiveBuffer: Int? = nil) async throws -> RawClient {
        let recorder = Recorder()
        var bootstrap = ClientBootstrap(group: group)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
        if let receiveBuffer {
            bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBuffer))
        }
        let channel = try await bootstrap
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RecordingHandler(recorder: recorder))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        return RawClient(channel: channel, received: recorder)
    }

    func write(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes)).get()
    }

    func write(_ text: String) async throws {
        try await write(Array(text.utf8))
    }

    /// Writes `chunks[i]` at `i × interval` from now, timed by the channel's event loop thread:
    /// a test task waiting for a busy cooperative pool would stretch the gaps the server sees.
    func write(_ chunks: [[UInt8]], every interval: TimeAmount) async throws {
        let loop = channel.eventLoop
        let written = chunks.indices.map { index in
            loop.flatScheduleTask(in: interval * Int64(index)) { [channel] in
                channel.writeAndFlush(channel.allocator.buffer(bytes: chunks[index]))
            }.futureResult
        }
        try await EventLoopFuture.andAllSucceed(written, on: loop).get()
    }

    var snapshot: Received { received.state.withLock { $0 } }

    /// Polls until `condition` holds or `timeout` passes; returns whether it held.
    func wait(timeout: Duration = .seconds(5), _ condition: (Received) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if received.state.withLock({ condition($0) }) { return true }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return received.state.withLock { condition($0) }
    }

    func waitClosed(timeout: Duration = .seconds(5)) async -> Bool {
        await wait(timeout: timeout) { $0.closed }
    }

    func stopReading() {
        channel.setOption(.autoRead, value: false).whenComplete { _ in }
    }

    func resumeReading() {
        channel.setOption(.autoRead, value: true).whenComplete { _ in }
        channel.read()
    }

    func close() async {
        try? await channel.close()
    }

    private final class Recorder: Sendable {
        let state = Mutex(Received())
    }

    private final class RecordingHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let recorder: Recorder
        init(recorder: Recorder) { self.recorder = recorder }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = Self.unwrapInboundIn(data)
            recorder.state.withLock { $0.bytes += buffer.readableBytesView }
        }

        func channelInactive(context: ChannelHandlerContext) {
            recorder.state.withLock { $0.closed = true }
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}

/// One server-to-client WebSocket frame as seen by the test client.
struct ReceivedFrame: Equatable {
    var opcode: UInt8
    var payload: [UInt8]

    static let text: UInt8 = 0x1
    static let binary: UInt8 = 0x2
    static let close: UInt8 = 0x8
    static let ping: UInt8 = 0x9
    static let pong: UInt8 = 0xA

    /// Close code, for close frames that carry one.
    var closeCode: Int? {
        guard opcode == Self.close, payload.count >= 2 else { return nil }
        return Int(payload[0]) << 8 | Int(payload[1])
    }
}

/// A minimal WebSocket client written for these tests (RFC 6455 client side, masked frames),
/// on top of `RawClient`.
final class WebSocketTestClient: Sendable {
    let raw: RawClient
    /// The server's upgrade response head.
    let responseHead: String
    private let cursor: Mutex<Int>

    private init(raw: RawClient, responseHead: String, cursor: Int) {
        self.raw = raw
        self.responseHead = responseHead
        self.cursor = Mutex(cursor)
    }

    enum Failure: Error { case noUpgradeResponse(String) }

    static func connect(
        port: Int,
        group: any EventLoopGroup,
        path: String = "/",
        protocols: String? = "clasp",
        receiveBuffer: Int? = nil
    ) async throws -> WebSocketTestClient {
        let raw = try await RawClient.connect(port: port, group: group, receiveBuffer: receiveBuffer)
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        request += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        if let protocols { request += "Sec-WebSocket-Protocol: \(protocols)\r\n" }
        request += "\r\n"
        try await raw.write(request)
        let terminator: [UInt8] = Array("\r\n\r\n".utf8)
        _ = await raw.wait { $0.bytes.firstRange(of: terminator) != nil || $0.closed }
        let bytes = raw.snapshot.bytes
        guard let end = bytes.firstRange(of: terminator)?.upperBound else {
            throw Failure.noUpgradeResponse(String(decoding: bytes, as: UTF8.self))
        }
        let head = String(decoding: bytes[..<end], as: UTF8.self)
        guard head.hasPrefix("HTTP/1.1 101") else { throw Failure.noUpgradeResponse(head) }
        return WebSocketTestClient(raw: raw, responseHead: head, cursor: end)
    }

    /// The value of a response header (case-insensitive name), if present.
    func responseHeader(_ name: String) -> String? {
        for line in responseHead.split(separator: "\r\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == name.lowercased() {
                return parts[1].trimmingCharacters(in: " ")
            }
        }
        return nil
    }

    func send(opcode: UInt8, _ payload: [UInt8], fin: Bool = true) async throws {
        try await raw.write(Self.encode(opcode: opcode, payload, fin: fin))
    }

    func sendBinary(_ payload: [UInt8]) async throws {
        try await send(opcode: ReceivedFrame.binary, payload)
    }

    /// A masked client frame.
    static func encode(opcode: UInt8, _ payload: [UInt8], fin: Bool = true) -> [UInt8] {
        var bytes: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        switch payload.count {
        case 0..<126:
            bytes.append(0x80 | UInt8(payload.count))
        case 126...0xFFFF:
            bytes.append(0x80 | 126)
            bytes += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        default:
            bytes.append(0x80 | 127)
            bytes += (0..<8).reversed().map { UInt8((UInt64(payload.count) >> (8 * UInt64($0))) & 0xFF) }
        }
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        bytes += mask
        bytes += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        return bytes
    }

    /// The next complete frame, or nil if none arrives within `timeout`.
    func nextFrame(timeout: Duration = .seconds(5)) async -> ReceivedFrame? {
        var frame: ReceivedFrame?
        _ = await raw.wait(timeout: timeout) { received in
            frame = cursor.withLock { offset in
                guard let (parsed, length) = Self.parse(received.bytes, from: offset) else { return nil }
                offset += length
                return parsed
            }
            return frame != nil || received.closed
        }
        if frame == nil {
            // Closed: one last look for a frame that arrived with the FIN.
            let bytes = raw.snapshot.bytes
            frame = cursor.withLock { offset in
                guard let (parsed, length) = Self.parse(bytes, from: offset) else { return nil }
                offset += length
                return parsed
            }
        }
        return frame
    }

    /// Frames until one matches `stop` (included) or nothing more arrives.
    func frames(until stop: (ReceivedFrame) -> Bool, timeout: Duration = .seconds(10)) async -> [ReceivedFrame] {
        var frames: [ReceivedFrame] = []
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, let frame = await nextFrame(timeout: deadline - ContinuousClock.now) {
            frames.append(frame)
            if stop(frame) { break }
        }
        return frames
    }

    /// Parses one unmasked server frame at `offset`: the frame and its length in bytes.
    static func parse(_ bytes: [UInt8], from offset: Int) -> (ReceivedFrame, Int)? {
        guard bytes.count - offset >= 2 else { return nil }
        let opcode = bytes[offset] & 0x0F
        var length = Int(bytes[offset + 1] & 0x7F)
        var header = 2
        if length == 126 {
            guard bytes.count - offset >= 4 else { return nil }
            length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            header = 4
        } else if length == 127 {
            guard bytes.count - offset >= 10 else { return nil }
            length = (2..<10).reduce(0) { $0 << 8 | Int(bytes[offset + $1]) }
            header = 10
        }
        guard bytes.count - offset >= header + length else { return nil }
        let payload = Array(bytes[(offset + header)..<(offset + header + length)])
        return (ReceivedFrame(opcode: opcode, payload: payload), header + length)
    }

    func close() async {
        await raw.close()
    }
}

extension Substring {
    func trimmingCharacters(in set: Character) -> String {
        var slice = self
        while slice.first == set { slice.removeFirst() }
        while slice.last == set { slice.removeLast() }
        return String(slice)
    }
}

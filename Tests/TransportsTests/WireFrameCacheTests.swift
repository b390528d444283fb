import NIOCore
import Router
import Testing

@testable import Transports

@Suite struct WireFrameCacheTests {
    private let allocator = ByteBufferAllocator()

    @Test(arguments: [0, 1, 125, 126, 65_535, 65_536, 65_547])
    func encodesOneUnmaskedBinaryFrame(size: Int) {
        let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0) }
        let buffer = WireFrameCache.webSocketFrame(payload, allocator: allocator)
        let bytes = Array(buffer.readableBytesView)
        guard let (frame, length) = WebSocketTestClient.parse(bytes, from: 0) else {
            Issue.record("not a complete frame")
            return
        }
        #expect(bytes[0] == 0x82)
        #expect(bytes[1] & 0x80 == 0)
        #expect(length == bytes.count)
        #expect(frame.opcode == ReceivedFrame.binary)
        #expect(frame.payload == payload)
    }

    @Test func sameFrameIsConvertedOncePerFanOut() {
        let cache = WireFrameCache(encode: WireFrameCache.webSocketFrame)
        let frame = OutboundFrame(bytes: [0x53, 0x01, 0x00, 0x01, 0x41])
        let first = cache.buffer(for: frame, allocator: allocator)
        let second = cache.buffer(for: frame, allocator: allocator)
        // Same storage: no second copy.
        let samePointer = first.withUnsafeReadableBytes { a in
            second.withUnsafeReadableBytes { b in a.baseAddress == b.baseAddress }
        }
        #expect(samePointer)
    }

    @Test func equalButDistinctArraysAreNotConfused() {
        let cache = WireFrameCache(encode: WireFrameCache.webSocketFrame)
        var bytes: [UInt8] = [0x53, 0x01, 0x00, 0x01, 0x41]
        let a = cache.buffer(for: OutboundFrame(bytes: bytes), allocator: allocator)
        bytes[4] = 0x42  // a copy now (the cache holds the old storage)
        let b = cache.buffer(for: OutboundFrame(bytes: bytes), allocator: allocator)
        #expect(Array(a.readableBytesView).last == 0x41)
        #expect(Array(b.readableBytesView).last == 0x42)
    }

    @Test func closeReasonIsCutAtAScalarBoundary() {
        let text = String(repeating: "é", count: 100)  // 200 bytes
        let cut = WebSocketConnectionHandler.truncatedUTF8(text, maxBytes: 123)
        #expect(cut.utf8.count == 122)
        #expect(WebSocketConnectionHandler.truncatedUTF8("short", maxBytes: 123) == "short")
    }
}

import NIOCore
import Router

/// Turns an `OutboundFrame` into one transport's wire bytes (framing and CLASP frame in one
/// buffer): an unmasked binary WebSocket frame (`webSocketFrame`, written past the
/// `WebSocketFrameEncoder`) or a length-prefixed TCP frame (`LengthPrefixFrameDecoder.encode`).
///
/// Encode once, send many: a fan-out hands the same `OutboundFrame` (same array storage) to
/// every recipient one after another, so remembering the last conversion turns it into one
/// copy per fan-out. The cache keeps the last array alive, so equal storage addresses mean the
/// same, unmodified bytes. Confined to one event loop (not `Sendable`).
final class WireFrameCache {
    typealias Encode = (_ frame: [UInt8], _ allocator: ByteBufferAllocator) -> ByteBuffer

    private let encode: Encode
    private var lastBytes: [UInt8] = []
    private var lastBuffer: ByteBuffer?

    init(encode: @escaping Encode) {
        self.encode = encode
    }

    func buffer(for frame: OutboundFrame, allocator: ByteBufferAllocator) -> ByteBuffer {
        if let cached = lastBuffer, Self.sameStorage(frame.bytes, lastBytes) {
            return cached
        }
        let buffer = encode(frame.bytes, allocator)
        lastBytes = frame.bytes
        lastBuffer = buffer
        return buffer
    }

    private static func sameStorage(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in pa.baseAddress == pb.baseAddress }
        }
    }

    /// One FIN + binary WebSocket frame, server to client (unmasked), carrying `payload`.
    static func webSocketFrame(_ payload: [UInt8], allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: payload.count + 10)
        buffer.writeInteger(UInt8(0x82))
        switch payload.count {
        case 0..<126:
            buffer.writeInteger(UInt8(payload.count))
        case 126...0xFFFF:
            buffer.writeInteger(UInt8(126))
            buffer.writeInteger(UInt16(payload.count))
        default:
            buffer.writeInteger(UInt8(127))
            buffer.writeInteger(UInt64(payload.count))
        }
        buffer.writeBytes(payload)
        return buffer
    }
}

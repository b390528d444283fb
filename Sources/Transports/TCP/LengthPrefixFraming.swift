import NIOCore

/// The TCP framing of wire-format §1.5: each CLASP frame is preceded by its length as a
/// 4-byte big-endian unsigned integer.
///
/// Hand-written rather than a `ByteToMessageDecoder` so the connection handler decides what
/// a bad prefix means (ERROR 100 to the peer, then close) and can tell whether a frame is
/// half-received (the stalled-frame timeout).
struct LengthPrefixFrameDecoder {
    enum Failure: Error, Equatable {
        /// A prefix of 0: no CLASP frame is empty.
        case emptyFrame
        /// A prefix above the limit; nothing of the frame is buffered.
        case frameTooLarge(announced: UInt32)
    }

    static let prefixBytes = 4

    let maxFrameBytes: Int
    private var buffer: ByteBuffer?

    init(maxFrameBytes: Int) {
        self.maxFrameBytes = maxFrameBytes
    }

    /// Bytes of an incomplete prefix or frame are waiting for the rest.
    var hasPartialFrame: Bool { (buffer?.readableBytes ?? 0) > 0 }

    /// Adds bytes read from the socket. The first chunk is kept as is (no copy) when nothing
    /// is pending; later chunks are appended.
    mutating func append(_ chunk: ByteBuffer) {
        if var pending = buffer, pending.readableBytes > 0 {
            buffer = nil  // keep the storage uniquely referenced while appending
            var chunk = chunk
            pending.writeBuffer(&chunk)
            buffer = pending
        } else {
            buffer = chunk
        }
    }

    /// The next whole frame (without its prefix), nil when more bytes are needed. A failure
    /// is final: the connection must be dropped.
    mutating func next() throws(Failure) -> ByteBuffer? {
        guard var pending = buffer,
            let length = pending.getInteger(at: pending.readerIndex, endianness: .big, as: UInt32.self)
        else { return nil }
        guard length > 0 else { throw .emptyFrame }
        guard UInt64(length) <= UInt64(maxFrameBytes) else { throw .frameTooLarge(announced: length) }
        guard pending.readableBytes >= Self.prefixBytes + Int(length) else { return nil }
        pending.moveReaderIndex(forwardBy: Self.prefixBytes)
        let frame = pending.readSlice(length: Int(length))
        if pending.readableBytes == 0 {
            buffer = nil
        } else {
            // Long-lived connections must not keep growing one buffer: drop what was read
            // once it is the larger part.
            if pending.readerIndex > pending.readableBytes { pending.discardReadBytes() }
            buffer = pending
        }
        return frame
    }

    mutating func removeAll() { buffer = nil }

    /// `u32 length` + `frame` in one buffer, so each frame is one write.
    static func encode(_ frame: [UInt8], allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: prefixBytes + frame.count)
        buffer.writeInteger(UInt32(truncatingIfNeeded: frame.count), endianness: .big)
        buffer.writeBytes(frame)
        return buffer
    }
}

import NIOCore
import Testing

@testable import Transports

/// The TCP framing on its own: prefixes, partial input, limits.
@Suite struct LengthPrefixFrameDecoderTests {
    private let allocator = ByteBufferAllocator()

    private func buffer(_ bytes: [UInt8]) -> ByteBuffer { allocator.buffer(bytes: bytes) }

    @Test func encodeWritesABigEndianLengthThenTheFrame() {
        let encoded = LengthPrefixFrameDecoder.encode([0x53, 1, 2], allocator: allocator)
        #expect(Array(encoded.readableBytesView) == [0, 0, 0, 3, 0x53, 1, 2])
    }

    @Test func framesAreCutOutOfAnySplitOfTheStream() throws {
        let stream: [UInt8] = [0, 0, 0, 2, 0xA, 0xB, 0, 0, 0, 1, 0xC, 0, 0, 0, 3, 1, 2, 3]
        for chunkSize in 1...stream.count {
            var decoder = LengthPrefixFrameDecoder(maxFrameBytes: 16)
            var frames: [[UInt8]] = []
            for start in stride(from: 0, to: stream.count, by: chunkSize) {
                decoder.append(buffer(Array(stream[start..<min(start + chunkSize, stream.count)])))
                while let frame = try decoder.next() { frames.append(Array(frame.readableBytesView)) }
            }
            #expect(frames == [[0xA, 0xB], [0xC], [1, 2, 3]], "chunk size \(chunkSize)")
            #expect(!decoder.hasPartialFrame)
        }
    }

    @Test func partialInputIsReportedUntilTheFrameCompletes() throws {
        var decoder = LengthPrefixFrameDecoder(maxFrameBytes: 16)
        #expect(!decoder.hasPartialFrame)
        decoder.append(buffer([0, 0]))
        #expect(try decoder.next() == nil)
        #expect(decoder.hasPartialFrame)
        decoder.append(buffer([0, 1]))
        #expect(try decoder.next() == nil)
        decoder.append(buffer([7]))
        #expect(try decoder.next().map { Array($0.readableBytesView) } == [7])
        #expect(!decoder.hasPartialFrame)
    }

    @Test func theLimitIsInclusiveAndCheckedBeforeTheFrameArrives() throws {
        var atLimit = LengthPrefixFrameDecoder(maxFrameBytes: 65_547)
        atLimit.append(buffer([0x00, 0x01, 0x00, 0x0B]))
        #expect(try atLimit.next() == nil)  // waits for 65,547 bytes

        var over = LengthPrefixFrameDecoder(maxFrameBytes: 65_547)
        over.append(buffer([0x00, 0x01, 0x00, 0x0C]))
        #expect(throws: LengthPrefixFrameDecoder.Failure.frameTooLarge(announced: 65_548)) { try over.next() }

        var huge = LengthPrefixFrameDecoder(maxFrameBytes: 65_547)
        huge.append(buffer([0xFF, 0xFF, 0xFF, 0xFF]))
        #expect(throws: LengthPrefixFrameDecoder.Failure.frameTooLarge(announced: UInt32.max)) { try huge.next() }
    }

    @Test func aZeroLengthPrefixIsRefused() {
        var decoder = LengthPrefixFrameDecoder(maxFrameBytes: 16)
        decoder.append(buffer([0, 0, 0, 0, 0x53]))
        #expect(throws: LengthPrefixFrameDecoder.Failure.emptyFrame) { try decoder.next() }
    }
}

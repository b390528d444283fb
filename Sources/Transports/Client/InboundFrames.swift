public import CLASP
import NIOCore
import Synchronization

/// One CLASP frame received by a `CLASPClient`, not decoded yet.
public struct InboundFrame: Sendable {
    /// The whole frame: header and payload.
    public let bytes: [UInt8]
    /// Local wall-clock time when the channel handler got the frame, µs since the Unix epoch.
    public let receivedAt: UInt64

    public init(bytes: [UInt8], receivedAt: UInt64) {
        self.bytes = bytes
        self.receivedAt = receivedAt
    }

    public func decoded() throws(CodecError) -> DecodedFrame {
        try FrameCodec.decode(bytes)
    }
}

/// The frames a `CLASPClient` receives after WELCOME, in order, raw. Counting them costs no
/// decoding; `InboundFrame.decoded()` decodes one.
///
/// Back-pressured: at most `CLASPClient.Options.inboundHighWatermark` frames wait for the
/// consumer; beyond that the client stops reading the socket, so the server's own per-client
/// queue applies (the gateway closes a client that stays behind too long). While reading is
/// paused, SYNC replies wait too.
///
/// One consumer: this and `CLASPClient.messages` share one buffer, and only the first iterator
/// made from either gets the frames (later ones end at once). When that iteration ends (break,
/// task cancelled), frames received afterwards are discarded.
public struct InboundFrames: AsyncSequence, Sendable {
    public typealias Element = InboundFrame
    public typealias Failure = Never

    let source: InboundSource

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: source.take()?.makeAsyncIterator())
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        public typealias Element = InboundFrame
        public typealias Failure = Never

        var base: InboundProducer.AsyncIterator?

        public mutating func next() async -> InboundFrame? {
            await base?.next()
        }
    }
}

/// The same frames as `InboundFrames`, decoded. A frame that does not decode throws its
/// `CodecError`; the same iterator's next call continues with the following frame.
public struct InboundMessages: AsyncSequence, Sendable {
    public typealias Element = DecodedFrame
    public typealias Failure = CodecError

    let frames: InboundFrames

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: frames.makeAsyncIterator())
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        public typealias Element = DecodedFrame
        public typealias Failure = CodecError

        var base: InboundFrames.AsyncIterator

        public mutating func next() async throws(CodecError) -> DecodedFrame? {
            guard let frame = await base.next() else { return nil }
            return try frame.decoded()
        }
    }
}

typealias InboundProducer = NIOAsyncSequenceProducer<
    InboundFrame, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, InboundDelegate
>

/// Holds the producer's sequence until the first iterator takes it (NIO allows one iterator).
final class InboundSource: Sendable {
    private let sequence: Mutex<InboundProducer?>

    init(_ sequence: InboundProducer) {
        self.sequence = Mutex(sequence)
    }

    func take() -> InboundProducer? {
        sequence.withLock { sequence in
            defer { sequence = nil }
            return sequence
        }
    }
}

/// Passes the consumer's demand to the channel handler, on its event loop. Once the channel is
/// closed there is nothing to pass on, and its loop may be shut down (the sequence can outlive
/// both), so nothing is scheduled then.
struct InboundDelegate: NIOAsyncSequenceProducerDelegate {
    let channel: any Channel
    let handler: NIOLoopBound<CLASPClientHandler>

    func produceMore() {
        guard channel.isActive else { return }
        let handler = self.handler
        handler.eventLoop.execute { handler.value.resumeReading() }
    }

    func didTerminate() {
        guard channel.isActive else { return }
        let handler = self.handler
        handler.eventLoop.execute { handler.value.consumerGone() }
    }
}

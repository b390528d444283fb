import CLASP
import NIOCore
import Router

/// Where an `OutboundPump` writes: one peer's side of a channel. Called on that channel's
/// loop only.
protocol OutboundSink: AnyObject {
    /// The peer can take more bytes right now.
    var canWrite: Bool { get }
    /// Writes one frame, unflushed.
    func write(_ frame: OutboundFrame)
    func flush()
}

/// The outbound policy every transport shares (design §2, "Bounded everything"): a frame is
/// written at once while the channel is writable and nothing waits before it, else it waits
/// in the session's `OutboundQueue` and is written when the channel becomes writable again.
/// Writes are flushed once per event-loop turn. When the queue overflows, the queue is
/// dropped and ERROR 503 is written in its place; the transport then closes the connection.
///
/// Confined to one event loop (not `Sendable`); the transport's handler owns it and passes
/// itself as the sink of every call, so the pump holds no reference back to it: a weak one
/// would make every retain of the handler take the runtime's slow path, once per delivery.
final class OutboundPump {
    enum SendResult {
        case accepted
        /// The queue overflowed: ERROR 503 is written; the caller closes the connection.
        case slowConsumer(queuedFrames: Int, queuedBytes: Int)
    }

    private var queue: OutboundQueue
    private let eventLoop: any EventLoop
    private var flushScheduled = false

    init(queueFrames: Int, queueBytes: Int, eventLoop: any EventLoop) {
        self.queue = OutboundQueue(maxFrames: queueFrames, maxBytes: queueBytes)
        self.eventLoop = eventLoop
    }

    var isEmpty: Bool { queue.isEmpty }

    /// Writes `frame` or queues it.
    func send(_ frame: OutboundFrame, to sink: some OutboundSink) -> SendResult {
        if queue.isEmpty && sink.canWrite {
            sink.write(frame)
            scheduleFlush(of: sink)
            return .accepted
        }
        switch queue.push(frame) {
        case .queued, .coalesced:
            if sink.canWrite { drain(to: sink) }
            return .accepted
        case .overflow:
            let result = SendResult.slowConsumer(queuedFrames: queue.count, queuedBytes: queue.byteCount)
            queue.removeAll()
            sink.write(OutboundFrame(bytes: slowConsumerErrorFrameBytes))
            scheduleFlush(of: sink)
            return result
        }
    }

    /// Writes what waits while the channel takes it (call when it became writable).
    func drain(to sink: some OutboundSink) {
        while sink.canWrite, let frame = queue.popFirst() {
            sink.write(frame)
        }
        scheduleFlush(of: sink)
    }

    /// Writes everything queued, writable or not: the router closes the connection and its
    /// last frames go out before the close.
    func drainAll(to sink: some OutboundSink) {
        while let frame = queue.popFirst() {
            sink.write(frame)
        }
        scheduleFlush(of: sink)
    }

    /// Forgets what is queued (the peer is gone or misbehaving).
    func removeAll() {
        queue.removeAll()
    }

    /// Flushes `sink` at the end of this event-loop turn (it lives until then).
    func scheduleFlush(of sink: some OutboundSink) {
        guard !flushScheduled else { return }
        flushScheduled = true
        eventLoop.assumeIsolated().execute {
            self.flushScheduled = false
            sink.flush()
        }
    }
}

/// ERROR 503 sent to a session whose outbound queue overflowed (encoded once).
let slowConsumerErrorFrameBytes: [UInt8] = {
    let error = ErrorMessage(code: ErrorCode.slowConsumer.rawValue, message: CloseReason.slowConsumer.description)
    // Cannot fail: a short message far below every codec limit.
    return (try? Message.error(error).encodedFrame()) ?? []
}()

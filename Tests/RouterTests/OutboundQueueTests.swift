import Router
import Testing

@Suite struct OutboundQueueTests {
    private func frame(_ tag: UInt8, size: Int = 4, _ key: CoalescingKey? = nil) -> OutboundFrame {
        OutboundFrame(bytes: [tag] + Array(repeating: 0, count: max(0, size - 1)), coalescing: key)
    }

    private func drain(_ queue: inout OutboundQueue) -> [UInt8] {
        var tags: [UInt8] = []
        while let next = queue.popFirst() { tags.append(next.bytes[0]) }
        return tags
    }

    @Test func framesComeOutInOrder() {
        var queue = OutboundQueue(maxFrames: 100, maxBytes: 10_000)
        for tag in UInt8(0)..<50 { #expect(queue.push(frame(tag)) == .queued) }
        #expect(queue.count == 50)
        #expect(queue.byteCount == 200)
        #expect(drain(&queue) == Array(0..<50))
        #expect(queue.isEmpty)
        #expect(queue.byteCount == 0)
        #expect(queue.popFirst() == nil)
    }

    @Test func coalescedFrameKeepsOlderPositionAndLatestValueWins() {
        var queue = OutboundQueue(maxFrames: 10, maxBytes: 10_000)
        #expect(queue.push(frame(1, .param("/a"))) == .queued)
        #expect(queue.push(frame(2, .param("/b"))) == .queued)
        #expect(queue.push(frame(3, size: 10, .param("/a"))) == .coalesced)
        #expect(queue.push(frame(4, .stream("/a"))) == .queued)
        #expect(queue.count == 3)
        #expect(queue.byteCount == 18)
        #expect(drain(&queue) == [3, 2, 4])
    }

    @Test func framesWithoutKeyAreNeverCoalesced() {
        var queue = OutboundQueue(maxFrames: 10, maxBytes: 10_000)
        #expect(queue.push(frame(1)) == .queued)
        #expect(queue.push(frame(1)) == .queued)
        #expect(drain(&queue) == [1, 1])
    }

    @Test func gestureMovesCoalescePerGestureID() {
        var queue = OutboundQueue(maxFrames: 10, maxBytes: 10_000)
        #expect(queue.push(frame(1, .gestureMove("/g", 1))) == .queued)
        #expect(queue.push(frame(2, .gestureMove("/g", 2))) == .queued)
        #expect(queue.push(frame(3, .gestureMove("/g", 1))) == .coalesced)
        #expect(drain(&queue) == [3, 2])
    }

    @Test func fullQueueOverflowsUnlessTheFrameCoalesces() {
        var queue = OutboundQueue(maxFrames: 3, maxBytes: 10_000)
        #expect(queue.push(frame(2)) == .queued)
        #expect(queue.push(frame(1, .param("/a"))) == .queued)
        #expect(queue.push(frame(3, .param("/b"))) == .queued)
        #expect(queue.push(frame(4)) == .overflow)
        #expect(queue.push(frame(5, .param("/c"))) == .overflow)
        #expect(queue.push(frame(6, .param("/a"))) == .coalesced)
        #expect(drain(&queue) == [2, 6, 3])
    }

    @Test func nothingIsFoldedAcrossAFrameWithoutKey() {
        // /a=1, event, /a=2: replacing 1 by 2 would deliver /a=2 before the event that
        // preceded it, so 2 is queued behind the event instead.
        var queue = OutboundQueue(maxFrames: 10, maxBytes: 10_000)
        #expect(queue.push(frame(1, .param("/a"))) == .queued)
        #expect(queue.push(frame(2)) == .queued)
        #expect(queue.push(frame(3, .param("/a"))) == .queued)
        #expect(queue.push(frame(4, .param("/a"))) == .coalesced)
        #expect(drain(&queue) == [1, 2, 4])
    }

    @Test func byteLimitOverflows() {
        var queue = OutboundQueue(maxFrames: 100, maxBytes: 100)
        #expect(queue.push(frame(1, size: 60, .param("/a"))) == .queued)
        #expect(queue.push(frame(2, size: 40, .param("/b"))) == .queued)
        #expect(queue.push(frame(3, size: 1)) == .overflow)
        // A replacement that would grow past the byte limit overflows too.
        #expect(queue.push(frame(4, size: 61, .param("/a"))) == .overflow)
        #expect(queue.push(frame(5, size: 10, .param("/a"))) == .coalesced)
        #expect(queue.byteCount == 50)
        #expect(drain(&queue) == [5, 2])
    }

    @Test func oneOversizedFrameFitsIntoAnEmptyQueue() {
        var queue = OutboundQueue(maxFrames: 10, maxBytes: 10)
        #expect(queue.push(frame(1, size: 50)) == .queued)
        #expect(queue.push(frame(2, size: 1)) == .overflow)
    }

    @Test func keyIsForgottenOnceItsFrameLeaves() {
        var queue = OutboundQueue(maxFrames: 10, maxBytes: 10_000)
        #expect(queue.push(frame(1, .param("/a"))) == .queued)
        #expect(queue.push(frame(2)) == .queued)
        #expect(queue.popFirst()?.bytes.first == 1)
        #expect(queue.push(frame(3, .param("/a"))) == .queued)
        #expect(queue.push(frame(4, .param("/a"))) == .coalesced)
        #expect(drain(&queue) == [2, 4])
    }

    @Test func ringWrapsAndGrowsWithoutLosingOrderOrKeys() {
        var queue = OutboundQueue(maxFrames: 40, maxBytes: 1_000_000)
        var expected: [UInt8] = []
        var next: UInt8 = 0
        var popped: [UInt8] = []
        // Interleave pushes and pops so the head walks around the ring while it grows.
        for round in 0..<200 {
            for _ in 0..<(round % 5) where queue.count < 40 {
                let key: CoalescingKey? = next % 3 == 0 ? .stream("/s\(next)") : nil
                #expect(queue.push(frame(next, key)) == .queued)
                expected.append(next)
                next &+= 1
            }
            if round % 2 == 0, let first = queue.popFirst() { popped.append(first.bytes[0]) }
        }
        popped += drain(&queue)
        #expect(popped == expected)
    }

    @Test func coalescingAfterWrapFindsTheRightSlot() {
        var queue = OutboundQueue(maxFrames: 16, maxBytes: 1_000_000)
        for tag in UInt8(0)..<10 { _ = queue.push(frame(tag)) }
        for _ in 0..<10 { _ = queue.popFirst() }
        for tag in UInt8(10)..<24 {
            _ = queue.push(frame(tag, tag == 20 ? .param("/x") : tag > 20 ? .stream("/s\(tag)") : nil))
        }
        #expect(queue.push(frame(99, .param("/x"))) == .coalesced)
        #expect(queue.push(frame(25)) == .queued)
        #expect(queue.push(frame(26)) == .queued)
        #expect(queue.push(frame(27)) == .overflow)
        #expect(drain(&queue) == Array(10..<20) + [99] + [21, 22, 23, 25, 26])
    }

    @Test func removeAllEmptiesTheQueue() {
        var queue = OutboundQueue(maxFrames: 4, maxBytes: 100)
        _ = queue.push(frame(1, .param("/a")))
        _ = queue.push(frame(2))
        queue.removeAll()
        #expect(queue.isEmpty)
        #expect(queue.byteCount == 0)
        #expect(queue.push(frame(3, .param("/a"))) == .queued)
        #expect(drain(&queue) == [3])
    }
}

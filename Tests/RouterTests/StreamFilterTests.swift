import CLASP
@testable import Router
import Testing

private let ms: UInt64 = 1_000_000
private let t0: UInt64 = 1_000_000_000

private func stream(_ value: Value?, _ address: String = "/s", timestamp: UInt64? = nil) -> Publish {
    Publish(address: address, signal: .stream, value: value, timestamp: timestamp)
}

private func batch(_ samples: [Double], _ address: String = "/s", timestamp: UInt64? = nil) -> Publish {
    Publish(address: address, signal: .stream, samples: samples, timestamp: timestamp)
}

private func encode(_ publish: Publish) throws -> [UInt8] {
    try Message.publish(publish).encodedFrame()
}

private func decode(_ bytes: [UInt8]) throws -> Publish {
    guard case .publish(let publish) = try FrameCodec.decode(bytes).message else {
        throw DecodeFailure()
    }
    return publish
}

private struct DecodeFailure: Error {}

private enum Kind: Equatable {
    case deliver, hold, drop, send(Int)
}

private func kind(_ decision: StreamDecision) -> Kind {
    switch decision {
    case .deliver: .deliver
    case .hold: .hold
    case .drop: .drop
    case .send(let frames): .send(frames.count)
    }
}

private func number(_ publish: Publish) -> Double? {
    switch publish.value {
    case .int(let integer)?: Double(integer)
    case .float(let float)?: float
    default: nil
    }
}

/// One subscriber: a filter (nil: no options) and what it received, decoded, with the time.
private struct Receiver {
    var filter: StreamFilter?
    private(set) var received: [(at: UInt64, publish: Publish)] = []
    private(set) var plainCount = 0

    init(_ options: SubscribeOptions, maxAddresses: Int = StreamFilter.defaultMaxAddresses) {
        filter = StreamFilter(options, maxAddresses: maxAddresses)
    }

    // Optional chaining mutates the filter in place (a copy would copy its held samples).
    @discardableResult
    mutating func offer(_ publish: Publish, _ bytes: [UInt8], at now: UInt64) throws -> StreamDecision {
        guard let decision = filter?.offer(publish, encoded: bytes, at: now) else {
            plainCount += 1
            return .deliver
        }
        switch decision {
        case .deliver: received.append((now, try decode(bytes)))
        case .send(let frames): for frame in frames { received.append((now, try decode(frame.bytes))) }
        case .hold, .drop: break
        }
        return decision
    }

    @discardableResult
    mutating func offer(_ publish: Publish, at now: UInt64) throws -> StreamDecision {
        try offer(publish, try encode(publish), at: now)
    }

    /// Runs every deadline up to `end`, each at its own time, as a punctual host would.
    mutating func runDue(until end: UInt64) throws {
        var rounds = 0
        while let deadline = filter?.nextDeadline, deadline <= end {
            for frame in filter?.due(at: deadline) ?? [] {
                received.append((deadline, try decode(frame.bytes)))
            }
            rounds += 1
            try #require(rounds < 1_000_000, "due(at:) makes no progress")
        }
    }

    var values: [Double] { received.compactMap { number($0.publish) } }
    var samples: [Double] { received.flatMap { $0.publish.samples ?? [] } }
}

// MARK: - maxRate

@Suite struct StreamRateTests {
    @Test func burstSendsTheFirstAtOnceAndTheLastAtTheIntervalEnd() throws {
        var receiver = Receiver(SubscribeOptions(maxRate: 10))
        for index in 0..<100 {
            let decision = try receiver.offer(stream(.int(Int64(index))), at: t0 + UInt64(index) * 100_000)
            #expect(kind(decision) == (index == 0 ? .deliver : .hold))
        }
        #expect(receiver.filter?.nextDeadline == t0 + 100 * ms)
        try receiver.runDue(until: t0 + 100 * ms - 1)
        #expect(receiver.values == [0])
        try receiver.runDue(until: t0 + 100 * ms)
        #expect(receiver.values == [0, 99])
        #expect(receiver.received.map(\.at) == [t0, t0 + 100 * ms])
        #expect(receiver.filter?.nextDeadline == nil)

        // The interval runs from the trailing delivery: a sample 50 ms later waits for 200 ms.
        #expect(kind(try receiver.offer(stream(.int(100)), at: t0 + 150 * ms)) == .hold)
        #expect(receiver.filter?.nextDeadline == t0 + 200 * ms)
        try receiver.runDue(until: .max)
        // After a quiet interval a sample goes at once.
        #expect(kind(try receiver.offer(stream(.int(101)), at: t0 + 500 * ms)) == .deliver)
        #expect(receiver.values == [0, 99, 100, 101])
    }

    @Test func steadyInputIsDownsampledToTheRateWithTheLastSampleDelivered() throws {
        var receiver = Receiver(SubscribeOptions(maxRate: 60))
        let interval: UInt64 = 16_666_667
        for index in 0..<5_000 {
            let now = t0 + UInt64(index) * 200_000
            try receiver.runDue(until: now)
            try receiver.offer(stream(.int(Int64(index)), timestamp: UInt64(index)), at: now)
        }
        try receiver.runDue(until: .max)
        #expect((59...61).contains(receiver.received.count))
        #expect(receiver.values.last == 4_999)
        for (previous, next) in zip(receiver.received, receiver.received.dropFirst()) {
            #expect(next.at - previous.at >= interval)
        }
        for delivery in receiver.received {
            let arrival = t0 + (delivery.publish.timestamp ?? 0) * 200_000
            #expect(delivery.at - arrival <= interval)
        }
    }

    @Test func rateAboveTheInputRateChangesNothing() throws {
        var receiver = Receiver(SubscribeOptions(maxRate: 10_000))
        for index in 0..<100 {
            #expect(kind(try receiver.offer(stream(.int(Int64(index))), at: t0 + UInt64(index) * 200_000)) == .deliver)
        }
        #expect(receiver.filter?.nextDeadline == nil)
    }

    @Test func heldSampleSentLateComesBeforeTheNextOne() throws {
        var receiver = Receiver(SubscribeOptions(maxRate: 10))
        try receiver.offer(stream(.int(1)), at: t0)
        #expect(kind(try receiver.offer(stream(.int(2)), at: t0 + 10 * ms)) == .hold)
        // No wake-up ran; the next offer brings out the held sample first, and itself waits.
        #expect(kind(try receiver.offer(stream(.int(3)), at: t0 + 150 * ms)) == .send(1))
        #expect(receiver.values == [1, 2])
        #expect(receiver.filter?.nextDeadline == t0 + 250 * ms)
        try receiver.runDue(until: .max)
        #expect(receiver.values == [1, 2, 3])
    }

    @Test func eachAddressHasItsOwnRate() throws {
        var receiver = Receiver(SubscribeOptions(maxRate: 10))
        #expect(kind(try receiver.offer(stream(.int(1), "/a"), at: t0)) == .deliver)
        #expect(kind(try receiver.offer(stream(.int(2), "/b"), at: t0 + 30 * ms)) == .deliver)
        #expect(kind(try receiver.offer(stream(.int(3), "/a"), at: t0 + 10 * ms)) == .hold)
        #expect(kind(try receiver.offer(stream(.int(4), "/b"), at: t0 + 40 * ms)) == .hold)
        #expect(receiver.filter?.nextDeadline == t0 + 100 * ms)
        try receiver.runDue(until: t0 + 100 * ms)
        #expect(receiver.received.last?.publish.address == "/a")
        #expect(receiver.filter?.nextDeadline == t0 + 130 * ms)
        try receiver.runDue(until: .max)
        #expect(receiver.values == [1, 2, 3, 4])
    }

    @Test func otherSignalsPassAndLeaveNoState() throws {
        var receiver = Receiver(SubscribeOptions(maxRate: 1, epsilon: 10, window: 1_000))
        for index in 0..<5 {
            let event = Publish(address: "/e", signal: .event, value: .int(1))
            #expect(kind(try receiver.offer(event, at: t0 + UInt64(index))) == .deliver)
        }
        #expect(receiver.filter?.addressCount == 0)
        #expect(receiver.filter?.nextDeadline == nil)
    }
}

// MARK: - epsilon

@Suite struct StreamEpsilonTests {
    private func decisions(epsilon: Double, _ values: [Publish]) throws -> [Kind] {
        var receiver = Receiver(SubscribeOptions(epsilon: epsilon))
        return try values.enumerated().map { kind(try receiver.offer($1, at: t0 + UInt64($0) * ms)) }
    }

    @Test func ints() throws {
        let values: [Int64] = [0, 1, 2, 3, 4, 5, 6, -10]
        #expect(try decisions(epsilon: 2, values.map { stream(.int($0)) })
            == [.deliver, .drop, .drop, .deliver, .drop, .drop, .deliver, .deliver])
    }

    @Test func floatsAndIntsCompareAsNumbers() throws {
        let values: [Value] = [.float(0), .float(0.05), .float(0.15), .float(0.2), .int(1), .float(1.05), .int(2)]
        #expect(try decisions(epsilon: 0.1, values.map { stream($0) })
            == [.deliver, .drop, .deliver, .drop, .deliver, .drop, .deliver])
    }

    @Test func zeroEpsilonDropsOnlyRepeats() throws {
        let values: [Value] = [.float(1), .float(1), .float(1.000001), .float(1.000001), .int(1)]
        #expect(try decisions(epsilon: 0, values.map { stream($0) }) == [.deliver, .drop, .deliver, .drop, .deliver])
    }

    @Test func numericArraysCompareElementByElement() throws {
        let values: [Value] = [
            .array([.int(0), .float(0), .float(0)]),
            .array([.float(0.4), .float(-0.4), .int(0)]),   // within 0.5 everywhere
            .array([.int(0), .int(0), .float(0.6)]),        // one element moved by 0.6
            .array([.int(0), .int(0)]),                     // another length
            .array([.int(0), .string("x")]),                // not numeric: passes
            .array([.int(0), .int(0)]),                     // after a non-number: passes
            .array([.int(0), .int(0)]),
        ]
        #expect(try decisions(epsilon: 0.5, values.map { stream($0) })
            == [.deliver, .drop, .deliver, .deliver, .deliver, .deliver, .drop])
    }

    @Test func sampleBatchesCompareElementByElement() throws {
        let values = [batch([1, 2, 3]), batch([1.5, 2.5, 3.5]), batch([1, 2, 5]), batch([1, 2]), batch([1, 2])]
        #expect(try decisions(epsilon: 1, values) == [.deliver, .drop, .deliver, .deliver, .drop])
    }

    @Test func otherKindsAlwaysPass() throws {
        let values: [Publish] = [
            stream(.string("a")), stream(.string("a")), stream(.bool(true)), stream(.bool(true)),
            stream(nil), stream(nil), stream(.map([(key: "x", value: .int(1))])), stream(.int(1)),
            stream(.int(1)), stream(.string("a")), stream(.int(1)),
        ]
        #expect(try decisions(epsilon: 5, values)
            == [.deliver, .deliver, .deliver, .deliver, .deliver, .deliver, .deliver, .deliver, .drop, .deliver, .deliver])
    }

    @Test func nanAndInfinityAreChanges() throws {
        let values: [Double] = [0, .nan, .nan, 0, .infinity, .infinity, 1e300]
        #expect(try decisions(epsilon: 1, values.map { stream(.float($0)) })
            == [.deliver, .deliver, .drop, .deliver, .deliver, .drop, .deliver])
    }

    @Test func eachAddressHasItsOwnReference() throws {
        let values = [stream(.int(0), "/a"), stream(.int(5), "/b"), stream(.int(5), "/a"), stream(.int(5), "/b")]
        #expect(try decisions(epsilon: 1, values) == [.deliver, .deliver, .deliver, .drop])
    }
}

// MARK: - window

@Suite struct StreamWindowTests {
    @Test func numbersBecomeOneSampleBatchInOrder() throws {
        var receiver = Receiver(SubscribeOptions(window: 100))
        let inputs: [Publish] = [
            stream(.float(0.5), timestamp: 7_000), stream(.int(2), timestamp: 7_001),
            batch([3, 4, 5], timestamp: 7_002), stream(.float(-6), timestamp: 7_003),
        ]
        for (index, publish) in inputs.enumerated() {
            #expect(kind(try receiver.offer(publish, at: t0 + UInt64(index) * 10 * ms)) == .hold)
        }
        #expect(receiver.filter?.nextDeadline == t0 + 100 * ms)
        try receiver.runDue(until: t0 + 100 * ms - 1)
        #expect(receiver.received.isEmpty)
        try receiver.runDue(until: t0 + 100 * ms)
        try #require(receiver.received.count == 1)
        let sent = receiver.received[0].publish
        #expect(sent.samples == [0.5, 2, 3, 4, 5, -6])
        #expect(sent.value == nil)
        #expect(sent.address == "/s")
        #expect(sent.signal == .stream)
        #expect(sent.timestamp == 7_000)
        #expect(receiver.filter?.nextDeadline == nil)
    }

    @Test func aSampleAtTheCloseTimeOpensTheNextWindow() throws {
        var receiver = Receiver(SubscribeOptions(window: 10))
        try receiver.offer(stream(.int(1)), at: t0)
        try receiver.runDue(until: t0 + 10 * ms - 1)
        #expect(kind(try receiver.offer(stream(.int(2)), at: t0 + 10 * ms)) == .send(1))
        #expect(receiver.samples == [1])
        #expect(receiver.filter?.nextDeadline == t0 + 20 * ms)
        try receiver.runDue(until: .max)
        #expect(receiver.samples == [1, 2])
    }

    @Test func otherValuesGoAsTheirOwnFramesInPlace() throws {
        var receiver = Receiver(SubscribeOptions(window: 100))
        let text = stream(.string("x"))
        let textBytes = try encode(text)
        let array = stream(.array([.int(1), .int(2)]))
        try receiver.offer(stream(.int(1), timestamp: 1), at: t0)
        try receiver.offer(stream(.int(2), timestamp: 2), at: t0 + 1)
        try receiver.offer(text, textBytes, at: t0 + 2)
        try receiver.offer(stream(.int(3), timestamp: 3), at: t0 + 3)
        try receiver.offer(array, at: t0 + 4)
        try receiver.offer(stream(.float(4)), at: t0 + 5)
        var filter = try #require(receiver.filter)
        let frames = filter.due(at: t0 + 100 * ms)
        try #require(frames.count == 5)
        #expect(frames[1].bytes == textBytes)
        #expect(frames.allSatisfy { $0.coalescing == .stream("/s") })
        let sent = try frames.map { try decode($0.bytes) }
        #expect(sent[0].samples == [1, 2])
        #expect(sent[0].timestamp == 1)
        #expect(sent[1].value == .string("x"))
        #expect(sent[2].samples == [3])
        #expect(sent[2].timestamp == 3)
        #expect(sent[3].value == .array([.int(1), .int(2)]))
        #expect(sent[4].samples == [4])
        #expect(sent[4].timestamp == nil)
    }

    @Test func aFullWindowIsSentAtOnce() throws {
        var receiver = Receiver(SubscribeOptions(window: 1_000))
        for index in 0..<5_000 {
            let decision = try receiver.offer(stream(.float(Double(index))), at: t0 + UInt64(index) * 1_000)
            #expect(kind(decision) == (index == StreamWindow.maxSamples ? .send(1) : .hold))
        }
        #expect(receiver.received.count == 1)
        #expect(receiver.samples.count == StreamWindow.maxSamples)
        // The sample that did not fit opened the next window.
        #expect(receiver.filter?.nextDeadline == t0 + UInt64(StreamWindow.maxSamples) * 1_000 + 1_000 * ms)
        try receiver.runDue(until: .max)
        #expect(receiver.samples == (0..<5_000).map(Double.init))
        #expect(receiver.received.allSatisfy { ($0.publish.samples?.count ?? 0) <= StreamWindow.maxSamples })
    }

    @Test func batchesThatDoNotFitCloseTheWindowOrTravelAlone() throws {
        var receiver = Receiver(SubscribeOptions(window: 1_000))
        #expect(kind(try receiver.offer(batch(Array(repeating: 1, count: 4_000)), at: t0)) == .hold)
        #expect(kind(try receiver.offer(batch(Array(repeating: 2, count: 200)), at: t0 + 1)) == .send(1))
        #expect(receiver.samples == Array(repeating: 1, count: 4_000))
        // Larger than one message: it goes as its own frame, unchanged, in its place.
        let big = batch(Array(repeating: 3, count: 5_000))
        let bigBytes = try encode(big)
        #expect(kind(try receiver.offer(big, bigBytes, at: t0 + 2)) == .hold)
        #expect(kind(try receiver.offer(stream(.int(4)), at: t0 + 3)) == .hold)
        var filter = try #require(receiver.filter)
        let frames = filter.due(at: t0 + 1 + 1_000 * ms)
        try #require(frames.count == 3)
        #expect(try decode(frames[0].bytes).samples == Array(repeating: 2, count: 200))
        #expect(frames[1].bytes == bigBytes)
        #expect(try decode(frames[2].bytes).samples == [4])
    }

    @Test func framesOfOtherValuesAreBoundedInBytes() throws {
        var receiver = Receiver(SubscribeOptions(window: 1_000))
        let text = stream(.string(String(repeating: "a", count: 30_000)))
        #expect(kind(try receiver.offer(text, at: t0)) == .hold)
        #expect(kind(try receiver.offer(text, at: t0 + 1)) == .hold)
        #expect(kind(try receiver.offer(text, at: t0 + 2)) == .send(2))
    }

    @Test func aLongAddressGetsSmallerBatchesThatStillFit() throws {
        let address = "/" + String(repeating: "x", count: 40_000)
        let capacity = (65_535 - 15 - address.utf8.count) / 8
        var receiver = Receiver(SubscribeOptions(window: 1_000))
        let numbers = (0..<capacity).map(Double.init)
        #expect(kind(try receiver.offer(batch(numbers, address, timestamp: 1), at: t0)) == .hold)
        #expect(kind(try receiver.offer(stream(.float(-1), address, timestamp: 2), at: t0 + 1)) == .send(1))
        #expect(receiver.samples == numbers)
        try receiver.runDue(until: .max)
        #expect(receiver.samples == numbers + [-1])
    }

    @Test func aLateWakeUpSendsTheClosedWindowBeforeTheNextSample() throws {
        var receiver = Receiver(SubscribeOptions(window: 100))
        try receiver.offer(stream(.int(1)), at: t0)
        try receiver.offer(stream(.int(2)), at: t0 + 10 * ms)
        #expect(kind(try receiver.offer(stream(.int(3)), at: t0 + 250 * ms)) == .send(1))
        #expect(receiver.samples == [1, 2])
        #expect(receiver.filter?.nextDeadline == t0 + 350 * ms)
    }
}

// MARK: - combinations

@Suite struct StreamCombinationTests {
    @Test func epsilonCancelsTheHeldSample() throws {
        var receiver = Receiver(SubscribeOptions(maxRate: 10, epsilon: 0.5))
        #expect(kind(try receiver.offer(stream(.float(0)), at: t0)) == .deliver)
        #expect(kind(try receiver.offer(stream(.float(1)), at: t0 + 10 * ms)) == .hold)
        #expect(receiver.filter?.nextDeadline == t0 + 100 * ms)
        // Back within epsilon of what was sent: nothing to send at the interval end.
        #expect(kind(try receiver.offer(stream(.float(0.1)), at: t0 + 20 * ms)) == .drop)
        #expect(receiver.filter?.nextDeadline == nil)
        #expect(kind(try receiver.offer(stream(.float(2)), at: t0 + 30 * ms)) == .hold)
        try receiver.runDue(until: .max)
        #expect(receiver.values == [0, 2])
    }

    @Test func rateThenWindow() throws {
        var receiver = Receiver(SubscribeOptions(maxRate: 100, window: 50))
        for index in 0..<200 {
            let now = t0 + UInt64(index) * ms
            try receiver.runDue(until: now)
            try receiver.offer(stream(.int(Int64(index))), at: now)
        }
        try receiver.runDue(until: .max)
        let accepted = receiver.samples
        #expect((19...21).contains(accepted.count))
        #expect(accepted.last == 199)
        #expect(zip(accepted, accepted.dropFirst()).allSatisfy { $1 - $0 >= 9 })
        #expect((4...5).contains(receiver.received.count))
        for (previous, next) in zip(receiver.received, receiver.received.dropFirst()) {
            #expect(next.at - previous.at >= 50 * ms)
        }
    }

    @Test func epsilonThenWindow() throws {
        var receiver = Receiver(SubscribeOptions(epsilon: 0.5, window: 100))
        for (index, value) in [0, 0.1, 0.2, 1.0, 1.1, 2].enumerated() {
            try receiver.offer(stream(.float(value)), at: t0 + UInt64(index) * ms)
        }
        try receiver.runDue(until: .max)
        #expect(receiver.samples == [0, 1, 2])
    }

    @Test func heldSampleJoinsTheWindowItsSlotFallsIn() throws {
        var receiver = Receiver(SubscribeOptions(maxRate: 10, window: 150))
        try receiver.offer(stream(.int(1)), at: t0)                  // window until 150 ms
        try receiver.offer(stream(.int(2)), at: t0 + 50 * ms)        // held until 100 ms
        #expect(receiver.filter?.nextDeadline == t0 + 100 * ms)
        try receiver.runDue(until: t0 + 149 * ms)
        #expect(receiver.received.isEmpty)
        try receiver.runDue(until: t0 + 150 * ms)
        #expect(receiver.received.count == 1)
        #expect(receiver.samples == [1, 2])
    }

    @Test func heldSampleAfterTheWindowOpensTheNext() throws {
        var receiver = Receiver(SubscribeOptions(maxRate: 10, window: 20))
        try receiver.offer(stream(.int(1)), at: t0)                  // window until 20 ms
        try receiver.offer(stream(.int(2)), at: t0 + 10 * ms)        // held until 100 ms
        var filter = try #require(receiver.filter)
        // One late wake-up for both: the window (20 ms) goes before the slot (100 ms).
        let frames = try filter.due(at: t0 + 110 * ms).map { try decode($0.bytes).samples }
        #expect(frames == [[1]])
        #expect(filter.nextDeadline == t0 + 130 * ms)
        #expect(try filter.due(at: t0 + 130 * ms).map { try decode($0.bytes).samples } == [[2]])
    }
}

// MARK: - deadlines, validation, bounds

@Suite struct StreamFilterStateTests {
    @Test func optionsThatChangeNothingMakeNoFilter() {
        #expect(StreamFilter(SubscribeOptions()) == nil)
        #expect(StreamFilter(SubscribeOptions(maxRate: 0, history: 10, window: 0)) == nil)
        #expect(StreamFilter(SubscribeOptions(epsilon: 0)) != nil)
        #expect(StreamFilter(SubscribeOptions(maxRate: 60))?.rules.interval == 16_666_667)
        #expect(StreamFilter(SubscribeOptions(window: 20))?.rules.window == 20 * ms)
    }

    @Test func validation() {
        #expect(StreamFilter.validate(SubscribeOptions(maxRate: 1_000_000, epsilon: 0, history: 1_000, window: 60_000)) == nil)
        #expect(StreamFilter.validate(SubscribeOptions(epsilon: -1)) == "epsilon must be a finite number of at least 0, got -1.0")
        #expect(StreamFilter.validate(SubscribeOptions(epsilon: .nan)) != nil)
        #expect(StreamFilter.validate(SubscribeOptions(epsilon: .infinity)) != nil)
        #expect(StreamFilter.validate(SubscribeOptions(window: 60_001)) == "window 60001 ms is above the maximum 60000 ms")
        #expect(StreamFilter.validate(SubscribeOptions(history: 1_001)) == "history 1001 is above the maximum 1000")
    }

    @Test func nextDeadlineIsTheEarliestDueOutput() throws {
        var receiver = Receiver(SubscribeOptions(maxRate: 10, window: 300))
        #expect(receiver.filter?.nextDeadline == nil)
        try receiver.offer(stream(.int(1), "/a"), at: t0)               // /a window until 300 ms
        #expect(receiver.filter?.nextDeadline == t0 + 300 * ms)
        try receiver.offer(stream(.int(2), "/a"), at: t0 + 20 * ms)     // /a held until 100 ms
        #expect(receiver.filter?.nextDeadline == t0 + 100 * ms)
        try receiver.offer(stream(.int(3), "/b"), at: t0 + 40 * ms)     // /b window until 340 ms
        #expect(receiver.filter?.nextDeadline == t0 + 100 * ms)
        var filter = try #require(receiver.filter)
        #expect(filter.due(at: t0 + 99 * ms).isEmpty)
        #expect(filter.nextDeadline == t0 + 100 * ms)
        #expect(filter.due(at: t0 + 100 * ms).isEmpty)                  // /a's held sample joined its window
        #expect(filter.nextDeadline == t0 + 300 * ms)
        #expect(filter.due(at: t0 + 300 * ms).count == 1)
        #expect(filter.nextDeadline == t0 + 340 * ms)
        #expect(filter.due(at: t0 + 340 * ms).count == 1)
        #expect(filter.nextDeadline == nil)
    }

    @Test func epsilonOnlyNeverNeedsAWakeUp() throws {
        var receiver = Receiver(SubscribeOptions(epsilon: 1))
        for index in 0..<100 {
            try receiver.offer(stream(.float(Double(index) * 0.3)), at: t0 + UInt64(index))
            #expect(receiver.filter?.nextDeadline == nil)
        }
    }

    @Test func addressesBeyondTheCapPassUnfilteredUntilOthersAreIdle() throws {
        var receiver = Receiver(SubscribeOptions(maxRate: 10), maxAddresses: 8)
        for index in 0..<20 {
            #expect(kind(try receiver.offer(stream(.int(0), "/a/\(index)"), at: t0)) == .deliver)
        }
        #expect(receiver.filter?.addressCount == 8)
        // Tracked addresses are rate limited; one beyond the cap is not.
        #expect(kind(try receiver.offer(stream(.int(1), "/a/0"), at: t0 + ms)) == .hold)
        #expect(kind(try receiver.offer(stream(.int(1), "/a/19"), at: t0 + ms)) == .deliver)
        try receiver.runDue(until: t0 + 200 * ms)
        // Every address is idle again: a new one makes the filter forget them.
        #expect(kind(try receiver.offer(stream(.int(2), "/b"), at: t0 + 300 * ms)) == .deliver)
        #expect(receiver.filter?.addressCount == 1)
        #expect(kind(try receiver.offer(stream(.int(3), "/b"), at: t0 + 301 * ms)) == .hold)
    }

    @Test func stateStaysBoundedWithManyAddresses() throws {
        var receiver = Receiver(SubscribeOptions(maxRate: 100, epsilon: 0.1, window: 20), maxAddresses: 64)
        for index in 0..<20_000 {
            let now = t0 + UInt64(index) * 50_000
            try receiver.runDue(until: now)
            try receiver.offer(stream(.float(Double(index % 7)), "/many/\(index % 500)"), at: now)
            try #require((receiver.filter?.addressCount ?? 0) <= 64)
        }
        try receiver.runDue(until: .max)
        #expect(receiver.filter?.nextDeadline == nil)
    }
}

// MARK: - history

@Suite struct StreamHistoryTests {
    private func record(_ history: inout StreamHistory, _ address: String, _ value: Int64) throws {
        let publish = stream(.int(value), address)
        history.record(publish, encoded: try encode(publish))
    }

    private func values(_ frames: [[UInt8]]) throws -> [Double] {
        try frames.compactMap { number(try decode($0)) }
    }

    private func pattern(_ text: String) throws -> AddressPattern { try AddressPattern(text) }

    @Test func ringKeepsTheNewestPerAddress() throws {
        var history = StreamHistory(maxPerAddress: 3)
        for value in 1...5 { try record(&history, "/a", Int64(value)) }
        #expect(try values(history.last(10, matching: pattern("/a"))) == [3, 4, 5])
        #expect(try values(history.last(2, matching: pattern("/a"))) == [4, 5])
        #expect(history.last(0, matching: try pattern("/a")).isEmpty)
    }

    @Test func framesComeOldestFirstAcrossAddresses() throws {
        var history = StreamHistory()
        try record(&history, "/a", 1)
        try record(&history, "/b", 2)
        try record(&history, "/a", 3)
        try record(&history, "/c/d", 4)
        #expect(try values(history.last(2, matching: pattern("/*"))) == [2, 3])
        #expect(try values(history.last(3, matching: pattern("/**"))) == [2, 3, 4])
        #expect(try values(history.last(10, matching: pattern("/**"))) == [1, 2, 3, 4])
        #expect(try values(history.last(10, matching: pattern("/a"))) == [1, 3])
        #expect(history.last(10, matching: try pattern("/x/**")).isEmpty)
    }

    @Test func onlyStreamSamplesAreKept() throws {
        var history = StreamHistory()
        let event = Publish(address: "/a", signal: .event, value: .int(1))
        history.record(event, encoded: try encode(event))
        #expect(history.addressCount == 0)
    }

    @Test func leastRecentlyPublishedAddressesAreForgotten() throws {
        var history = StreamHistory(maxAddresses: 2)
        try record(&history, "/a", 1)
        try record(&history, "/b", 2)
        try record(&history, "/a", 3)
        try record(&history, "/c", 4)
        #expect(history.addressCount == 2)
        #expect(history.last(10, matching: try pattern("/b")).isEmpty)
        #expect(try values(history.last(10, matching: pattern("/*"))) == [1, 3, 4])
    }

    @Test func bytesStayWithinTheLimit() throws {
        let frameSize = try encode(stream(.int(0), "/a/0")).count
        var history = StreamHistory(maxPerAddress: 100, maxAddresses: 100, maxBytes: frameSize * 10)
        for index in 0..<500 {
            try record(&history, "/a/\(index % 7)", Int64(index))
            #expect(history.byteCount <= frameSize * 10)
        }
        #expect(try values(history.last(1, matching: pattern("/a/*"))) == [499])
        // One address over the limit on its own keeps its newest frames.
        var single = StreamHistory(maxPerAddress: 100, maxBytes: frameSize * 3)
        for index in 0..<10 { try record(&single, "/a/0", Int64(index)) }
        #expect(try values(single.last(10, matching: pattern("/a/0"))) == [7, 8, 9])
        #expect(single.byteCount == frameSize * 3)
    }
}

// MARK: - high rate

/// One publisher at 5 kHz for 1 s, 100 subscribers with mixed options, each checked against
/// what its options promise.
@Suite struct StreamHighRateTests {
    private static let period: UInt64 = 200_000
    private static let count = 5_000

    /// A staircase: a step of 1 every 50 samples (10 ms), rising by 1e-4 per sample within
    /// a step; unique, so a value tells its sample index.
    private static func value(_ index: Int) -> Double { Double(index / 50) + Double(index % 50) * 1e-4 }
    private static func index(_ value: Double) -> Int {
        let step = value.rounded(.down)
        return Int(step) * 50 + Int(((value - step) * 1e4).rounded())
    }

    private static let configurations: [SubscribeOptions] = [
        SubscribeOptions(),
        SubscribeOptions(maxRate: 60),
        SubscribeOptions(maxRate: 1_000),
        SubscribeOptions(maxRate: 10_000),
        SubscribeOptions(epsilon: 0.002),
        SubscribeOptions(maxRate: 60, epsilon: 0.01),
        SubscribeOptions(window: 10),
        SubscribeOptions(history: 50, window: 100),
        SubscribeOptions(maxRate: 200, window: 50),
        SubscribeOptions(epsilon: 0.01, window: 20),
    ]

    @Test func everySubscriberGetsWhatItsOptionsPromise() async throws {
        var receivers = (0..<100).map { Receiver(Self.configurations[$0 % Self.configurations.count]) }
        for index in 0..<Self.count {
            // Seconds of CPU: let the network tests beside this one run (2 cooperative threads).
            if index % 10 == 0 { await Task.yield() }
            let now = t0 + UInt64(index) * Self.period
            let publish = stream(.float(Self.value(index)), "/sensor/x", timestamp: UInt64(index))
            let bytes = try encode(publish)
            for slot in receivers.indices {
                try receivers[slot].runDue(until: now)
                try receivers[slot].offer(publish, bytes, at: now)
            }
        }
        for slot in receivers.indices { try receivers[slot].runDue(until: .max) }
        for (slot, receiver) in receivers.enumerated() {
            try check(receiver, Self.configurations[slot % Self.configurations.count])
        }
    }

    private func check(_ receiver: Receiver, _ options: SubscribeOptions) throws {
        let last = Self.value(Self.count - 1)
        let rate = options.maxRate ?? 0
        let window = UInt64(options.window ?? 0) * ms
        guard receiver.filter != nil else {
            #expect(receiver.plainCount == Self.count)
            return
        }
        if window > 0 {
            let samples = receiver.samples
            #expect(receiver.received.allSatisfy { $0.publish.samples != nil })
            #expect(receiver.received.allSatisfy { ($0.publish.samples?.count ?? 0) <= StreamWindow.maxSamples })
            for (previous, next) in zip(receiver.received, receiver.received.dropFirst()) {
                #expect(next.at - previous.at >= window)
            }
            // A held sample opens its window up to one interval after it arrived.
            let interval = rate > 0 ? (1_000_000_000 + UInt64(rate) - 1) / UInt64(rate) : 0
            for delivery in receiver.received {
                let first = t0 + (delivery.publish.timestamp ?? 0) * Self.period
                #expect(delivery.at - first <= window + interval)
                #expect(delivery.publish.timestamp.map(Int.init) == delivery.publish.samples?.first.map(Self.index))
            }
            let expectedBatches = Int(1_000 * ms / window)
            #expect((expectedBatches - 1...expectedBatches + 1).contains(receiver.received.count))
            if rate > 0 {
                #expect((Int(rate) - 1...Int(rate) + 1).contains(samples.count))
                #expect(samples.last == last)
            } else if let epsilon = options.epsilon {
                #expect(zip(samples, samples.dropFirst()).allSatisfy { abs($1 - $0) > epsilon })
                #expect(abs((samples.last ?? 0) - last) <= epsilon)
            } else {
                #expect(samples == (0..<Self.count).map(Self.value))
            }
            return
        }
        let values = receiver.values
        #expect(values.count == receiver.received.count)
        if rate > 0 {
            let interval = (1_000_000_000 + UInt64(rate) - 1) / UInt64(rate)
            for (previous, next) in zip(receiver.received, receiver.received.dropFirst()) {
                #expect(next.at - previous.at >= interval)
            }
            for delivery in receiver.received {
                #expect(delivery.at - (t0 + (delivery.publish.timestamp ?? 0) * Self.period) <= interval)
            }
            let expected = min(Int(rate), Self.count)
            #expect(values.count <= expected + 1)
            if options.epsilon == nil {
                #expect(values.count >= expected - 1)
                #expect(values.last == last)
            }
        }
        if let epsilon = options.epsilon {
            #expect(zip(values, values.dropFirst()).allSatisfy { abs($1 - $0) > epsilon })
            #expect(abs((values.last ?? 0) - last) <= epsilon)
            if rate == 0 {
                // Delivered at once: at every sample, the subscriber's value is within epsilon.
                var delivered = receiver.received.makeIterator()
                var next = delivered.next()
                var current = 0.0
                for index in 0..<Self.count {
                    while let sent = next, Self.index(number(sent.publish) ?? -1) <= index {
                        current = number(sent.publish) ?? current
                        next = delivered.next()
                    }
                    #expect(abs(Self.value(index) - current) <= epsilon)
                }
            }
        }
    }
}

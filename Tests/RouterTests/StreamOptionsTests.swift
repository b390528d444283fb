import CLASP
import Router
import Testing

/// Stream subscription options through the router (docs/streams.md).
@Suite struct StreamOptionsTests {
    private func sample(_ value: Double, address: String = "/s") -> Message {
        .publish(Publish(address: address, signal: .stream, value: .float(value)))
    }

    private func streamValues(_ peer: TestPeer) -> [Double] {
        peer.take().flatMap { message -> [Double] in
            guard case .publish(let p) = message else { return [] }
            if case .float(let v)? = p.value { return [v] }
            return p.samples ?? []
        }
    }

    private func subscribe(_ h: Harness, _ peer: TestPeer, id: UInt32 = 1, _ options: SubscribeOptions?, pattern: String = "/**") {
        h.send(.subscribe(Subscribe(id: id, pattern: pattern, types: [.stream], options: options)), from: peer)
    }

    @Test func maxRateDownsamplesAndAlwaysDeliversTheLastSampleOfABurst() {
        let h = Harness()
        let sender = h.session("sender")
        let limited = h.session("limited")
        let plain = h.session("plain")
        subscribe(h, limited, SubscribeOptions(maxRate: 10))
        subscribe(h, plain, nil)
        for index in 0..<100 {
            h.send(sample(Double(index)), from: sender)
            h.clock.advance(seconds: 0.0001)
        }
        #expect(streamValues(plain).count == 100)
        #expect(streamValues(limited) == [0])
        h.advance(seconds: 0.1)
        #expect(streamValues(limited) == [99])
        h.advance(seconds: 1)
        #expect(streamValues(limited).isEmpty)
    }

    @Test func epsilonLeavesOutSmallChanges() {
        let h = Harness()
        let sender = h.session("sender")
        let reader = h.session("reader")
        subscribe(h, reader, SubscribeOptions(epsilon: 0.5))
        for value in [1.0, 1.2, 1.4, 1.6, 1.7, 2.2, 0.0] { h.send(sample(value), from: sender) }
        #expect(streamValues(reader) == [1.0, 1.6, 2.2, 0.0])
    }

    @Test func aWindowArrivesAsOneSampleBatch() {
        let h = Harness()
        let sender = h.session("sender")
        let reader = h.session("reader")
        subscribe(h, reader, SubscribeOptions(window: 50))
        for index in 0..<10 {
            h.send(sample(Double(index)), from: sender)
            h.clock.advance(seconds: 0.004)
        }
        #expect(reader.take().isEmpty)
        h.advance(seconds: 0.02)
        let messages = reader.take()
        #expect(messages.count == 1)
        guard case .publish(let batch)? = messages.first else {
            Issue.record("no batch")
            return
        }
        #expect(batch.samples == (0..<10).map(Double.init))
        #expect(batch.signal == .stream)
    }

    @Test func historyIsSentOnSubscribe() {
        let h = Harness()
        let sender = h.session("sender")
        for index in 0..<20 { h.send(sample(Double(index)), from: sender) }
        let late = h.session("late")
        subscribe(h, late, SubscribeOptions(history: 5))
        #expect(streamValues(late) == [15, 16, 17, 18, 19])
    }

    @Test func badOptionsAreRefusedWith402AndNothingIsSubscribed() {
        let h = Harness()
        let sender = h.session("sender")
        let reader = h.session("reader")
        subscribe(h, reader, SubscribeOptions(epsilon: -1))
        let errors = reader.takeErrors()
        #expect(errors.map(\.code) == [402])
        #expect(errors.first?.message.hasPrefix("invalid subscription options: ") == true)
        h.send(sample(1), from: sender)
        #expect(streamValues(reader).isEmpty)
    }

    @Test func aSessionWithAPlainSubscriptionToo_getsEverySampleOnce() {
        let h = Harness()
        let sender = h.session("sender")
        let reader = h.session("reader")
        subscribe(h, reader, id: 1, SubscribeOptions(maxRate: 1))
        subscribe(h, reader, id: 2, nil, pattern: "/s")
        for index in 0..<5 { h.send(sample(Double(index)), from: sender) }
        #expect(streamValues(reader) == [0, 1, 2, 3, 4])
        // Unsubscribing the plain one leaves the filter in charge.
        h.send(.unsubscribe(Unsubscribe(id: 2)), from: reader)
        h.clock.advance(seconds: 2)
        for index in 5..<10 { h.send(sample(Double(index)), from: sender) }
        #expect(streamValues(reader) == [5])
    }

    /// The issue's high-rate case: one publisher at 5 kHz for one second to 100 subscribers
    /// with mixed options; each receives what its options promise.
    @Test func fiveKilohertzToAHundredSubscribersWithMixedOptions() async {
        let h = Harness()
        let sender = h.session("sender")
        let kinds: [SubscribeOptions?] = [nil, SubscribeOptions(maxRate: 60), SubscribeOptions(epsilon: 0.5), SubscribeOptions(window: 100)]
        var readers: [(TestPeer, SubscribeOptions?)] = []
        for index in 0..<100 {
            let reader = h.session("r\(index)")
            subscribe(h, reader, kinds[index % kinds.count])
            readers.append((reader, kinds[index % kinds.count]))
        }
        var received = Array(repeating: [Double](), count: 100)
        for tick in 0..<5_000 {
            // A ramp that climbs 0.1 per sample: epsilon 0.5 lets every sixth one through.
            h.send(sample(Double(tick) * 0.1), from: sender)
            h.clock.advance(seconds: 0.0002)
            // Seconds of CPU: let the network tests beside this one run (2 cooperative threads).
            if tick % 10 == 0 { await Task.yield() }
            if tick % 50 == 49 {
                h.router.runTimers()
                for (index, reader) in readers.enumerated() { received[index] += streamValues(reader.0) }
            }
        }
        h.advance(seconds: 0.2)
        for (index, reader) in readers.enumerated() { received[index] += streamValues(reader.0) }
        let last = 4_999 * 0.1
        for (index, (_, options)) in readers.enumerated() {
            let values = received[index]
            // The last sample always arrives; with epsilon, one within epsilon of it.
            let tolerance = (options?.epsilon ?? 0) + 1e-9
            #expect(values.last.map { abs($0 - last) <= tolerance } == true, "subscriber \(index) missed the last sample")
            switch index % kinds.count {
            case 0: #expect(values.count == 5_000)
            case 1: #expect((60...62).contains(values.count), "maxRate 60: \(values.count)")
            case 2: #expect((833...834).contains(values.count), "epsilon: \(values.count)")
            default: #expect(values.count == 5_000, "window keeps every sample: \(values.count)")
            }
            #expect(values == values.sorted(), "subscriber \(index) got samples out of order")
        }
    }
}

import CLASP
import Testing

@Suite struct ClockSyncTests {
    /// Times of one exchange against a server whose clock reads `offset` µs ahead of ours.
    static func exchange(
        at t1: UInt64 = 1_700_000_000_000_000,
        offset: Int64,
        up: UInt64,
        down: UInt64,
        hold: UInt64 = 5
    ) -> (t1: UInt64, t2: UInt64, t3: UInt64, t4: UInt64) {
        let t2 = UInt64(Int64(t1 + up) + offset)
        let t3 = t2 + hold
        let t4 = UInt64(Int64(t3) - offset) + down
        return (t1, t2, t3, t4)
    }

    static func add(_ clock: inout ClockSync, offset: Int64, up: UInt64, down: UInt64, at t1: UInt64 = 1_700_000_000_000_000) {
        let times = exchange(at: t1, offset: offset, up: up, down: down)
        let accepted = clock.add(t1: times.t1, t2: times.t2, t3: times.t3, t4: times.t4)
        #expect(accepted)
    }

    @Test func symmetricDelaysGiveTheExactOffset() {
        for offset: Int64 in [0, 2_500, -2_500, 3_600_000_000] {
            var clock = ClockSync()
            Self.add(&clock, offset: offset, up: 40, down: 40)
            #expect(clock.offset == offset)
            #expect(clock.roundTrip == 80)
            #expect(clock.errorBound == 40)
            #expect(clock.serverTime(atLocal: 10_000_000_000) == UInt64(10_000_000_000 + offset))
        }
    }

    @Test func sampleArithmeticFollowsTheWireFormat() throws {
        // t1 = 100, t2 = 1_150, t3 = 1_160, t4 = 230: round trip (230 − 100) − 10 = 120,
        // offset ((1_150 − 100) + (1_160 − 230)) / 2 = 990.
        let sample = try #require(ClockSync.Sample(t1: 100, t2: 1_150, t3: 1_160, t4: 230))
        #expect(sample.roundTrip == 120)
        #expect(sample.offset == 990)
        #expect(sample.errorBound == 60)
        // A server behind us: negative offset.
        let behind = try #require(ClockSync.Sample(t1: 5_000, t2: 3_020, t3: 3_020, t4: 5_040))
        #expect(behind.offset == -2_000)
        #expect(behind.roundTrip == 40)
    }

    @Test func aSlowLopsidedOutlierDoesNotMoveTheEstimate() {
        var clock = ClockSync()
        for round in 0..<5 {
            Self.add(&clock, offset: 1_000, up: 50 + UInt64(round), down: 50 + UInt64(round))
        }
        #expect(clock.offset == 1_000)
        // 10 ms stuck on the way up: this sample alone says the offset is 5 ms more.
        Self.add(&clock, offset: 1_000, up: 10_000, down: 50)
        #expect(clock.offset == 1_000)
        #expect(clock.sampleCount == 6)
    }

    @Test func aFastLopsidedSampleIsOutvoted() {
        var clock = ClockSync()
        for _ in 0..<4 {
            Self.add(&clock, offset: -300, up: 60, down: 60)
        }
        // The fastest exchange yet, but all of its delay on one leg: offset off by 20 µs.
        Self.add(&clock, offset: -300, up: 40, down: 0)
        #expect(clock.offset == -300)
        #expect(abs(clock.offset - -300) <= clock.errorBound)
    }

    @Test func theEstimateFollowsTheFastestSamples() {
        var clock = ClockSync()
        // Slow exchanges with their delay mostly on the way up (offset overestimated by 150),
        // then three fast symmetric ones: the estimate moves to the precise value.
        for _ in 0..<5 {
            Self.add(&clock, offset: 700, up: 400, down: 100)
        }
        #expect(clock.offset == 850)
        for _ in 0..<3 {
            Self.add(&clock, offset: 700, up: 20, down: 20)
        }
        #expect(clock.offset == 700)
        #expect(clock.roundTrip == 40)
    }

    @Test func emaWouldLagWhereTheFilterDoesNot() {
        // The reference EMA after a slow first sample still carries 70 % of its error after
        // one good sample; the filter drops it as soon as a faster sample arrives.
        var clock = ClockSync()
        Self.add(&clock, offset: 0, up: 2_000, down: 0)
        #expect(clock.offset == 1_000)
        Self.add(&clock, offset: 0, up: 30, down: 30)
        #expect(clock.offset == 0)
    }

    @Test func jitterIsTheStandardDeviationOfTheWindowsRoundTrips() {
        var clock = ClockSync()
        #expect(clock.jitter == 0)
        // Round trips 100, 200, 300, 400: mean 250, population deviation √12,500.
        for rtt: UInt64 in [100, 200, 300, 400] {
            Self.add(&clock, offset: 0, up: rtt / 2, down: rtt / 2)
        }
        #expect(abs(clock.jitter - 12_500.0.squareRoot()) < 1e-9)
        var steady = ClockSync()
        for _ in 0..<4 { Self.add(&steady, offset: 7, up: 25, down: 25) }
        #expect(steady.jitter == 0)
    }

    @Test func keepsTheLastTenSamples() {
        var clock = ClockSync()
        // Fifteen samples whose round trips grow: only the last ten remain, so the fastest
        // kept is the sixth.
        for index in 0..<15 {
            let rtt = UInt64(100 + 10 * index)
            Self.add(&clock, offset: Int64(index), up: rtt / 2, down: rtt / 2)
        }
        #expect(clock.samples.count == ClockSync.windowSize)
        #expect(clock.sampleCount == 15)
        #expect(clock.samples.first?.roundTrip == 150)
        #expect(clock.samples.last?.roundTrip == 240)
        // Fastest three in the window: offsets 5, 6, 7 → median 6.
        #expect(clock.offset == 6)
        #expect(clock.roundTrip == 160)
        // Jitter over the ten kept round trips 150…240: population deviation √825.
        #expect(abs(clock.jitter - 825.0.squareRoot()) < 1e-9)
    }

    @Test func impossibleSamplesAreIgnored() {
        var clock = ClockSync()
        Self.add(&clock, offset: 500, up: 30, down: 30)
        let before = clock
        let impossible: [(UInt64, UInt64, UInt64, UInt64)] = [
            (2_000, 2_500, 2_510, 1_999),  // t4 before t1
            (2_000, 2_500, 2_499, 2_100),  // t3 before t2
            (2_000, 2_500, 2_700, 2_100),  // held longer than the exchange took: negative round trip
            // Extremes: refused without overflowing.
            (.max, 0, 0, 0),
            (0, .max, 0, .max),
            (0, .max, .max, .max),  // round trip beyond Int64
            (0, .max, .max, 0),  // offset beyond Int64
        ]
        for (t1, t2, t3, t4) in impossible {
            let accepted = clock.add(t1: t1, t2: t2, t3: t3, t4: t4)
            #expect(!accepted)
        }
        #expect(clock.rejectedCount == 7)
        #expect(clock.samples == before.samples)
        #expect(clock.offset == before.offset)
        #expect(clock.sampleCount == 1)
    }

    @Test func extremeButPossibleTimesDoNotOverflow() throws {
        // A server clock near the top of the range, a client at zero.
        let sample = try #require(ClockSync.Sample(t1: 0, t2: UInt64(Int64.max), t3: UInt64(Int64.max), t4: 10))
        #expect(sample.roundTrip == 10)
        #expect(sample.offset == Int64.max - 5)
        var clock = ClockSync()
        clock.add(sample)
        #expect(clock.serverTime(atLocal: .max) == .max)
        var behind = ClockSync()
        Self.add(&behind, offset: -1_000_000, up: 10, down: 10, at: 2_000_000)
        #expect(behind.serverTime(atLocal: 10) == 0)
    }

    @Test func beforeAnySampleNothingIsKnown() {
        let clock = ClockSync()
        #expect(!clock.isSynchronized)
        #expect(clock.offset == 0)
        #expect(clock.errorBound == .max)
        #expect(clock.serverTime(atLocal: 42) == 42)
    }
}

import Benchmark

// The state issue's stress scenarios (docs/benchmarks.md, "State"), each against an
// in-process gateway wired as the real one (`Lab`). Every iteration checks what arrived —
// counts, values, order — and throws when something is missing, so a broken run fails
// instead of being measured. Every wait has a deadline and every loop a bound.

/// One `Lab` per benchmark (package-benchmark runs each benchmark in a process of its own).
func stateConfiguration(
    _ metrics: [BenchmarkMetric], warmup: Int = 1, maxIterations: Int, maxDuration: Duration = .seconds(30),
    setup: @escaping @Sendable () async throws -> Void
) -> Benchmark.Configuration {
    .init(
        metrics: metrics,
        timeUnits: .microseconds,
        warmupIterations: warmup,
        maxDuration: maxDuration,
        maxIterations: maxIterations,
        setup: setup,
        teardown: { try await Lab.stop() }
    )
}

let preloadCount = 10_000

let benchmarks: @Sendable () -> Void = {
    // 1. A late joiner against 10,000 params (budget: complete in ≤ 50 ms).
    Benchmark(
        "Late joiner, 10,000 params",
        configuration: stateConfiguration(
            [helloSnapshotTime, subscribeSnapshotTime], warmup: 5, maxIterations: 300, maxDuration: .seconds(20),
            setup: { try await Lab.start(preload: preloadCount) })
    ) { benchmark in
        try await lateJoiner(benchmark)
    }

    // 2. 200 late joiners at once against the same 10,000 params.
    Benchmark(
        "Late-joiner storm, 200 clients, 10,000 params",
        configuration: stateConfiguration(
            [stormTotalTime, stormClientTime, stormSubscribeTime], maxIterations: 8, maxDuration: .seconds(60),
            setup: { try await Lab.start(preload: preloadCount) })
    ) { benchmark in
        try await lateJoinerStorm(benchmark)
    }

    // 3. One bundle due 20 ms ahead (budget: executed within ±1 ms, p99).
    Benchmark(
        "Scheduled bundle, 20 ms ahead",
        configuration: stateConfiguration(
            [bundleExecuted, bundleExecutedEarly, bundleDelivered, immediateHop], warmup: 10, maxIterations: 400,
            maxDuration: .seconds(20),
            setup: {
                try await Lab.start()
                let lab = try Lab.running()
                try await lab.keep(["sender"])
                try await lab.keep(["subscriber"], subscribing: "/bench/**")
            })
    ) { benchmark in
        try await scheduledBundlePrecision(benchmark)
    }

    // 4. 1,000 bundles (10 senders × 100) due at the same instant, two subscribers.
    Benchmark(
        "Scheduled-bundle cascade, 10 × 100 bundles",
        configuration: stateConfiguration(
            [cascadeFirstExecuted, cascadeLastExecuted, cascadeEarly, cascadeFirst, cascadeLast, cascadeOrderBreaks, cascadeSending],
            warmup: 2, maxIterations: 40,
            setup: {
                try await Lab.start()
                let lab = try Lab.running()
                try await lab.keep((0..<10).map { "sender-\($0)" })
                try await lab.keep(["subscriber-0", "subscriber-1"], subscribing: "/bench/cascade/**")
            })
    ) { benchmark in
        try await scheduledBundleCascade(benchmark, senders: 10, perSender: 100, subscribers: 2)
    }

    // 5. Back-pressure: 2 s of SETs (coalescible) or events (never coalesced) to 4 addresses,
    // 5 live subscribers and 1 that stopped reading. Flat out, events outrun what the
    // `CLASPClient` subscribers read, so they are paced in one variant.
    let backPressureMetrics = [
        pumpRate, liveRate, liveLag, liveCatchUp, liveCutOff, stalledDelivered, stalledKept, stalledGot503, stalledClosedAfter,
        rssBefore, rssPeak, rssAfter,
    ]
    Benchmark(
        "Back-pressure, SETs flat out, 1 stalled of 6 subscribers",
        configuration: stateConfiguration(backPressureMetrics, warmup: 0, maxIterations: 3, setup: { try await Lab.start() })
    ) { benchmark in
        try await backPressure(benchmark, kind: .sets)
    }
    Benchmark(
        "Back-pressure, events at 25,000/s, 1 stalled of 6 subscribers",
        configuration: stateConfiguration(backPressureMetrics, warmup: 0, maxIterations: 3, setup: { try await Lab.start() })
    ) { benchmark in
        try await backPressure(benchmark, kind: .events, perSecond: 25_000)
    }
    Benchmark(
        "Back-pressure, events flat out, 1 stalled of 6 subscribers",
        configuration: stateConfiguration(backPressureMetrics, warmup: 0, maxIterations: 3, setup: { try await Lab.start() })
    ) { benchmark in
        try await backPressure(benchmark, kind: .events)
    }

    // 6. 10,000 addresses: fire SETs to one subscriber (a `CLASPClient`, and a raw socket
    // read by a thread of its own), then QoS-commit SETs one at a time, 64 in flight, and
    // all 20,000 pipelined.
    Benchmark(
        "10,000 addresses, SET fire, 1 subscriber (CLASPClient)",
        configuration: stateConfiguration(
            [appliedRate, endToEndRate, coalescedCount, rssBefore, rssHolding], maxIterations: 5, setup: { try await Lab.start() })
    ) { benchmark in
        try await manyAddressesFire(benchmark, total: 200_000)
    }
    Benchmark(
        "10,000 addresses, SET fire, 1 subscriber (raw socket)",
        configuration: stateConfiguration([appliedRate, endToEndRate, coalescedCount], maxIterations: 5, setup: { try await Lab.start() })
    ) { benchmark in
        try await manyAddressesFireRaw(benchmark, total: 200_000)
    }
    Benchmark(
        "10,000 addresses, SET commit, one at a time",
        configuration: stateConfiguration(
            [commitRate, commitLatency, commitsPerTransaction], maxIterations: 5, setup: { try await Lab.start() })
    ) { benchmark in
        try await manyAddressesCommit(benchmark, total: 500, window: 1)
    }
    Benchmark(
        "10,000 addresses, SET commit, 64 in flight",
        configuration: stateConfiguration(
            [commitRate, commitLatency, commitsPerTransaction], maxIterations: 5, setup: { try await Lab.start() })
    ) { benchmark in
        try await manyAddressesCommit(benchmark, total: 5_000, window: 64)
    }
    Benchmark(
        "10,000 addresses, SET commit, pipelined",
        configuration: stateConfiguration(
            [commitRate, commitLatency, commitsPerTransaction], maxIterations: 5, setup: { try await Lab.start() })
    ) { benchmark in
        try await manyAddressesCommit(benchmark, total: 20_000, window: 20_000)
    }
}

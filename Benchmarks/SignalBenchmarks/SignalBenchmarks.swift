import Benchmark
import CLASP
import Router

// Gesture coalescing, timeline ticks and stream fan-out with options, on a `RouterCore` in
// memory (Lab.swift). Times are measured by the benchmark itself, as thread CPU time (what the
// router costs; the machine is shared) and wall time, and reported as custom metrics: the
// plugin's own CPU metric has scheduler-tick (10 ms) resolution on Linux. Scenario set-up
// (sessions, subscriptions, encoding the input) is never inside a measurement.
//
// The plugin keeps values in histograms with three significant digits, exact only below
// 2,048, so counts are reported in units that stay below it (‰, 10 µs, % of samples) and
// the exact promises are asserted: a scenario that breaks one fails the benchmark.

let movesDelivered = BenchmarkMetric.custom("moves delivered per subscriber", useScalingFactor: false)
let reduction = BenchmarkMetric.custom("reduction (‰ of moves sent)", polarity: .prefersLarger, useScalingFactor: false)
let maxMoveDelay = BenchmarkMetric.custom("max delay to a move as new (10 µs)", useScalingFactor: false)
let cpuPerMove = BenchmarkMetric.custom("CPU per input move (ns)", useScalingFactor: false)
let wallPerMove = BenchmarkMetric.custom("wall per input move (ns)", useScalingFactor: false)
let gestureWakeUps = BenchmarkMetric.custom("timer wake-ups during the gesture", useScalingFactor: false)
let idleWakeUps = BenchmarkMetric.custom("timer wake-ups in the 31 s after the end", useScalingFactor: false)

let tickCPU = BenchmarkMetric.custom("tick CPU (ns)", useScalingFactor: false)
let tickWall = BenchmarkMetric.custom("tick wall (ns)", useScalingFactor: false)
let timelineCPU = BenchmarkMetric.custom("CPU per timeline per tick (ns)", useScalingFactor: false)
let valuesPerTick = BenchmarkMetric.custom("values (SETs) per tick", polarity: .prefersLarger, useScalingFactor: false)
let tickInterval = BenchmarkMetric.custom("time to the next tick asked (100 µs)", useScalingFactor: false)

let cpuPerSample = BenchmarkMetric.custom("CPU per published sample (ns)", useScalingFactor: false)
let wallPerSample = BenchmarkMetric.custom("wall per published sample (ns)", useScalingFactor: false)
let cpuPerFrame = BenchmarkMetric.custom("CPU per delivered frame (ns)", useScalingFactor: false)
let framesPlain = BenchmarkMetric.custom("frames: no options (% of samples)", polarity: .prefersLarger, useScalingFactor: false)
let framesMaxRate = BenchmarkMetric.custom("frames: maxRate 60", polarity: .prefersLarger, useScalingFactor: false)
let framesEpsilon = BenchmarkMetric.custom("frames: epsilon 0.5", polarity: .prefersLarger, useScalingFactor: false)
let framesWindow = BenchmarkMetric.custom("frames: window 50 ms (batches)", polarity: .prefersLarger, useScalingFactor: false)
let windowSamples = BenchmarkMetric.custom("samples in the window batches (% of samples)", polarity: .prefersLarger, useScalingFactor: false)

func configuration(_ metrics: [BenchmarkMetric], maxIterations: Int) -> Benchmark.Configuration {
    .init(
        metrics: metrics,
        timeUnits: .nanoseconds,
        // Plain numbers: automatic scaling would print 18 K for 18,352.
        units: Dictionary(uniqueKeysWithValues: metrics.map { ($0, BenchmarkUnits.count) }),
        warmupIterations: 2,
        scalingFactor: .one,
        maxDuration: .seconds(10),
        maxIterations: maxIterations
    )
}

let benchmarks: @Sendable () -> Void = {
    for rate in [60, 120, 240] {
        for subscribers in [1, 100] {
            let metrics = [movesDelivered, reduction, maxMoveDelay, cpuPerMove, wallPerMove, gestureWakeUps, idleWakeUps]
            Benchmark(
                "Gesture \(rate) Hz, 10 s, \(subscribers) subscriber\(subscribers == 1 ? "" : "s")",
                configuration: configuration(metrics, maxIterations: subscribers == 1 ? 300 : 100)
            ) { benchmark in
                let outcome = try GestureScenario.run(rate: rate, subscribers: subscribers)
                benchmark.measurement(movesDelivered, outcome.movesDelivered)
                // Rounded to the nearest ‰.
                benchmark.measurement(reduction, ((outcome.movesSent - outcome.movesDelivered) * 1_000 + outcome.movesSent / 2) / outcome.movesSent)
                benchmark.measurement(maxMoveDelay, Int(outcome.maxDelay / 10_000))
                benchmark.measurement(cpuPerMove, Int(outcome.cpu) / outcome.movesSent)
                benchmark.measurement(wallPerMove, Int(outcome.wall) / outcome.movesSent)
                benchmark.measurement(gestureWakeUps, outcome.wakeUps)
                benchmark.measurement(idleWakeUps, outcome.wakeUpsAfterEnd)
            }
        }
    }

    // Each iteration: a fresh engine with the 1,000 timelines (not measured), then 100 ticks
    // 10 ms apart (1 s of playing), each measured on its own.
    Benchmark(
        "Timeline engine, 1,000 timelines, tick at 100 Hz",
        configuration: configuration([tickCPU, tickWall, timelineCPU, valuesPerTick], maxIterations: 200)
    ) { benchmark in
        var now = ManualClock.wallAtStart
        var engine = try TimelineScenario.engine(now: now)
        for _ in 0..<100 {
            now += TimelineScenario.tickMicroseconds
            let stopwatch = Stopwatch()
            let updates = engine.tick(now: now)
            let (cpu, wall) = stopwatch.read()
            blackHole(updates.count)
            benchmark.measurement(tickCPU, Int(cpu))
            benchmark.measurement(tickWall, Int(wall))
            benchmark.measurement(timelineCPU, Int(cpu) / TimelineScenario.count)
            benchmark.measurement(valuesPerTick, updates.count)
        }
    }

    // Each iteration: a router with the 1,000 timelines and 1,000 subscribers (not measured),
    // then 100 ticks as the host timer fires them, each measured on its own: `runTimers()`
    // with the engine, the param writes and the SET fan-out.
    Benchmark(
        "Timelines through RouterCore, 1,000 timelines, 1 subscriber each",
        configuration: configuration([tickCPU, tickWall, timelineCPU, valuesPerTick, tickInterval], maxIterations: 40)
    ) { benchmark in
        let (lab, subscribers) = try TimelineScenario.router()
        var delivered = subscribers.reduce(0) { $0 + $1.paramEchoes }
        for _ in 0..<100 {
            guard let deadline = lab.armed else { throw BenchmarkFailure("no tick armed") }
            guard deadline - lab.clock.now == TimelineScenario.tickMicroseconds * 1_000 else {
                throw BenchmarkFailure("next tick asked \(deadline - lab.clock.now) ns on, not 10 ms")
            }
            benchmark.measurement(tickInterval, Int((deadline - lab.clock.now) / 100_000))
            let stopwatch = Stopwatch()
            lab.advance(to: deadline)
            let (cpu, wall) = stopwatch.read()
            let total = subscribers.reduce(0) { $0 + $1.paramEchoes }
            benchmark.measurement(tickCPU, Int(cpu))
            benchmark.measurement(tickWall, Int(wall))
            benchmark.measurement(timelineCPU, Int(cpu) / TimelineScenario.count)
            benchmark.measurement(valuesPerTick, total - delivered)
            delivered = total
        }
    }

    Benchmark(
        "Stream 5 kHz, 1 s, 100 subscribers with mixed options",
        configuration: configuration(
            [cpuPerSample, wallPerSample, cpuPerFrame, framesPlain, framesMaxRate, framesEpsilon, framesWindow, windowSamples],
            maxIterations: 100)
    ) { benchmark in
        let outcome = try StreamScenario.run(mixed: true)
        benchmark.measurement(cpuPerSample, Int(outcome.cpu) / StreamScenario.samples)
        benchmark.measurement(wallPerSample, Int(outcome.wall) / StreamScenario.samples)
        benchmark.measurement(cpuPerFrame, Int(outcome.cpu) / outcome.framesDelivered)
        benchmark.measurement(framesPlain, (outcome.frames[.plain] ?? 0) * 100 / StreamScenario.samples)
        benchmark.measurement(framesMaxRate, outcome.frames[.maxRate] ?? 0)
        benchmark.measurement(framesEpsilon, outcome.frames[.epsilon] ?? 0)
        benchmark.measurement(framesWindow, outcome.frames[.window] ?? 0)
        benchmark.measurement(windowSamples, outcome.windowSamples * 100 / StreamScenario.samples)
    }

    Benchmark(
        "Stream 5 kHz, 1 s, 100 subscribers without options",
        configuration: configuration([cpuPerSample, wallPerSample, cpuPerFrame, framesPlain], maxIterations: 100)
    ) { benchmark in
        let outcome = try StreamScenario.run(mixed: false)
        benchmark.measurement(cpuPerSample, Int(outcome.cpu) / StreamScenario.samples)
        benchmark.measurement(wallPerSample, Int(outcome.wall) / StreamScenario.samples)
        benchmark.measurement(cpuPerFrame, Int(outcome.cpu) / outcome.framesDelivered)
        benchmark.measurement(framesPlain, (outcome.frames[.plain] ?? 0) * 100 / StreamScenario.samples)
    }
}

import Benchmark
import CLASP

// SET of an f64 to a 30-character address (the design budget's workload), with and without
// a revision, and a PUBLISH event; encode = complete frame, decode = complete frame.

let address30 = "/lumen/scene/0/layer/3/opacity"  // 30 bytes
let setPlain = SetMessage(address: address30, value: .float(0.75))
let setRevision = SetMessage(address: address30, value: .float(0.75), revision: 41)
let publishEvent = Publish(address: "/cue/fire/intro", signal: .event, value: .float(1.0), timestamp: 1_704_067_200_000_000)

func frame(_ encode: () throws(CodecError) -> [UInt8]) -> [UInt8] {
    do { return try encode() } catch { return [] }
}

let setPlainFrame = frame { () throws(CodecError) in try setPlain.encodedFrame() }
let setRevisionFrame = frame { () throws(CodecError) in try setRevision.encodedFrame() }
let publishEventFrame = frame { () throws(CodecError) in try publishEvent.encodedFrame() }

// Non-generic sinks: `blackHole` is generic and not specialised across modules, so it would
// copy a `DecodedFrame` through value witnesses — cost that belongs to the harness, not the
// codec. These keep the result alive and destroy it the way a real caller would.
@inline(never) func sink(_ frame: DecodedFrame) { blackHole(frame.header.payloadLength) }
@inline(never) func sink(_ bytes: [UInt8]) { blackHole(bytes.count) }

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock],
        timeUnits: .nanoseconds,
        warmupIterations: 100,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 100_000
    )

    Benchmark("SET f64 encode (30-char address)") { benchmark in
        let setPlain = CodecBenchmarks.setPlain
        for _ in benchmark.scaledIterations {
            sink(try setPlain.encodedFrame())
        }
    }
    Benchmark("SET f64 + revision encode") { benchmark in
        let setRevision = CodecBenchmarks.setRevision
        for _ in benchmark.scaledIterations {
            sink(try setRevision.encodedFrame())
        }
    }
    Benchmark("SET f64 encode via Message") { benchmark in
        let message = Message.set(setPlain)
        for _ in benchmark.scaledIterations {
            sink(try message.encodedFrame())
        }
    }
    Benchmark("SET f64 decode (30-char address)") { benchmark in
        let setPlainFrame = CodecBenchmarks.setPlainFrame
        for _ in benchmark.scaledIterations {
            sink(try FrameCodec.decode(setPlainFrame))
        }
    }
    Benchmark("SET f64 + revision decode") { benchmark in
        let setRevisionFrame = CodecBenchmarks.setRevisionFrame
        for _ in benchmark.scaledIterations {
            sink(try FrameCodec.decode(setRevisionFrame))
        }
    }
    Benchmark("PUBLISH event encode") { benchmark in
        let publishEvent = CodecBenchmarks.publishEvent
        for _ in benchmark.scaledIterations {
            sink(try publishEvent.encodedFrame())
        }
    }
    Benchmark("PUBLISH event decode") { benchmark in
        let publishEventFrame = CodecBenchmarks.publishEventFrame
        for _ in benchmark.scaledIterations {
            sink(try FrameCodec.decode(publishEventFrame))
        }
    }
    #if COUNT_MALLOCS
    // Allocation counts: only with the malloc interposer (CLASP_BENCH_COUNT_MALLOCS=1, see
    // Package.swift), which also slows every allocation, so timings from that build are not used.
    Benchmark("allocations: SET f64 encode", configuration: .init(metrics: [.mallocCountTotal], scalingFactor: .one, maxIterations: 10_000)) { benchmark in
        let setPlain = CodecBenchmarks.setPlain
        for _ in benchmark.scaledIterations {
            sink(try setPlain.encodedFrame())
        }
    }
    Benchmark("allocations: SET f64 decode", configuration: .init(metrics: [.mallocCountTotal], scalingFactor: .one, maxIterations: 10_000)) { benchmark in
        let setPlainFrame = CodecBenchmarks.setPlainFrame
        for _ in benchmark.scaledIterations {
            sink(try FrameCodec.decode(setPlainFrame))
        }
    }
    #endif
}

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

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        timeUnits: .nanoseconds,
        warmupIterations: 100,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 100_000
    )

    Benchmark("SET f64 encode (30-char address)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try setPlain.encodedFrame())
        }
    }
    Benchmark("SET f64 + revision encode") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try setRevision.encodedFrame())
        }
    }
    Benchmark("SET f64 encode via Message") { benchmark in
        let message = Message.set(setPlain)
        for _ in benchmark.scaledIterations {
            blackHole(try message.encodedFrame())
        }
    }
    Benchmark("SET f64 decode (30-char address)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try FrameCodec.decode(setPlainFrame))
        }
    }
    Benchmark("SET f64 + revision decode") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try FrameCodec.decode(setRevisionFrame))
        }
    }
    Benchmark("PUBLISH event encode") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try publishEvent.encodedFrame())
        }
    }
    Benchmark("PUBLISH event decode") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try FrameCodec.decode(publishEventFrame))
        }
    }
}

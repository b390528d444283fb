import CLASP

// A plain loop over the benchmark workloads, for `perf record` (not part of the benchmark run).
// Usage: CodecProfile [encode|decode|publish-encode|publish-decode] [iterations]
let arguments = CommandLine.arguments
let mode = arguments.count > 1 ? arguments[1] : "encode"
let iterations = arguments.count > 2 ? Int(arguments[2]) ?? 10_000_000 : 10_000_000
let set = SetMessage(address: "/lumen/scene/0/layer/3/opacity", value: .float(0.75))
let publish = Publish(address: "/cue/fire/intro", signal: .event, value: .float(1.0), timestamp: 1_704_067_200_000_000)

@inline(never) func consume<T>(_ value: T) { withExtendedLifetime(value) {} }

func run() throws(CodecError) {
    let setFrame = try set.encodedFrame()
    let publishFrame = try publish.encodedFrame()
    let start = ContinuousClock.now
    switch mode {
    case "decode": for _ in 0 ..< iterations { consume(try FrameCodec.decode(setFrame)) }
    case "publish-encode": for _ in 0 ..< iterations { consume(try publish.encodedFrame()) }
    case "publish-decode": for _ in 0 ..< iterations { consume(try FrameCodec.decode(publishFrame)) }
    default: for _ in 0 ..< iterations { consume(try set.encodedFrame()) }
    }
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    print("\(mode): \(Int(Double(iterations) / seconds)) ops/s, \(seconds / Double(iterations) * 1e9) ns/op")
}

do { try run() } catch { print("error: \(error)") }

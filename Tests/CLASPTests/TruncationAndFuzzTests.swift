import CLASP
import Testing

@Suite("Truncated and random input")
struct TruncationAndFuzzTests {
    static let framesToCut = ["set_all_flags", "publish_stream_samples_rate", "publish_python_gesture_move", "snapshot_two_params",
                              "announce_full", "bundle_binary_scheduled", "welcome_router_default", "federation_request_sync",
                              "ack_all_fields", "error_with_correlation", "subscribe_types_and_all_options", "replay_full",
                              "result_signals", "sync_reply", "hello_python_token_all_features", "set_python_nested_map_array"]

    static func vector(_ name: String) -> ValidVector? { ValidVector.all.first { $0.name == name } }

    @Test("every prefix of a frame is refused as truncated", arguments: framesToCut)
    func everyFramePrefixIsRefused(_ name: String) throws {
        let vector = try #require(Self.vector(name))
        for cut in 0 ..< vector.bytes.count {
            #expect(decodeResult(Array(vector.bytes[0 ..< cut])).failureValue != nil, "prefix \(cut) decoded")
        }
    }

    @Test("every cut of a payload (header length fixed up) is refused or loses only the optional rate", arguments: framesToCut)
    func everyPayloadCutIsRefusedOrEquivalent(_ name: String) throws {
        let vector = try #require(Self.vector(name))
        let full = try FrameCodec.decode(vector.bytes)
        let headerLength = full.header.headerLength
        let payload = Array(vector.bytes[headerLength ..< headerLength + full.header.payloadLength])
        var withoutRate: Message?
        if case .publish(var p) = full.message, p.rate != nil {
            p.rate = nil
            withoutRate = .publish(p)
        }
        for cut in 0 ..< payload.count {
            var frame = Array(vector.bytes[0 ..< headerLength])
            frame[2] = UInt8(cut >> 8)
            frame[3] = UInt8(cut & 0xFF)
            frame += payload[0 ..< cut]
            switch decodeResult(frame) {
            case .failure(let error):
                #expect(!error.isFrameLevel || cut == 0, "cut \(cut): \(error)")
            case .success(let decoded):
                #expect(decoded.message == full.message || decoded.message == withoutRate, "cut \(cut) decoded to something else")
            }
        }
    }

    @Test("200,000 random and mutated inputs never crash, and whatever decodes re-encodes consistently")
    func randomInputFuzz() async {
        var rng = SeededGenerator(seed: 0x5EED_C1A5)
        let seeds = ValidVector.binary.map(\.bytes).filter { $0.count < 4_096 }
        var decodedCount = 0
        for i in 0 ..< 200_000 {
            // Seconds of CPU: give the cooperative threads back now and then, so the network
            // tests running beside this one are not starved into timeouts on 2 cores.
            if i % 500 == 0 { await Task.yield() }
            var input: [UInt8]
            if i % 2 == 0 || seeds.isEmpty {
                // Random bytes behind a plausible header, so the payload decoders get exercised.
                let n = Int.random(in: 0 ... 48, using: &rng)
                input = (0 ..< n).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
                if i % 4 == 0, n >= 5 {
                    input[0] = 0x53
                    input[1] &= 0xDF
                    input[2] = 0
                    input[3] = UInt8(n - 4)
                    if i % 8 == 0 { input[4] = MessageKind.allCases.randomElement(using: &rng)?.rawValue ?? 0x21 }
                }
            } else {
                // A valid frame with a few bytes flipped, cut or extended.
                input = seeds[Int.random(in: 0 ..< seeds.count, using: &rng)]
                for _ in 0 ..< Int.random(in: 1 ... 4, using: &rng) where !input.isEmpty {
                    input[Int.random(in: 0 ..< input.count, using: &rng)] ^= UInt8.random(in: 1 ... 255, using: &rng)
                }
                if Bool.random(using: &rng) { input.removeLast(Int.random(in: 0 ... min(3, input.count), using: &rng)) }
            }
            guard case .success(let frame) = decodeResult(input) else { continue }
            decodedCount += 1
            // A decoded message re-encodes (unless widening made it too large) and reads back the same.
            do throws(CodecError) {
                let again = try frame.message.encodedFrame(qos: frame.header.qos, timestamp: frame.header.timestamp)
                #expect(decodeResult(again).successValue?.message == frame.message, "\(Hex.encode(input))")
            } catch {
                #expect(error == .payloadTooLarge(0) || error.description.contains("exceeds"), "\(Hex.encode(input)): \(error)")
            }
        }
        #expect(decodedCount > 1_000)
    }
}

extension Result {
    var successValue: Success? {
        if case .success(let s) = self { return s }
        return nil
    }
}

import CLASP

/// The samples one window collected at one address, in arrival order.
///
/// Numbers are kept as f64s (a run of consecutive ones becomes one batch PUBLISH when the
/// window closes); any other sample keeps its shared encoded frame.
struct StreamWindow {
    /// Most samples a window holds: one batch message's worth (32 KiB of f64s).
    static let maxSamples = 4_096
    /// Most bytes of frames (samples that are not numbers) a window holds; a first frame
    /// larger than this still goes alone.
    static let maxFrameBytes = 65_535
    /// PUBLISH payload without address and samples: type, flags, address length, value
    /// indicator, sample count, message timestamp.
    private static let batchOverhead = 1 + 1 + 2 + 1 + 2 + 8

    let address: String
    let closesAt: UInt64
    /// f64s one batch message for this address can carry: `maxSamples` unless the address
    /// is so long that fewer fit in a 65,535-byte payload (0: numbers go as frames).
    private let batchCapacity: Int
    private var numbers: [Double] = []
    private var items: [Item] = []
    private var count = 0
    private var frameBytes = 0

    private enum Item {
        /// Numbers from `numbers[start]` up to the next run's start (or the end), with the
        /// message timestamp of the run's first sample.
        case run(start: Int, timestamp: UInt64?)
        case frame([UInt8])

        var runStart: Int? {
            if case .run(let start, _) = self { start } else { nil }
        }
    }

    init(address: String, closesAt: UInt64) {
        self.address = address
        self.closesAt = closesAt
        let room = (CodecLimits.maxPayloadLength - Self.batchOverhead - address.utf8.count) / 8
        batchCapacity = max(0, min(Self.maxSamples, room))
    }

    func hasRoom(for sample: StreamSample) -> Bool {
        guard count > 0 else { return true }
        if let values = batchable(sample) {
            return numbers.count + values.count <= batchCapacity && count + values.count <= Self.maxSamples
        }
        return count < Self.maxSamples && frameBytes + sample.frame.count <= Self.maxFrameBytes
    }

    mutating func append(_ sample: StreamSample) {
        guard let values = batchable(sample) else {
            items.append(.frame(sample.frame))
            count += 1
            frameBytes += sample.frame.count
            return
        }
        if items.last?.runStart == nil {
            items.append(.run(start: numbers.count, timestamp: sample.timestamp))
        }
        numbers.append(contentsOf: values)
        count += values.count
    }

    /// The window's frames, in order: one batch PUBLISH per run of numbers, the other
    /// samples' own frames between them.
    func frames(into out: inout [OutboundFrame]) {
        for (index, item) in items.enumerated() {
            switch item {
            case .frame(let bytes):
                out.append(OutboundFrame(bytes: bytes, coalescing: .stream(address)))
            case .run(let start, let timestamp):
                let end = items[(index + 1)...].lazy.compactMap(\.runStart).first ?? numbers.count
                let batch = Publish(address: address, signal: .stream, samples: Array(numbers[start..<end]), timestamp: timestamp)
                // Cannot fail: `batchCapacity` keeps the payload within the limit.
                if let bytes = try? Message.publish(batch).encodedFrame() {
                    out.append(OutboundFrame(bytes: bytes, coalescing: .stream(address)))
                }
            }
        }
    }

    /// The sample's numbers when they can join a batch; a sample batch larger than one
    /// message goes as its own frame.
    private func batchable(_ sample: StreamSample) -> [Double]? {
        guard let values = sample.numbers, values.count <= batchCapacity else { return nil }
        return values
    }
}

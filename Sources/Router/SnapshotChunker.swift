import CLASP

/// Cuts param state into SNAPSHOT frames by encoded size, so no chunk ever exceeds the
/// payload limit and nothing is dropped (the reference chunks by count and silently
/// loses chunks over 65,535 bytes).
enum SnapshotChunker {
    /// SNAPSHOT payload bytes before the first entry: type (1) + count (2).
    private static let snapshotOverhead = 3
    /// An entry adds at most this much to what the SET echo of the same value needs
    /// (value type byte, flags, 36-byte writer id, timestamp; minus SET's own fields).
    private static let entryMarginOverEcho = 64
    /// What a writer id looks like on the wire (session ids are UUIDs).
    private static let writerTemplate = String(repeating: "0", count: 36)

    /// Whether a param with this value could be sent as a snapshot entry, given the size
    /// of its SET echo frame. Exact (one extra encode) only for values near the limit.
    static func fitsEntry(address: String, value: Value, echoFrameLength: Int) -> Bool {
        let echoPayload = echoFrameLength - CodecLimits.headerLength
        if echoPayload + entryMarginOverEcho <= CodecLimits.maxPayloadLength { return true }
        let probe = ParamState(address: address, value: value, revision: .max, writer: writerTemplate, timestamp: .max)
        return entrySize(probe).map { snapshotOverhead + $0 <= CodecLimits.maxPayloadLength } ?? false
    }

    /// SNAPSHOT frames for `states`, each payload at most `chunkBytes` (a single entry
    /// larger than that goes alone, up to the payload limit). An empty state gives one
    /// empty SNAPSHOT.
    static func frames(for states: [ParamState], chunkBytes: Int) -> [[UInt8]] {
        var frames: [[UInt8]] = []
        var chunk: [ParamState] = []
        var size = snapshotOverhead
        for state in states {
            guard let entry = entrySize(state) else { continue }  // unsendable values are refused at SET
            if !chunk.isEmpty, size + entry > chunkBytes {
                append(chunk, to: &frames)
                chunk.removeAll(keepingCapacity: true)
                size = snapshotOverhead
            }
            chunk.append(state)
            size += entry
        }
        if !chunk.isEmpty || frames.isEmpty { append(chunk, to: &frames) }
        return frames
    }

    private static func append(_ chunk: [ParamState], to frames: inout [[UInt8]]) {
        if let frame = try? Message.snapshot(Snapshot(params: chunk)).encodedFrame() {
            frames.append(frame)
        }
    }

    private static func entrySize(_ state: ParamState) -> Int? {
        var payload: [UInt8] = []
        guard (try? Message.snapshot(Snapshot(params: [state])).encodePayload(into: &payload)) != nil else { return nil }
        return payload.count - snapshotOverhead
    }
}

/// Encoded SNAPSHOT frames of recent requests, reused while the params have not changed: a
/// storm of late joiners subscribing to the same pattern costs one encoding, not one each.
struct SnapshotCache {
    private var entries: [String: (version: UInt64, frames: [[UInt8]], isEmpty: Bool)] = [:]
    /// Patterns kept at most; beyond it the cache starts over.
    private let capacity = 16

    /// The frames for `pattern` (nil: every param) at the table's current version, and
    /// whether no param matched (the frames are then one empty SNAPSHOT).
    mutating func frames(for pattern: AddressPattern?, in params: ParamTable, chunkBytes: Int) -> (frames: [[UInt8]], isEmpty: Bool) {
        let key = "\(chunkBytes) \(pattern?.description ?? "")"
        if let entry = entries[key], entry.version == params.version { return (entry.frames, entry.isEmpty) }
        let states = params.states(matching: pattern)
        let frames = SnapshotChunker.frames(for: states, chunkBytes: chunkBytes)
        if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        entries[key] = (params.version, frames, states.isEmpty)
        return (frames, states.isEmpty)
    }
}

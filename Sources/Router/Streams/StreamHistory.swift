import CLASP

/// The last stream samples per address, for subscriptions that ask for `history: N`.
///
/// Keeps each stream PUBLISH's encoded frame (the fan-out's shared bytes, not a copy) in a
/// ring of at most `maxPerAddress` frames per address. At most `maxAddresses` addresses and
/// `maxBytes` bytes of frames are kept: beyond either, the addresses published to least
/// recently are forgotten whole, and an address over `maxBytes` on its own loses its oldest
/// frames (its newest is always kept). Recording is O(1) amortised.
struct StreamHistory {
    static let defaultMaxPerAddress = 100
    static let defaultMaxAddresses = 1_024
    static let defaultMaxBytes = 8 * 1_024 * 1_024

    let maxPerAddress: Int
    let maxAddresses: Int
    let maxBytes: Int
    private var rings: [ExactText: Ring] = [:]
    /// One entry per address, queued by a recent sequence number; an entry found older than
    /// its address's last record is queued again rather than evicted.
    private var recency = DeadlineQueue<Recency>()
    private var sequence: UInt64 = 0
    /// Bytes of frames kept.
    private(set) var byteCount = 0

    private struct Recency {
        let key: ExactText
        let sequence: UInt64
    }

    private struct Entry {
        let sequence: UInt64
        let frame: [UInt8]
    }

    init(maxPerAddress: Int = defaultMaxPerAddress, maxAddresses: Int = defaultMaxAddresses, maxBytes: Int = defaultMaxBytes) {
        self.maxPerAddress = max(0, maxPerAddress)
        self.maxAddresses = max(1, maxAddresses)
        self.maxBytes = max(0, maxBytes)
    }

    /// Addresses with a history.
    var addressCount: Int { rings.count }

    /// Keeps a stream sample; other signals are ignored.
    mutating func record(_ publish: Publish, encoded: [UInt8]) {
        guard publish.signal == .stream, maxPerAddress > 0 else { return }
        sequence &+= 1
        let key = ExactText(publish.address)
        if rings[key] == nil {
            recency.insert(Recency(key: key, sequence: sequence), deadline: sequence)
        }
        byteCount += rings[key, default: Ring(address: publish.address)]
            .append(Entry(sequence: sequence, frame: encoded), capacity: maxPerAddress)
        evict(sparing: key)
    }

    /// The newest `n` frames of the addresses `pattern` matches, oldest first (in the order
    /// they were recorded, across addresses).
    func last(_ n: Int, matching pattern: AddressPattern) -> [[UInt8]] {
        guard n > 0 else { return [] }
        var found: [Entry] = []
        if pattern.isLiteral {
            found = rings[ExactText(pattern.text)]?.newest(n) ?? []
        } else {
            for ring in rings.values where pattern.matches(ring.address) {
                found += ring.newest(n)
            }
            found.sort { $0.sequence < $1.sequence }
        }
        return found.suffix(n).map(\.frame)
    }

    /// Forgets the least recently published addresses while over a limit, never `key` (the
    /// one just recorded, the newest); then trims `key` itself if it alone is over `maxBytes`.
    private mutating func evict(sparing key: ExactText) {
        while rings.count > maxAddresses || byteCount > maxBytes, rings.count > 1, let oldest = recency.popDue(at: .max) {
            guard let ring = rings[oldest.key] else { continue }
            guard ring.lastSequence == oldest.sequence else {
                recency.insert(Recency(key: oldest.key, sequence: ring.lastSequence), deadline: ring.lastSequence)
                continue
            }
            rings[oldest.key] = nil
            byteCount -= ring.byteCount
        }
        if byteCount > maxBytes, let index = rings.index(forKey: key) {
            byteCount -= rings.values[index].dropOldest(bytes: byteCount - maxBytes)
        }
    }

    private struct Ring {
        let address: String
        private var slots: [Entry] = []
        /// Index of the oldest entry (moves once the ring is full).
        private var start = 0
        private(set) var byteCount = 0
        private(set) var lastSequence: UInt64 = 0

        init(address: String) {
            self.address = address
        }

        /// Adds the newest entry, replacing the oldest when full. Returns the change in bytes.
        mutating func append(_ entry: Entry, capacity: Int) -> Int {
            lastSequence = entry.sequence
            var change = entry.frame.count
            if slots.count < capacity {
                slots.append(entry)
            } else {
                change -= slots[start].frame.count
                slots[start] = entry
                start = (start + 1) % slots.count
            }
            byteCount += change
            return change
        }

        /// The newest `n` entries, oldest first.
        func newest(_ n: Int) -> [Entry] {
            let count = min(n, slots.count)
            return (slots.count - count ..< slots.count).map { slots[(start + $0) % slots.count] }
        }

        /// Drops the oldest entries, keeping the newest, until `excess` bytes are gone or
        /// only the newest is left. Returns the bytes dropped.
        mutating func dropOldest(bytes excess: Int) -> Int {
            var ordered = newest(slots.count)
            var dropped = 0
            var removed = 0
            while dropped < excess, removed < ordered.count - 1 {
                dropped += ordered[removed].frame.count
                removed += 1
            }
            ordered.removeFirst(removed)
            slots = ordered
            start = 0
            byteCount -= dropped
            return dropped
        }
    }
}

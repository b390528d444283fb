/// Identities of applied QoS confirm and commit messages, so a retransmission is applied once.
///
/// A message is identified by (client name from HELLO, frame timestamp, address); see
/// `docs/router.md`, "QoS". The newest `limit` identities per client are kept in memory;
/// those of commit writes also in the store.
struct CommitLog {
    struct Key: Hashable {
        let client: String
        let timestamp: UInt64
        let address: String
    }

    struct Entry {
        /// Revision the original produced, repeated in the duplicate's ACK.
        let revision: UInt64
        /// Store batch that carries the original; the duplicate's ACK waits for it too.
        let sequence: UInt64
    }

    static let limitPerClient = 4_096

    private var entries: [Key: Entry] = [:]
    private var order: [String: [Key]] = [:]

    subscript(key: Key) -> Entry? { entries[key] }

    mutating func insert(_ key: Key, _ entry: Entry) {
        guard entries.updateValue(entry, forKey: key) == nil else { return }
        order[key.client, default: []].append(key)
        if let keys = order[key.client], keys.count > Self.limitPerClient * 2 {
            // Trim in bulk so the cost per insert stays constant.
            let excess = keys.count - Self.limitPerClient
            for old in keys[..<excess] { entries[old] = nil }
            order[key.client] = Array(keys[excess...])
        }
    }
}

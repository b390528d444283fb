import CLASP

/// The current value of one param.
struct Param {
    var value: Value
    var revision: UInt64
    /// CLASP session id of the last writer.
    var writer: String
    /// Server time of the last write, µs since the epoch.
    var timestamp: UInt64
    var ttl: TTL?
    /// Server time at which the param expires, µs since the epoch.
    var expiresAt: UInt64?
    /// Session id of the lock holder. Never stored: locks end with their session.
    var lockHolder: String?

    func state(at address: String) -> ParamState {
        ParamState(address: address, value: value, revision: revision, writer: writer, timestamp: timestamp)
    }

    func stored(at address: String) -> StoredParam {
        StoredParam(
            address: address, value: value, revision: revision, writer: writer, timestamp: timestamp,
            ttl: ttl, expiresAt: expiresAt)
    }

    /// When a param written at `now` with `set` expires: a TTL on the SET replaces the
    /// previous one; a SET without one keeps it, and a sliding TTL restarts at every write.
    static func expiry(of set: SetMessage, previous: Param?, at now: UInt64) -> (ttl: TTL?, expiresAt: UInt64?) {
        let ttl = set.ttl ?? previous?.ttl
        switch ttl {
        case nil, .never?:
            return (ttl, nil)
        case .sliding(let seconds)?:
            return (ttl, now &+ UInt64(seconds) &* 1_000_000)
        case .absolute(let seconds)?:
            if set.ttl == nil, let kept = previous?.expiresAt { return (ttl, kept) }
            return (ttl, now &+ UInt64(seconds) &* 1_000_000)
        }
    }
}

/// Param state held in memory; `StateStore` keeps a copy on disk.
struct ParamTable {
    private var params: [ExactText: Param] = [:]
    /// Changes whenever a value, revision or the set of params changes (not on unlock), so
    /// encoded snapshots can be reused until then.
    private(set) var version: UInt64 = 0

    var count: Int { params.count }

    subscript(address: String) -> Param? { params[ExactText(address)] }

    subscript(key: ExactText) -> Param? {
        get { params[key] }
        set {
            params[key] = newValue
            version &+= 1
        }
    }

    mutating func remove(_ key: ExactText) -> Param? {
        version &+= 1
        return params.removeValue(forKey: key)
    }

    mutating func unlock(_ key: ExactText) {
        params[key]?.lockHolder = nil
    }

    /// Puts a param back as it was stored (at start-up).
    mutating func restore(_ stored: StoredParam) {
        version &+= 1
        params[ExactText(stored.address)] = Param(
            value: stored.value, revision: stored.revision, writer: stored.writer, timestamp: stored.timestamp,
            ttl: stored.ttl, expiresAt: stored.expiresAt, lockHolder: nil)
    }

    /// Params whose address matches `pattern` (all when nil) and, when given, not
    /// `excluded`; in address order (stable snapshots).
    func states(matching pattern: AddressPattern?, excluding excluded: [AddressPattern] = []) -> [ParamState] {
        params
            .lazy
            .map { (address: String($0.key.text), param: $0.value) }
            .filter { entry in
                (pattern?.matches(entry.address) ?? true) && !excluded.contains { $0.matches(entry.address) }
            }
            .sorted { $0.address < $1.address }
            .map { $0.param.state(at: $0.address) }
    }
}

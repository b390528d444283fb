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

    func state(at address: String) -> ParamState {
        ParamState(address: address, value: value, revision: revision, writer: writer, timestamp: timestamp)
    }
}

/// Param state held in memory. Durable storage arrives with the State issue behind the
/// same operations.
struct ParamTable {
    private(set) var params: [String: Param] = [:]

    var count: Int { params.count }

    subscript(address: String) -> Param? { params[address] }

    /// Applies a write and returns the new param (revision 1 for a new one).
    mutating func write(_ set: SetMessage, writer: String, at time: UInt64) -> Param {
        let previous = params[set.address]
        let param = Param(
            value: set.value,
            revision: (previous?.revision ?? 0) &+ 1,
            writer: writer,
            timestamp: time,
            ttl: set.ttl ?? previous?.ttl
        )
        params[set.address] = param
        return param
    }

    /// Params whose address matches, in address order (stable snapshots).
    func states(matching pattern: AddressPattern?) -> [ParamState] {
        params
            .filter { pattern?.matches($0.key) ?? true }
            .sorted { $0.key < $1.key }
            .map { $0.value.state(at: $0.key) }
    }
}

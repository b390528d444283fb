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
    private var params: [ExactText: Param] = [:]

    var count: Int { params.count }

    subscript(address: String) -> Param? { params[ExactText(address)] }

    /// Applies a write and returns the new param (revision 1 for a new one).
    mutating func write(_ set: SetMessage, writer: String, at time: UInt64) -> Param {
        let key = ExactText(set.address)
        let previous = params[key]
        let param = Param(
            value: set.value,
            revision: (previous?.revision ?? 0) &+ 1,
            writer: writer,
            timestamp: time,
            ttl: set.ttl ?? previous?.ttl
        )
        params[key] = param
        return param
    }

    /// Params whose address matches, in address order (stable snapshots).
    func states(matching pattern: AddressPattern?) -> [ParamState] {
        params
            .lazy
            .map { (address: String($0.key.text), param: $0.value) }
            .filter { pattern?.matches($0.address) ?? true }
            .sorted { $0.address < $1.address }
            .map { $0.param.state(at: $0.address) }
    }
}

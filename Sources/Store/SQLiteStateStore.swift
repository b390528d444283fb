import Dispatch
public import Router
import Synchronization

/// The router's state in `<data-dir>/state.sqlite3` (SQLite, WAL, `synchronous = FULL`).
///
/// `write(_:)` only queues a batch. A serial background queue takes everything queued so far,
/// writes it as one transaction (group commit), and reports the outcome through `onWritten`,
/// on that queue, in batch order. See `docs/durability.md`.
public final class SQLiteStateStore: StateStore {
    public static let fileName = "state.sqlite3"
    /// Commit identities kept per client: the newest by timestamp.
    public static let maxCommitsPerClient = 4096

    /// The database file.
    public let path: String
    private let onWritten: @Sendable (StoreOutcome) -> Void
    private let queue = DispatchQueue(label: "clasp-gateway.state-store")
    private let pending = Mutex(PendingBatches())
    /// Used only on `queue`; nil once closed.
    private let database: Mutex<StateDatabase?>

    private struct PendingBatches {
        var batches: [StoreBatch] = []
        /// A drain is queued or running; it will see batches appended meanwhile.
        var drainScheduled = false
        var isClosed = false
    }

    /// Opens (or creates) `<directory>/state.sqlite3`, checks it, and reads the stored state.
    /// Params whose expiry time (`clock`'s wall time) has passed are deleted, not returned.
    /// `busyTimeout` is how long a write waits for a lock held by another connection (a
    /// backup, say) before it fails. Nothing is written to a file that is refused.
    public static func open(
        directory: String, clock: any RouterClock = SystemClock(), busyTimeout: Duration = .seconds(5),
        onWritten: @escaping @Sendable (StoreOutcome) -> Void
    ) throws(StoreOpenError) -> (store: SQLiteStateStore, restored: RestoredState) {
        let path = directory.isEmpty || directory.hasSuffix("/") ? directory + fileName : directory + "/" + fileName
        let milliseconds = busyTimeout.components.seconds * 1000 + busyTimeout.components.attoseconds / 1_000_000_000_000_000
        let database = try StateDatabase(path: path, busyTimeoutMilliseconds: Int32(clamping: milliseconds))
        let restored = try database.restore(now: clock.wallMicroseconds())
        return (SQLiteStateStore(path: path, database: database, onWritten: onWritten), restored)
    }

    private init(path: String, database: sending StateDatabase, onWritten: @escaping @Sendable (StoreOutcome) -> Void) {
        self.path = path
        self.database = Mutex(database)
        self.onWritten = onWritten
    }

    /// Queues `batch` and returns. After `close()` the batch is not written: `onWritten`
    /// gets `.failed` for it at once, on the caller's thread.
    public func write(_ batch: StoreBatch) {
        let scheduleDrain = pending.withLock { state -> Bool? in
            guard !state.isClosed else { return nil }
            state.batches.append(batch)
            defer { state.drainScheduled = true }
            return !state.drainScheduled
        }
        switch scheduleDrain {
        case nil: onWritten(.failed(through: batch.sequence, reason: "the state store is closed"))
        case true?: queue.async { self.drain() }
        case false?: break
        }
    }

    /// Writes what is queued, then closes the file. Later writes are refused. Safe to call
    /// more than once and from any thread except inside `onWritten` (it waits for the queue
    /// that runs it). Returns when the file is closed.
    public func close() {
        pending.withLock { $0.isClosed = true }
        queue.sync {
            drain()
            database.withLock { $0 = nil }
        }
    }

    /// Writes batches until none are queued; each round is one transaction holding every
    /// batch that arrived while the previous one was being written.
    private func drain() {
        while true {
            let batches = pending.withLock { state in
                let taken = state.batches
                state.batches = []
                if taken.isEmpty { state.drainScheduled = false }
                return taken
            }
            guard let last = batches.last else { return }
            let outcome = database.withLock { database in
                database?.write(batches) ?? .failed(through: last.sequence, reason: "the state store is closed")
            }
            onWritten(outcome)
        }
    }
}

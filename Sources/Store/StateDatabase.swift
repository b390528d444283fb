import CLASP
import CSQLite
import Router

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The state file on one SQLite connection: opened and checked, read once at start, then
/// written one transaction per group of batches. Used from one thread at a time.
final class StateDatabase {
    private let database: SQLiteDatabase
    private let statements: WriteStatements

    /// Opens or creates the file and checks it before anything is written to it: a damaged
    /// file or one from a newer schema is refused untouched.
    init(path: String, busyTimeoutMilliseconds: Int32) throws(StoreOpenError) {
        let database = try Self.connect(path)
        guard !database.isReadOnly else {
            throw .notWritable(path: path, reason: "the file is read-only for this user")
        }
        database.setBusyTimeout(milliseconds: busyTimeoutMilliseconds)

        let problems = try opening(path) { () throws(SQLiteError) in try Self.quickCheck(database) }
        guard problems == ["ok"] else {
            throw .corrupt(path: path, reason: "quick_check: " + problems.prefix(3).joined(separator: "; "))
        }
        let version = try opening(path) { () throws(SQLiteError) in try Self.schemaVersion(database) }
        guard version <= StateSchema.version else {
            throw .newerSchema(path: path, found: version, supported: StateSchema.version)
        }

        self.database = database
        statements = try opening(path) { () throws(SQLiteError) in
            // WAL: readers (a backup) never block the writer. FULL: a commit is fsynced
            // before COMMIT returns, so an ACK sent after it survives power loss.
            try Self.setJournalModeWAL(database)
            try database.execute("PRAGMA synchronous = FULL")
            // An older schema (0: a new file, or one rebuilt from a `.dump`) is upgraded in place.
            if version < StateSchema.version { try database.execute(StateSchema.upgrade(from: version)) }
            return try WriteStatements(database)
        }
    }

    /// Deletes params whose expiry time has been reached (`now`, µs since the epoch), then
    /// reads everything else.
    func restore(now: UInt64) throws(StoreOpenError) -> RestoredState {
        let path = database.path
        let rows = try opening(path) { () throws(SQLiteError) in try readAll(now: now) }
        var restored = RestoredState(commits: rows.commits, expiredParamCount: rows.expired)
        restored.params.reserveCapacity(rows.params.count)
        for row in rows.params {
            do {
                restored.params.append(try row.param())
            } catch {
                throw .corrupt(path: path, reason: "param \(row.address): \(error)")
            }
        }
        restored.timelines.reserveCapacity(rows.timelines.count)
        for row in rows.timelines {
            do {
                restored.timelines.append(try row.timeline())
            } catch {
                throw .corrupt(path: path, reason: "timeline \(row.address): \(error)")
            }
        }
        return restored
    }

    /// One transaction for every change in `batches`; rolled back as a whole on failure.
    func write(_ batches: [StoreBatch]) -> StoreOutcome {
        let changes = MergedChanges(batches)
        // Encoded first, so that the transaction only meets SQLite errors.
        var upserts: [(param: StoredParam, value: [UInt8])] = []
        upserts.reserveCapacity(changes.upserts.count)
        for param in changes.upserts.values {
            do {
                upserts.append((param, try param.value.encodedBytes()))
            } catch {
                return .failed(through: changes.through, reason: "value of \(param.address) cannot be stored: \(error)")
            }
        }
        var timelines: [(address: String, definition: [UInt8])] = []
        timelines.reserveCapacity(changes.timelineUpserts.count)
        for timeline in changes.timelineUpserts.values {
            do {
                timelines.append((timeline.address, try timeline.definition.encodedValue.encodedBytes()))
            } catch {
                return .failed(through: changes.through, reason: "timeline of \(timeline.address) cannot be stored: \(error)")
            }
        }
        do {
            try database.execute("BEGIN IMMEDIATE")
            try apply(changes, upserts: upserts, timelines: timelines)
            try database.execute("COMMIT")
            return .written(through: changes.through)
        } catch {
            // A failed COMMIT can leave the transaction open; nothing of it may stay.
            if database.isInTransaction { try? database.execute("ROLLBACK") }
            return .failed(through: changes.through, reason: error.description)
        }
    }

    private func apply(
        _ changes: MergedChanges, upserts: [(param: StoredParam, value: [UInt8])],
        timelines: [(address: String, definition: [UInt8])]
    ) throws(SQLiteError) {
        for address in changes.removals {
            defer { statements.deleteParam.reset() }
            try statements.deleteParam.bind(address, at: 1)
            try statements.deleteParam.run()
        }
        for (param, value) in upserts {
            defer { statements.upsertParam.reset() }
            try statements.upsertParam.bind(param.address, at: 1)
            try statements.upsertParam.bind(value, at: 2)
            try statements.upsertParam.bind(Int64(bitPattern: param.revision), at: 3)
            try statements.upsertParam.bind(param.writer, at: 4)
            try statements.upsertParam.bind(Int64(bitPattern: param.timestamp), at: 5)
            try statements.upsertParam.bind(param.ttl.map { Int64($0.wireWord) }, at: 6)
            try statements.upsertParam.bind(param.expiresAt.map { Int64(bitPattern: $0) }, at: 7)
            try statements.upsertParam.run()
        }
        for commit in changes.commits {
            defer { statements.insertCommit.reset() }
            try statements.insertCommit.bind(commit.client, at: 1)
            try statements.insertCommit.bind(Int64(bitPattern: commit.timestamp), at: 2)
            try statements.insertCommit.bind(commit.address, at: 3)
            try statements.insertCommit.bind(Int64(bitPattern: commit.revision), at: 4)
            try statements.insertCommit.run()
        }
        for client in changes.clientsWithNewCommits {
            defer { statements.pruneCommits.reset() }
            try statements.pruneCommits.bind(client, at: 1)
            try statements.pruneCommits.bind(Int64(SQLiteStateStore.maxCommitsPerClient), at: 2)
            try statements.pruneCommits.run()
        }
        for address in changes.timelineRemovals {
            defer { statements.deleteTimeline.reset() }
            try statements.deleteTimeline.bind(address, at: 1)
            try statements.deleteTimeline.run()
        }
        for (address, definition) in timelines {
            defer { statements.upsertTimeline.reset() }
            try statements.upsertTimeline.bind(address, at: 1)
            try statements.upsertTimeline.bind(definition, at: 2)
            try statements.upsertTimeline.run()
        }
    }

    // MARK: - Start-up steps

    private static func connect(_ path: String) throws(StoreOpenError) -> SQLiteDatabase {
        do {
            return try SQLiteDatabase(path: path, flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX)
        } catch {
            // SQLite's errno is that of its last attempt, a read-only retry ("No such file"
            // for a file it was not allowed to create); the first attempt's tells why.
            guard error.primaryCode == SQLITE_CANTOPEN, let reason = readWriteOpenFailure(path) else {
                throw StoreOpenError(path: path, cause: error)
            }
            throw .notWritable(path: path, reason: reason)
        }
    }

    /// Why `open(2)` for reading and writing fails, or nil when it works now.
    private static func readWriteOpenFailure(_ path: String) -> String? {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor < 0 else {
            close(descriptor)
            return nil
        }
        return String(cString: strerror(errno))
    }

    /// The rows `PRAGMA quick_check` returns: `["ok"]` for a sound file.
    private static func quickCheck(_ database: SQLiteDatabase) throws(SQLiteError) -> [String] {
        let check = try database.prepare("PRAGMA quick_check")
        var rows: [String] = []
        while try check.step() { rows.append(check.text(at: 0)) }
        return rows
    }

    private static func schemaVersion(_ database: SQLiteDatabase) throws(SQLiteError) -> Int {
        let query = try database.prepare("PRAGMA user_version")
        return try query.step() ? Int(query.int64(at: 0)) : 0
    }

    /// Some file systems cannot hold the WAL's shared memory; SQLite then keeps the old mode
    /// without an error, so the answer is checked.
    private static func setJournalModeWAL(_ database: SQLiteDatabase) throws(SQLiteError) {
        let query = try database.prepare("PRAGMA journal_mode = WAL")
        let mode = try query.step() ? query.text(at: 0) : ""
        guard mode == "wal" else {
            throw SQLiteError(code: SQLITE_ERROR, message: "WAL journal mode could not be enabled (the mode is \"\(mode)\")")
        }
    }

    private func readAll(now: UInt64) throws(SQLiteError) -> (
        params: [ParamRow], commits: [CommitRecord], expired: Int, timelines: [TimelineRow]
    ) {
        try database.execute("BEGIN IMMEDIATE")
        defer { if database.isInTransaction { try? database.execute("ROLLBACK") } }

        let deleteExpired = try database.prepare(StateSchema.deleteExpiredParams)
        try deleteExpired.bind(Int64(bitPattern: now), at: 1)
        try deleteExpired.run()
        let expired = database.changeCount

        var params: [ParamRow] = []
        let selectParams = try database.prepare(StateSchema.selectParams)
        while try selectParams.step() { params.append(ParamRow(selectParams)) }

        var commits: [CommitRecord] = []
        let selectCommits = try database.prepare(StateSchema.selectCommits)
        while try selectCommits.step() {
            commits.append(CommitRecord(
                client: selectCommits.text(at: 0), timestamp: UInt64(bitPattern: selectCommits.int64(at: 1)),
                address: selectCommits.text(at: 2), revision: UInt64(bitPattern: selectCommits.int64(at: 3))))
        }
        var timelines: [TimelineRow] = []
        let selectTimelines = try database.prepare(StateSchema.selectTimelines)
        while try selectTimelines.step() {
            timelines.append(TimelineRow(address: selectTimelines.text(at: 0), definition: selectTimelines.blob(at: 1)))
        }
        try database.execute("COMMIT")
        return (params, commits, expired, timelines)
    }
}

/// The statements each transaction runs, prepared once.
private struct WriteStatements {
    let upsertParam: SQLiteStatement
    let deleteParam: SQLiteStatement
    let insertCommit: SQLiteStatement
    let pruneCommits: SQLiteStatement
    let upsertTimeline: SQLiteStatement
    let deleteTimeline: SQLiteStatement

    init(_ database: SQLiteDatabase) throws(SQLiteError) {
        upsertParam = try database.prepare(StateSchema.upsertParam)
        deleteParam = try database.prepare(StateSchema.deleteParam)
        insertCommit = try database.prepare(StateSchema.insertCommit)
        pruneCommits = try database.prepare(StateSchema.pruneCommits)
        upsertTimeline = try database.prepare(StateSchema.upsertTimeline)
        deleteTimeline = try database.prepare(StateSchema.deleteTimeline)
    }
}

/// A `params` row as read, before its value and TTL are decoded (which can fail).
private struct ParamRow {
    var address: String
    var value: [UInt8]
    var revision: Int64
    var writer: String
    var timestamp: Int64
    var ttl: Int64?
    var expiresAt: Int64?

    init(_ row: SQLiteStatement) {
        address = row.text(at: 0)
        value = row.blob(at: 1)
        revision = row.int64(at: 2)
        writer = row.text(at: 3)
        timestamp = row.int64(at: 4)
        ttl = row.optionalInt64(at: 5)
        expiresAt = row.optionalInt64(at: 6)
    }

    func param() throws(ParamRowError) -> StoredParam {
        let value: Value
        do {
            value = try Value(decoding: self.value)
        } catch {
            throw .value(error)
        }
        var ttl: TTL?
        if let word = self.ttl {
            guard let word = UInt32(exactly: word) else { throw .ttl(word) }
            ttl = TTL(wireWord: word)
        }
        return StoredParam(address: address, value: value, revision: UInt64(bitPattern: revision), writer: writer,
                           timestamp: UInt64(bitPattern: timestamp), ttl: ttl,
                           expiresAt: expiresAt.map { UInt64(bitPattern: $0) })
    }
}

private enum ParamRowError: Error, CustomStringConvertible {
    case value(CodecError)
    case ttl(Int64)

    var description: String {
        switch self {
        case .value(let error): return "stored value does not decode: \(error)"
        case .ttl(let word): return "stored TTL \(word) is not a 32-bit TTL word"
        }
    }
}

/// A `timelines` row as read, before its definition is decoded and checked (which can fail).
private struct TimelineRow {
    var address: String
    var definition: [UInt8]

    func timeline() throws(TimelineRowError) -> StoredTimeline {
        let value: Value
        do {
            value = try Value(decoding: definition)
        } catch {
            throw .value(error)
        }
        // The stored map always holds its start, so the two fallbacks are never used.
        let command: TimelineCommand
        do {
            command = try TimelineDefinition.parse(value, messageTimestamp: nil, now: 0)
        } catch {
            throw .definition(error)
        }
        guard case .play(let definition) = command else { throw .stop }
        return StoredTimeline(address: address, definition: definition)
    }
}

private enum TimelineRowError: Error, CustomStringConvertible {
    case value(CodecError)
    case definition(TimelineError)
    case stop

    var description: String {
        switch self {
        case .value(let error): return "stored definition does not decode: \(error)"
        case .definition(let error): return "stored definition is refused: \(error)"
        case .stop: return "stored definition is a stop, not a timeline"
        }
    }
}

/// Runs one start-up step, turning an SQLite failure into the error the gateway reports.
private func opening<T>(_ path: String, _ step: () throws(SQLiteError) -> T) throws(StoreOpenError) -> T {
    do {
        return try step()
    } catch {
        throw StoreOpenError(path: path, cause: error)
    }
}

extension StoreOpenError {
    fileprivate init(path: String, cause: SQLiteError) {
        switch cause.primaryCode {
        case SQLITE_CORRUPT, SQLITE_NOTADB: self = .corrupt(path: path, reason: cause.description)
        case SQLITE_CANTOPEN, SQLITE_READONLY, SQLITE_PERM, SQLITE_AUTH: self = .notWritable(path: path, reason: cause.description)
        default: self = .unusable(path: path, reason: cause.description)
        }
    }
}

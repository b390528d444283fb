import CSQLite

/// One SQLite connection. Not thread-safe: its owner uses it from one thread at a time
/// (the connection is opened without SQLite's own mutexes). Closed when released, after
/// every statement prepared on it has been finalized (each holds a reference to it).
final class SQLiteDatabase {
    let path: String
    private let connection: OpaquePointer

    /// `sqlite3_open_v2` with `flags`; extended result codes are switched on.
    init(path: String, flags: Int32) throws(SQLiteError) {
        var handle: OpaquePointer?
        let code = sqlite3_open_v2(path, &handle, flags, nil)
        guard code == SQLITE_OK, let handle else {
            // A failed open usually still returns a handle; it carries the message.
            let error = SQLiteError(code: handle.map { sqlite3_extended_errcode($0) } ?? code, connection: handle)
            sqlite3_close_v2(handle)
            throw error
        }
        self.path = path
        connection = handle
        sqlite3_extended_result_codes(handle, 1)
    }

    deinit { sqlite3_close_v2(connection) }

    /// Runs SQL that returns no rows (several statements allowed).
    func execute(_ sql: String) throws(SQLiteError) {
        let code = sqlite3_exec(connection, sql, nil, nil, nil)
        guard code == SQLITE_OK else { throw error(code) }
    }

    func prepare(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        var handle: OpaquePointer?
        let code = sqlite3_prepare_v2(connection, sql, -1, &handle, nil)
        guard code == SQLITE_OK, let handle else { throw error(code) }
        return SQLiteStatement(handle: handle, database: self)
    }

    /// How long a statement waits for another connection's lock before failing with
    /// SQLITE_BUSY.
    func setBusyTimeout(milliseconds: Int32) {
        sqlite3_busy_timeout(connection, milliseconds)
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changeCount: Int { Int(sqlite3_changes64(connection)) }

    /// True when SQLite could open the file for reading only (permissions).
    var isReadOnly: Bool { sqlite3_db_readonly(connection, "main") == 1 }

    /// True between BEGIN and COMMIT/ROLLBACK, and after a failed COMMIT.
    var isInTransaction: Bool { sqlite3_get_autocommit(connection) == 0 }

    /// The connection's error for a call that returned `code` (an extended code: they are on).
    func error(_ code: Int32) -> SQLiteError {
        SQLiteError(code: code, connection: connection)
    }
}

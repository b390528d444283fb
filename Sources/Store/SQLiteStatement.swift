import CSQLite

/// A prepared statement, finalized when released. Parameters and columns are numbered as
/// in SQLite: parameters from 1, columns from 0. Integers are SQLite's signed 64-bit ones;
/// callers store `UInt64` by bit pattern.
final class SQLiteStatement {
    private let statement: OpaquePointer
    private let database: SQLiteDatabase

    init(handle: OpaquePointer, database: SQLiteDatabase) {
        statement = handle
        self.database = database
    }

    deinit { sqlite3_finalize(statement) }

    func bind(_ value: Int64, at index: Int32) throws(SQLiteError) {
        try check(sqlite3_bind_int64(statement, index, value))
    }

    func bind(_ value: Int64?, at index: Int32) throws(SQLiteError) {
        guard let value else { return try check(sqlite3_bind_null(statement, index)) }
        try bind(value, at: index)
    }

    /// Bound with its byte length, so that U+0000 survives and an empty string is text, not
    /// NULL (which SQLite binds for a null pointer).
    func bind(_ value: String, at index: Int32) throws(SQLiteError) {
        var text = value
        let code = text.withUTF8 { utf8 in
            guard let base = utf8.baseAddress else {
                return sqlite3_bind_text64(statement, index, "", 0, csqlite_transient(), UInt8(SQLITE_UTF8))
            }
            return sqlite3_bind_text64(statement, index, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self),
                                       UInt64(utf8.count), csqlite_transient(), UInt8(SQLITE_UTF8))
        }
        try check(code)
    }

    func bind(_ bytes: [UInt8], at index: Int32) throws(SQLiteError) {
        let code = bytes.withUnsafeBytes { raw in
            // A zero-length blob with a null pointer would be bound as NULL.
            guard let base = raw.baseAddress else { return sqlite3_bind_zeroblob(statement, index, 0) }
            return sqlite3_bind_blob64(statement, index, base, UInt64(raw.count), csqlite_transient())
        }
        try check(code)
    }

    /// Advances to the next row: true when a row is ready, false when the statement is done.
    func step() throws(SQLiteError) -> Bool {
        let code = sqlite3_step(statement)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw database.error(code)
        }
    }

    /// Steps a statement that returns no rows to its end.
    func run() throws(SQLiteError) {
        while try step() {}
    }

    /// Ready for the next use: rewound, parameters cleared.
    func reset() {
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
    }

    func int64(at column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }

    func optionalInt64(at column: Int32) -> Int64? {
        sqlite3_column_type(statement, column) == SQLITE_NULL ? nil : int64(at: column)
    }

    func text(at column: Int32) -> String {
        guard let start = sqlite3_column_text(statement, column) else { return "" }
        let count = Int(sqlite3_column_bytes(statement, column))
        return String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    }

    func blob(at column: Int32) -> [UInt8] {
        guard let start = sqlite3_column_blob(statement, column) else { return [] }
        let count = Int(sqlite3_column_bytes(statement, column))
        return [UInt8](UnsafeRawBufferPointer(start: start, count: count))
    }

    private func check(_ code: Int32) throws(SQLiteError) {
        guard code == SQLITE_OK else { throw database.error(code) }
    }
}

import CSQLite

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed SQLite call: the (extended) result code and SQLite's own text for it.
struct SQLiteError: Error, Sendable, CustomStringConvertible {
    /// Extended result code (e.g. 778, SQLITE_IOERR_WRITE); `primaryCode` is its low byte.
    var code: Int32
    /// `sqlite3_errmsg` at the time of the failure.
    var message: String
    /// The OS error behind an open or I/O failure; 0 when there is none.
    var systemErrno: Int32 = 0

    var primaryCode: Int32 { code & 0xFF }

    var description: String {
        var text = message
        if systemErrno != 0, let reason = strerror(systemErrno) {
            text += ": \(String(cString: reason))"
        }
        return text + " (SQLite result code \(code))"
    }

    init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    /// The error the connection reports for `code`, with the OS error when it explains it.
    init(code: Int32, connection: OpaquePointer?) {
        self.code = code
        if let connection, let text = sqlite3_errmsg(connection) {
            message = String(cString: text)
        } else {
            message = String(cString: sqlite3_errstr(code))
        }
        let primary = code & 0xFF
        if let connection, primary == SQLITE_CANTOPEN || primary == SQLITE_IOERR {
            systemErrno = sqlite3_system_errno(connection)
        }
    }
}

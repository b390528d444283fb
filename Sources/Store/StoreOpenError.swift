#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why the state store could not be opened. The gateway does not start on any of these;
/// each message names the file and says what to do.
public enum StoreOpenError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file or its directory cannot be written (permissions, a directory in the file's
    /// place, a missing directory).
    case notWritable(path: String, reason: String)
    /// Not an SQLite database, or damaged (`PRAGMA quick_check` did not answer "ok", or a
    /// stored row cannot be read). The file is left as it was.
    case corrupt(path: String, reason: String)
    /// Written by a newer clasp-gateway whose schema this version does not know.
    case newerSchema(path: String, found: Int, supported: Int)
    /// Any other failure (I/O error, write lock held by another connection past the busy
    /// timeout, out of memory, …).
    case unusable(path: String, reason: String)

    public var description: String {
        switch self {
        case .notWritable(let path, let reason):
            let directory = split(path).directory
            return "cannot open the state store \(path) for writing: \(reason). The user running the gateway "
                + "needs write access to the file and to its directory \(directory) (SQLite creates the -wal and "
                + "-shm files there): fix the ownership or permissions (e.g. chown -R <user> \(directory)), or "
                + "start the gateway with --data-dir set to a writable directory."
        case .corrupt(let path, let reason):
            let (directory, file) = split(path)
            let aside = "\(file).corrupt-\(todayUTC())"
            return "the state store \(path) is damaged or not an SQLite database (\(reason)). The gateway does not "
                + "start and has not modified the file. To start with empty state: stop the gateway; in \(directory) "
                + "run `mv \(file) \(aside)` (and, if they exist, `mv \(file)-wal \(aside)-wal` and "
                + "`mv \(file)-shm \(aside)-shm`); start the gateway again. To keep what is still readable, run "
                + "`sqlite3 \(aside) .recover | sqlite3 \(file)` there before starting again (docs/durability.md has a way for sqlite3 shells without .recover, such "
                + "as Debian 12's)."
        case .newerSchema(let path, let found, let supported):
            return "the state store \(path) has schema version \(found), written by a newer clasp-gateway; this "
                + "version knows versions up to \(supported). The gateway does not start and has not modified the "
                + "file. Run the newer clasp-gateway, or move the file aside with its -wal and -shm files to start "
                + "with empty state (see docs/durability.md)."
        case .unusable(let path, let reason):
            return "cannot use the state store \(path): \(reason). Check the disk, and that no other program "
                + "is writing to the file, then start again."
        }
    }
}

/// The directory and the file name of `path`.
private func split(_ path: String) -> (directory: String, file: String) {
    guard let slash = path.lastIndex(of: "/") else { return (".", path) }
    let directory = slash == path.startIndex ? "/" : String(path[..<slash])
    return (directory, String(path[path.index(after: slash)...]))
}

/// `YYYY-MM-DD` in UTC, for the name of a file moved aside.
private func todayUTC() -> String {
    var now = time(nil)
    var parts = tm()
    guard gmtime_r(&now, &parts) != nil else { return "date" }
    func twoDigits(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
    return "\(parts.tm_year + 1900)-\(twoDigits(parts.tm_mon + 1))-\(twoDigits(parts.tm_mday))"
}

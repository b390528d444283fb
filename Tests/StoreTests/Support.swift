import CLASP
import Router
import Store
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body` with a fresh directory under /tmp, removed afterwards with all it holds.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    var template = Array("/tmp/store-tests-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { buffer -> String? in
        guard let base = buffer.baseAddress, let result = mkdtemp(base) else { return nil }
        return String(cString: result)
    }
    guard let directory = made else { throw TestFailure("mkdtemp failed") }
    defer { removeTree(directory) }
    return try body(directory)
}

/// `rm -r`.
private func removeTree(_ path: String) {
    var info = stat()
    guard lstat(path, &info) == 0 else { return }
    if info.st_mode & S_IFMT == S_IFDIR, let directory = opendir(path) {
        var children: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { children.append(path + "/" + name) }
        }
        closedir(directory)
        children.forEach(removeTree)
    }
    remove(path)
}

/// A wall clock fixed at `now` (µs since the epoch).
struct FixedClock: RouterClock {
    var now: UInt64
    func wallMicroseconds() -> UInt64 { now }
    func monotonicNanoseconds() -> UInt64 { 0 }
}

/// Collects what the store reports through `onWritten`.
final class OutcomeLog: Sendable {
    private let outcomes = Mutex<[StoreOutcome]>([])

    var all: [StoreOutcome] { outcomes.withLock { $0 } }

    func record(_ outcome: StoreOutcome) { outcomes.withLock { $0.append(outcome) } }

    /// Waits (up to 10 s) until an outcome covers `sequence`.
    func wait(through sequence: UInt64) throws {
        for _ in 0 ..< 10_000 {
            if all.contains(where: { $0.through >= sequence }) { return }
            usleep(1_000)
        }
        throw TestFailure("no outcome through \(sequence) after 10 s; got \(all)")
    }
}

/// Opens the store in `directory`, logging outcomes into `log`.
func openStore(
    _ directory: String, log: OutcomeLog = OutcomeLog(), now: UInt64 = 1_000_000,
    busyTimeout: Duration = .seconds(5)
) throws -> (store: SQLiteStateStore, restored: RestoredState) {
    try SQLiteStateStore.open(directory: directory, clock: FixedClock(now: now), busyTimeout: busyTimeout,
                              onWritten: { log.record($0) })
}

/// Writes `batches` through a store opened on `directory`, closes it, and returns what a
/// fresh open restores.
func writeAndReopen(_ directory: String, _ batches: [StoreBatch], now: UInt64 = 1_000_000) throws -> RestoredState {
    let (store, _) = try openStore(directory, now: now)
    for batch in batches { store.write(batch) }
    store.close()
    return try openStore(directory, now: now).restored
}

func param(_ address: String, _ value: Value, revision: UInt64 = 1, ttl: TTL? = nil, expiresAt: UInt64? = nil) -> StoredParam {
    StoredParam(address: address, value: value, revision: revision, writer: "session-\(revision)",
                timestamp: 1_700_000_000_000_000 + revision, ttl: ttl, expiresAt: expiresAt)
}

// MARK: - Files

func readFile(_ path: String) throws -> [UInt8] {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw TestFailure("cannot open \(path)") }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n >= 0 else { throw TestFailure("cannot read \(path)") }
        if n == 0 { return bytes }
        bytes += chunk[..<n]
    }
}

/// Writes `bytes` at `offset` (the file is created if missing, never truncated).
func writeFile(_ path: String, _ bytes: [UInt8], at offset: Int = 0) throws {
    let fd = open(path, O_WRONLY | O_CREAT, 0o644)
    guard fd >= 0 else { throw TestFailure("cannot open \(path)") }
    defer { close(fd) }
    let written = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
    guard written == bytes.count else { throw TestFailure("short write to \(path)") }
}

func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

import Glibc
import Router

/// A benchmark run that did not do what it should: it fails the benchmark instead of being
/// measured.
struct BenchmarkFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Throws unless `condition` holds.
func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw BenchmarkFailure(message()) }
}

/// CLOCK_REALTIME in µs: the clock the router stamps params and bundle times with, and the
/// one `CLASPClient` stamps `InboundFrame.receivedAt` with (both use `SystemClock`), so times
/// from the two sides compare directly.
func wallMicroseconds() -> UInt64 {
    SystemClock().wallMicroseconds()
}

/// `later − earlier` in µs, or 0 when the clock says otherwise.
func elapsed(from earlier: UInt64, to later: UInt64) -> Int {
    later > earlier ? Int(later - earlier) : 0
}

// MARK: - Memory

/// This process's memory from `/proc/self/status`, in kB.
enum ProcessMemory {
    /// Resident set size now (VmRSS).
    static func residentKB() -> Int {
        statusField("VmRSS:") ?? 0
    }

    /// Highest resident set size since the process started or since `resetPeak()` (VmHWM).
    static func peakKB() -> Int {
        statusField("VmHWM:") ?? 0
    }

    /// Resets VmHWM to the current RSS (writing 5 to /proc/self/clear_refs, Linux ≥ 4.0).
    /// False when the kernel refused; then only sampled peaks are available.
    @discardableResult
    static func resetPeak() -> Bool {
        let fd = open("/proc/self/clear_refs", O_WRONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return write(fd, "5", 1) == 1
    }

    private static func statusField(_ name: String) -> Int? {
        let fd = open("/proc/self/status", O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4_096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        let text = String(decoding: bytes, as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            let digits = line.dropFirst(name.count).filter(\.isNumber)
            return Int(digits)
        }
        return nil
    }
}

// MARK: - Temporary directory

/// A fresh directory for the state database, removed (with the files SQLite put there) by
/// `remove()`. Under `$TMPDIR` or /tmp — a real file system here, so fsync costs what it costs.
struct TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array((base + "/clasp-state-bench.XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in
            mkdtemp(buffer.baseAddress!).map { String(cString: $0) }
        }
        guard let made else {
            throw BenchmarkFailure("cannot create a temporary directory under \(base): errno \(errno)")
        }
        path = made
    }

    /// Deletes the files in the directory (SQLite makes no subdirectories) and the directory.
    func remove() {
        if let directory = opendir(path) {
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
                }
                if name != "." && name != ".." { unlink(path + "/" + name) }
            }
            closedir(directory)
        }
        rmdir(path)
    }
}

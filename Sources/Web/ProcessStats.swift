#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CPU time and resident memory of this process (memory from /proc, Linux).
struct ProcessStats {
    /// User + system CPU seconds since start.
    var cpuSeconds: Double
    var residentBytes: Int

    static func now() -> ProcessStats {
        var used = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &used)
        let cpu = Double(used.tv_sec) + Double(used.tv_nsec) / 1e9
        var resident = 0
        // statm: size resident shared … in pages.
        if let bytes = AtomicFile.read("/proc/self/statm"), let text = String(validating: bytes, as: UTF8.self) {
            let fields = text.split(separator: " ")
            if fields.count > 1, let pages = Int(fields[1]) { resident = pages * Int(sysconf(Int32(_SC_PAGESIZE))) }
        }
        return ProcessStats(cpuSeconds: cpu, residentBytes: resident)
    }
}

import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif
import Histogram
import NIOCore

/// What the subscribers on one event loop received. Touched only on that loop (every
/// subscriber session of the loop shares it), read through `summary` on the loop at the end.
final class LoopStats: @unchecked Sendable {
    private(set) var delivered = 0
    private var lastAt: UInt64 = 0
    private var latency = LatencyHistogram.make()
    /// Per message: how many subscribers of this loop have it, and the slowest one's latency.
    private var receivers: [UInt32]
    private var slowest: [UInt64]

    init(capacity: Int) {
        receivers = Array(repeating: 0, count: capacity)
        slowest = Array(repeating: 0, count: capacity)
    }

    func record(seq: UInt64, sentAt: UInt64, now: UInt64) {
        let elapsed = now &- sentAt
        delivered += 1
        lastAt = now
        latency.record(elapsed)
        guard seq < UInt64(receivers.count) else { return }  // past the per-message arrays: counted above only
        let index = Int(seq)
        receivers[index] += 1
        if elapsed > slowest[index] { slowest[index] = elapsed }
    }

    struct Summary: Sendable {
        let delivered: Int
        /// When the last delivery arrived (CLOCK_MONOTONIC ns), 0 if none.
        let lastAt: UInt64
        let latency: Histogram<UInt64>
        let receivers: [UInt32]
        let slowest: [UInt64]
    }

    func summary(messages: Int) -> Summary {
        let count = min(messages, receivers.count)
        return Summary(
            delivered: delivered, lastAt: lastAt, latency: latency,
            receivers: Array(receivers[..<count]), slowest: Array(slowest[..<count]))
    }
}

enum LatencyHistogram {
    /// Nanoseconds up to a minute, three significant digits.
    static func make() -> Histogram<UInt64> {
        Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    }
}

/// Percentiles of a latency histogram in µs, the way the report prints them.
struct Percentiles: Codable, Sendable, CustomStringConvertible {
    let count: UInt64
    let p50: Double
    let p90: Double
    let p99: Double
    let p999: Double
    let max: Double

    init(_ histogram: Histogram<UInt64>) {
        count = histogram.totalCount
        let micros = { (value: UInt64) in (Double(value) / 1_000 * 10).rounded() / 10 }
        p50 = count == 0 ? 0 : micros(histogram.valueAtPercentile(50))
        p90 = count == 0 ? 0 : micros(histogram.valueAtPercentile(90))
        p99 = count == 0 ? 0 : micros(histogram.valueAtPercentile(99))
        p999 = count == 0 ? 0 : micros(histogram.valueAtPercentile(99.9))
        max = count == 0 ? 0 : micros(histogram.max)
    }

    var description: String {
        "p50 \(p50) µs, p90 \(p90), p99 \(p99), p99.9 \(p999), max \(max) (n = \(count))"
    }
}

/// The broker's resources, from /proc.
enum ProcessReadings {
    /// CPU seconds the process's threads have run: the sum of the first field of
    /// /proc/PID/task/*/schedstat, in nanoseconds. utime + stime of /proc/PID/stat count whole
    /// 10 ms clock ticks, sampled, which misses most of a broker that wakes for 20 µs per
    /// message at a paced rate.
    static func cpuSeconds(pid: Int32) -> Double? {
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else { return nil }
        var nanoseconds: UInt64 = 0
        for task in tasks {
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/schedstat", encoding: .utf8),
                let running = text.split(separator: " ").first.flatMap({ UInt64($0) })
            else { continue }
            nanoseconds += running
        }
        return Double(nanoseconds) / 1e9
    }

    /// Resident set size (VmRSS of /proc/PID/status) in KiB.
    static func residentKiB(pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
        }
        return nil
    }

    /// Descriptors the process has open (entries of /proc/PID/fd): its sockets among them.
    static func openDescriptors(pid: Int32) -> Int? {
        guard let directory = opendir("/proc/\(pid)/fd") else { return nil }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            if UInt8(bitPattern: entry.pointee.d_name.0) != UInt8(ascii: ".") { count += 1 }  // not . and ..
        }
        return count
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The router's only source of time, injected so tests can drive it by hand.
public protocol RouterClock: Sendable {
    /// Wall-clock time, µs since the Unix epoch (what goes on the wire).
    func wallMicroseconds() -> UInt64
    /// Monotonic time in ns, for timeouts and rates.
    func monotonicNanoseconds() -> UInt64
}

/// The system's clocks.
public struct SystemClock: RouterClock {
    public init() {}

    public func wallMicroseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000 &+ UInt64(ts.tv_nsec / 1_000)
    }

    public func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Nanoseconds on the monotonic clock, for deadlines that wall-clock changes cannot move.
public enum MonotonicClock {
    public static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// Sleeps until `deadline` (absolute, so a late wake-up does not push later deadlines).
    public static func sleep(until deadline: UInt64) {
        #if os(Linux)
        var target = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &target, nil) == EINTR {}
        #else
        let current = now()
        guard deadline > current else { return }
        var left = timespec(tv_sec: Int((deadline - current) / 1_000_000_000), tv_nsec: Int((deadline - current) % 1_000_000_000))
        while nanosleep(&left, &left) == -1 && errno == EINTR {}
        #endif
    }

    /// Sleeps for `nanoseconds` from now.
    public static func sleep(nanoseconds: UInt64) {
        sleep(until: now() + nanoseconds)
    }
}

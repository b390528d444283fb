#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A plain OS thread for a device loop: frame timing on its own thread, never on the
/// cooperative pool or an event loop, so other work cannot delay a frame.
public enum DeviceThread {
    /// Starts `body` on a new detached thread; false when the system refused one.
    public static func start(_ body: @escaping @Sendable () -> Void) -> Bool {
        let box = Unmanaged.passRetained(Body(body)).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { context in
            guard let context else { return nil }
            let body = Unmanaged<Body>.fromOpaque(context).takeRetainedValue()
            body.run()
            return nil
        }, box)
        guard created == 0 else {
            Unmanaged<Body>.fromOpaque(box).release()
            return false
        }
        pthread_detach(thread)
        return true
    }

    /// Moves the calling thread to real-time (SCHED_FIFO) priority, low in its range, so frame
    /// deadlines hold on a busy machine; false when the system does not allow it (no
    /// CAP_SYS_NICE / RLIMIT_RTPRIO), and the thread keeps its normal priority. The device
    /// loops sleep every frame, so they cannot starve the rest of the system.
    public static func raisePriority() -> Bool {
        #if os(Linux)
        var parameters = sched_param()
        parameters.sched_priority = sched_get_priority_min(SCHED_FIFO) + 9
        return pthread_setschedparam(pthread_self(), SCHED_FIFO, &parameters) == 0
        #else
        return false
        #endif
    }

    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }
}

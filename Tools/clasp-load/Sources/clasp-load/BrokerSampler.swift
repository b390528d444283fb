import NIOCore
import NIOPosix

/// The broker's VmRSS and open descriptors (`--watch-pid`), read every 20 ms on a thread of its
/// own while the run lasts: the RSS peak, not only its value at the end, and when the broker
/// closed connections (its descriptor count falls).
final class BrokerSampler: @unchecked Sendable {
    struct Sample: Sendable {
        /// CLOCK_MONOTONIC ns, as the pump's times.
        let at: UInt64
        let rssKiB: Int
        let descriptors: Int
    }

    private let pid: Int32
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let loop: any EventLoop
    /// Touched on `loop` only.
    private var samples: [Sample] = []
    private var task: RepeatedTask?

    init(pid: Int32) {
        self.pid = pid
        self.loop = group.next()
    }

    func start() {
        loop.execute { [self] in
            task = loop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(20)) { [self] _ in
                guard let rss = ProcessReadings.residentKiB(pid: pid), let descriptors = ProcessReadings.openDescriptors(pid: pid) else { return }
                samples.append(Sample(at: NIODeadline.now().uptimeNanoseconds, rssKiB: rss, descriptors: descriptors))
            }
        }
    }

    /// Every sample so far.
    func read() async throws -> [Sample] {
        try await loop.submit { [self] in samples }.get()
    }

    /// Descriptors the broker has closed since `start` (ns): the count then, less the lowest since.
    func closed(since start: UInt64) async throws -> Int {
        let after = try await read().filter { $0.at >= start }
        guard let first = after.first else { return 0 }
        return first.descriptors - (after.map(\.descriptors).min() ?? first.descriptors)
    }

    func stop() async {
        _ = try? await loop.submit { [self] in task?.cancel() }.get()
        try? await group.shutdownGracefully()
    }

    /// Seconds after `start` at which descriptors went away, one entry per descriptor.
    static func closeTimes(_ samples: [Sample], since start: UInt64) -> [Double] {
        var times: [Double] = []
        for (previous, sample) in zip(samples, samples.dropFirst()) where sample.at >= start && sample.descriptors < previous.descriptors {
            let seconds = Double(sample.at - start) / 1e9
            times += Array(repeating: (seconds * 1000).rounded() / 1000, count: previous.descriptors - sample.descriptors)
        }
        return times
    }
}

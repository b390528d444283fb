public import CLASP
public import Logging
public import NIOCore
public import Router
import Synchronization

/// Owns a `RouterCore` and confines it to one `EventLoop` (design §2: one serial executor, no
/// locks on the hot path).
///
/// Transports whose channels live on `eventLoop` call the core directly through
/// `withCoreOnLoop`; anything elsewhere hops with `execute`. A timer drives `core.tick()`
/// every 100 ms, and a one-shot timer is armed at each time the core asks to be woken
/// (scheduled bundles, TTL expiries, store flushes), so those run on time rather than on
/// the next tick.
public final class RouterHost: Sendable {
    /// The loop the router core runs on.
    public let eventLoop: any EventLoop
    public let logger: Logger

    private let core: NIOLoopBoundBox<RouterCore>
    private let isShutDown: NIOLoopBoundBox<Bool>
    private let ticker: RepeatedTask
    private let slowConsumers = Atomic<UInt64>(0)
    /// The armed wake-up: its deadline and task.
    private let wakeUp: NIOLoopBoundBox<(deadline: UInt64, task: Scheduled<Void>)?>

    /// How often the core's timers are driven.
    public static let tickInterval = TimeAmount.milliseconds(100)

    /// - Parameters:
    ///   - clock: must read CLOCK_MONOTONIC for `monotonicNanoseconds`, as NIO's timers do
    ///     (`SystemClock` does).
    ///   - store: where the core keeps state; report its outcomes with `stored(through:)`
    ///     and `storeFailed(through:reason:)`.
    ///   - restoring: what the store held at start-up.
    public init(
        configuration: RouterConfiguration,
        eventLoop: any EventLoop,
        clock: any RouterClock = SystemClock(),
        logger: Logger,
        store: (any StateStore)? = nil,
        restoring: [StoredParam] = [],
        commits: [CommitRecord] = [],
        timelines: [StoredTimeline] = []
    ) {
        let router = RouterCore(
            configuration: configuration, clock: clock, store: store, restoring: restoring, commits: commits,
            timelines: timelines)
        let core = NIOLoopBoundBox.makeBoxSendingValue(router, as: RouterCore.self, eventLoop: eventLoop)
        let isShutDown = NIOLoopBoundBox.makeBoxSendingValue(false, eventLoop: eventLoop)
        let wakeUp = NIOLoopBoundBox.makeBoxSendingValue(
            nil as (deadline: UInt64, task: Scheduled<Void>)?, eventLoop: eventLoop)
        self.eventLoop = eventLoop
        self.logger = logger
        self.core = core
        self.isShutDown = isShutDown
        self.wakeUp = wakeUp
        self.ticker = eventLoop.scheduleRepeatedTask(
            initialDelay: Self.tickInterval,
            delay: Self.tickInterval
        ) { _ in
            guard !isShutDown.value else { return }
            core.value.tick()
        }
        let loop = eventLoop
        // Set on the loop: the core is only touched there.
        eventLoop.execute {
            core.value.wakeUpHandler = { deadline in
                Self.arm(wakeUp, at: deadline, core: core, isShutDown: isShutDown, on: loop)
            }
        }
    }

    /// Arms the one-shot timer for `deadline` unless an earlier one is armed already.
    private static func arm(
        _ wakeUp: NIOLoopBoundBox<(deadline: UInt64, task: Scheduled<Void>)?>, at deadline: UInt64,
        core: NIOLoopBoundBox<RouterCore>, isShutDown: NIOLoopBoundBox<Bool>, on loop: any EventLoop
    ) {
        if let armed = wakeUp.value {
            if armed.deadline <= deadline { return }
            armed.task.cancel()
            wakeUp.value = nil
        }
        if deadline <= NIODeadline.now().uptimeNanoseconds {
            // Due now (the core has more to do): queue it behind the tasks already queued —
            // among them the transports' flushes of what the core just sent.
            loop.execute {
                guard !isShutDown.value else { return }
                core.value.runTimers()
            }
            return
        }
        let task = loop.scheduleTask(deadline: .uptimeNanoseconds(deadline)) {
            wakeUp.value = nil
            guard !isShutDown.value else { return }
            core.value.runTimers()
        }
        wakeUp.value = (deadline, task)
    }

    /// The store wrote every batch up to `sequence` (callable from any thread).
    public func stored(through sequence: UInt64) {
        execute { $0.stored(through: sequence) }
    }

    /// The store failed to write the batches up to `sequence` (callable from any thread).
    public func storeFailed(through sequence: UInt64, reason: String) {
        logger.error("state store write failed: \(reason); the changes are kept and retried")
        execute { $0.storeFailed(through: sequence, reason: reason) }
    }

    /// Runs `body` with the core. Must be called on `eventLoop`.
    @inlinable
    public func withCoreOnLoop<Result>(_ body: (RouterCore) throws -> Result) rethrows -> Result {
        try body(coreOnLoop)
    }

    /// The core; only valid on `eventLoop` (checked).
    @usableFromInline
    var coreOnLoop: RouterCore { core.value }

    /// Runs `body` with the core on `eventLoop`: right away when already there, else after a hop.
    /// Calls made from one thread run in the order they were made.
    public func execute(_ body: @escaping @Sendable (RouterCore) -> Void) {
        if eventLoop.inEventLoop {
            body(core.value)
        } else {
            let core = self.core
            eventLoop.execute { body(core.value) }
        }
    }

    /// True once `shutdown()` has run (on the loop).
    public var isShutDownOnLoop: Bool { isShutDown.value }

    /// Number of connections the core currently knows.
    public func connectionCount() async -> Int {
        let core = self.core
        return (try? await eventLoop.submit { core.value.connectionCount }.get()) ?? 0
    }

    /// A transport closed a session that could not keep up (its outbound queue overflowed).
    public func slowConsumerClosed() {
        slowConsumers.add(1, ordering: .relaxed)
    }

    /// Sessions closed so far because their outbound queue overflowed.
    public var slowConsumerCloses: UInt64 { slowConsumers.load(ordering: .relaxed) }

    /// The router's counters now.
    public func statistics() async -> RouterStatistics {
        let core = self.core
        return (try? await eventLoop.submit { core.value.statisticsNow }.get()) ?? RouterStatistics()
    }

    /// Params matching `pattern` (all when nil), sorted by address, at most `limit`.
    public func params(matching pattern: AddressPattern?, limit: Int) async -> [ParamState] {
        let core = self.core
        return (try? await eventLoop.submit { core.value.paramStates(matching: pattern, limit: limit) }.get()) ?? []
    }

    /// Closes every connection (`CloseReason.shutdown`), hands what changed to the store
    /// and stops the timers. Idempotent.
    public func shutdown() async {
        let core = self.core
        let isShutDown = self.isShutDown
        let ticker = self.ticker
        let wakeUp = self.wakeUp
        let done: EventLoopFuture<Void> = eventLoop.submit {
            guard !isShutDown.value else { return }
            isShutDown.value = true
            ticker.cancel()
            wakeUp.value?.task.cancel()
            wakeUp.value = nil
            core.value.shutdown()
            core.value.flushStore()
        }
        try? await done.get()
    }
}

public import Logging
public import NIOCore
public import Router

/// Owns a `RouterCore` and confines it to one `EventLoop` (design §2: one serial executor, no
/// locks on the hot path).
///
/// Transports whose channels live on `eventLoop` call the core directly through
/// `withCoreOnLoop`; anything elsewhere hops with `execute`. A timer drives `core.tick()`
/// every 100 ms.
public final class RouterHost: Sendable {
    /// The loop the router core runs on.
    public let eventLoop: any EventLoop
    public let logger: Logger

    private let core: NIOLoopBoundBox<RouterCore>
    private let isShutDown: NIOLoopBoundBox<Bool>
    private let ticker: RepeatedTask

    /// How often the core's timers are driven.
    public static let tickInterval = TimeAmount.milliseconds(100)

    public init(
        configuration: RouterConfiguration,
        eventLoop: any EventLoop,
        clock: any RouterClock = SystemClock(),
        logger: Logger
    ) {
        let core = NIOLoopBoundBox.makeBoxSendingValue(
            RouterCore(configuration: configuration, clock: clock),
            as: RouterCore.self,
            eventLoop: eventLoop
        )
        let isShutDown = NIOLoopBoundBox.makeBoxSendingValue(false, eventLoop: eventLoop)
        self.eventLoop = eventLoop
        self.logger = logger
        self.core = core
        self.isShutDown = isShutDown
        self.ticker = eventLoop.scheduleRepeatedTask(
            initialDelay: Self.tickInterval,
            delay: Self.tickInterval
        ) { _ in
            guard !isShutDown.value else { return }
            core.value.tick()
        }
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

    /// Closes every connection (`CloseReason.shutdown`) and stops the timer. Idempotent.
    public func shutdown() async {
        let core = self.core
        let isShutDown = self.isShutDown
        let ticker = self.ticker
        let done: EventLoopFuture<Void> = eventLoop.submit {
            guard !isShutDown.value else { return }
            isShutDown.value = true
            ticker.cancel()
            core.value.shutdown()
        }
        try? await done.get()
    }
}

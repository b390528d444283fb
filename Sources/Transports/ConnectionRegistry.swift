import NIOCore
import Synchronization

/// A listener's open child channels, so shutdown can reach them and their number stays
/// bounded. Touched on accept and close only (one per `Listener`).
final class ConnectionRegistry: Sendable {
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    /// Registers `channel`; false (nothing registered) when `limit` channels are open.
    func insert(_ channel: any Channel) -> Bool {
        let key = ObjectIdentifier(channel)
        let admitted = channels.withLock { open in
            guard open.count < limit else { return false }
            open[key] = channel
            return true
        }
        guard admitted else { return false }
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.channels.withLock { $0.removeValue(forKey: key) }
        }
        return true
    }

    func snapshot() -> [any Channel] {
        channels.withLock { Array($0.values) }
    }

    /// Fires `ServerShutdownEvent` into every open channel, closes whoever has not finished
    /// closing within `grace` (one deadline for all, not one after another) and waits until
    /// all are closed.
    func closeAll(grace: TimeAmount) async {
        let open = snapshot()
        for channel in open {
            channel.pipeline.fireUserInboundEventTriggered(ServerShutdownEvent())
        }
        let deadlines = open.map { channel in
            channel.eventLoop.scheduleTask(in: grace) { channel.close(promise: nil) }
        }
        for channel in open {
            try? await channel.closeFuture.get()
        }
        for deadline in deadlines { deadline.cancel() }
    }
}

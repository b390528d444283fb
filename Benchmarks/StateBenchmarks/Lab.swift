import CLASP
import Logging
import NIOCore
import NIOPosix
import Router
import Store
import Synchronization
import Transports

/// An in-process gateway set up as `GatewayServer` sets up the real one: a `SQLiteStateStore`
/// in a fresh directory, a `RouterHost` restored from it and reporting to it, and the
/// WebSocket server on 127.0.0.1 (port 0), all on one event-loop thread of their own. Clients
/// run on a second group, as if they were another process.
final class Lab: Sendable {
    let serverGroup: MultiThreadedEventLoopGroup
    let clientGroup: MultiThreadedEventLoopGroup
    let host: RouterHost
    let server: WebSocketServer
    let store: SQLiteStateStore
    let storeLog: StoreLog
    let directory: TemporaryDirectory
    /// Params preloaded by `start(preload:)`: `/bench/p/<i>` = float(i).
    let preloaded: Int
    /// Connections kept open across iterations (see `keep`), closed by `stop`.
    private let keptClients = Mutex<[KeptClient]>([])

    private init(
        serverGroup: MultiThreadedEventLoopGroup, clientGroup: MultiThreadedEventLoopGroup, host: RouterHost,
        server: WebSocketServer, store: SQLiteStateStore, storeLog: StoreLog, directory: TemporaryDirectory, preloaded: Int
    ) {
        self.serverGroup = serverGroup
        self.clientGroup = clientGroup
        self.host = host
        self.server = server
        self.store = store
        self.storeLog = storeLog
        self.directory = directory
        self.preloaded = preloaded
    }

    static let current = Mutex<Lab?>(nil)

    /// Starts a lab and, with `preload` > 0, writes that many params through a client and
    /// waits until they are on disk.
    static func start(preload: Int = 0) async throws {
        var logger = Logger(label: "state-benchmarks")
        logger.logLevel = .critical
        let directory = try TemporaryDirectory()
        let storeLog = StoreLog()
        let store: SQLiteStateStore
        let restored: RestoredState
        do {
            (store, restored) = try SQLiteStateStore.open(directory: directory.path) { storeLog.deliver($0) }
        } catch {
            directory.remove()
            throw BenchmarkFailure("cannot open the state store in \(directory.path): \(error)")
        }
        let serverGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let host = RouterHost(
            configuration: RouterConfiguration(), eventLoop: serverGroup.next(), logger: logger,
            store: store, restoring: restored.params, commits: restored.commits)
        storeLog.connect(host)
        var configuration = WebSocketServer.Configuration()
        configuration.listener.host = "127.0.0.1"
        configuration.listener.port = 0
        let server = try await WebSocketServer.start(configuration: configuration, host: host, group: serverGroup, logger: logger)
        let lab = Lab(
            serverGroup: serverGroup, clientGroup: clientGroup, host: host, server: server, store: store,
            storeLog: storeLog, directory: directory, preloaded: preload)
        current.withLock { $0 = lab }
        if preload > 0 { try await lab.preload(preload) }
    }

    /// Stops what `start` started, in the gateway's order, and deletes the database.
    static func stop() async throws {
        guard let lab = current.withLock({ lab in defer { lab = nil }; return lab }) else { return }
        await closeAll(lab.kept.map(\.client))
        try await lab.server.shutdown()
        await lab.host.shutdown()
        lab.store.close()
        try await lab.clientGroup.shutdownGracefully()
        try await lab.serverGroup.shutdownGracefully()
        lab.directory.remove()
    }

    static func running() throws -> Lab {
        guard let lab = current.withLock({ $0 }) else { throw BenchmarkFailure("the lab is not running") }
        return lab
    }

    func connect(name: String = "bench", options: CLASPClient.Options = CLASPClient.Options()) async throws -> CLASPClient {
        try await CLASPClient.connect(host: "127.0.0.1", port: server.localPort, name: name, group: clientGroup, options: options)
    }

    /// Connects clients named `names` that stay open across iterations, each with a
    /// `Received` inbox and, when `subscribing` is given, subscribed to it; returns once the
    /// router has applied every subscription (a PING barrier).
    func keep(_ names: [String], subscribing pattern: String? = nil) async throws {
        for name in names {
            let client = try await connect(name: name)
            let inbox = Inbox.start(client, Received())
            if let pattern { try await client.send(.subscribe(Subscribe(id: 1, pattern: pattern))) }
            try await client.send(.ping)
            let received = try await inbox.wait("\(name)'s PONG", timeout: .seconds(5)) { !$0.pongs.isEmpty }
            try require(received.errors.isEmpty, "\(name): \(received)")
            inbox.reset(Received())
            keptClients.withLock { $0.append(KeptClient(name: name, client: client, inbox: inbox)) }
        }
    }

    /// The kept clients, in the order `keep` connected them.
    var kept: [KeptClient] { keptClients.withLock { $0 } }

    /// Reads a value from the router core on its loop.
    func onRouter<Value: Sendable>(_ body: @escaping @Sendable (RouterCore) -> Value) async throws -> Value {
        let host = self.host
        return try await host.eventLoop.submit { host.withCoreOnLoop(body) }.get()
    }

    static func preloadAddress(_ index: Int) -> String { "/bench/p/\(index)" }

    /// Writes `count` params `/bench/p/<i>` = float(i), pipelined, the last one with QoS commit:
    /// its ACK comes once the batch holding it — and every earlier change — is on disk.
    private func preload(_ count: Int) async throws {
        let writer = try await connect(name: "preload")
        let inbox = Inbox.start(writer, Received())
        for index in 0..<count {
            let set = SetMessage(address: Self.preloadAddress(index), value: .float(Double(index)))
            try await writer.send(.set(set), qos: index == count - 1 ? .commit : .fire)
        }
        let received = try await inbox.wait("the preload's commit ACK", timeout: .seconds(30)) { !$0.acks.isEmpty || !$0.errors.isEmpty }
        try require(received.errors.isEmpty, "preload refused: \(received.errors)")
        try require(received.acks.first?.ack.address == Self.preloadAddress(count - 1), "preload ACK for the wrong address: \(received.acks)")
        await writer.close()
        let params = try await onRouter { $0.paramCount }
        try require(params == count, "the router holds \(params) params after preloading \(count)")
        try require(storeLog.failures == 0, "the store failed \(storeLog.failures) times during the preload")
    }
}

/// A connection kept across iterations, and what it received.
struct KeptClient: Sendable {
    let name: String
    let client: CLASPClient
    let inbox: Inbox<Received>
}

/// The store's outcomes, passed on to the host as `GatewayServer` does, and counted: each
/// outcome is one SQLite transaction (one fsync of the WAL).
final class StoreLog: Sendable {
    private struct State {
        var host: RouterHost?
        var transactions = 0
        var failures = 0
        var writtenThrough: UInt64 = 0
    }

    private let state = Mutex(State())

    func connect(_ host: RouterHost) {
        state.withLock { $0.host = host }
    }

    func deliver(_ outcome: StoreOutcome) {
        let host = state.withLock { state -> RouterHost? in
            state.transactions += 1
            switch outcome {
            case .written(let through): state.writtenThrough = max(state.writtenThrough, through)
            case .failed: state.failures += 1
            }
            return state.host
        }
        guard let host else { return }
        switch outcome {
        case .written(let through): host.stored(through: through)
        case .failed(let through, let reason): host.storeFailed(through: through, reason: reason)
        }
    }

    var transactions: Int { state.withLock { $0.transactions } }
    var failures: Int { state.withLock { $0.failures } }
}

import ArgumentParser
import Bridges
import Dispatch
import Logging
import NIOCore
import NIOPosix
import Discovery
import Router
import Store
import Synchronization
import Transports

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Wiring and lifecycle: router host, WebSocket, TCP and UDP listeners, bridges, signals,
/// orderly shutdown.
enum GatewayServer {
    /// A stop that takes longer than this is cut short (exit 1) rather than hanging forever.
    static let shutdownDeadline: Double = 15

    static func run(settings: GatewaySettings, dataDirectory: String, logger: Logger) async throws {
        // Before anything listens, so a signal right after the "listening" line is not lost.
        let watcher = SignalWatcher()

        let connections = websocketConfiguration(settings).maxConnections
            + (settings.tcp.enabled ? tcpConfiguration(settings).maxConnections : 0)
        if let files = FileDescriptorLimit.raise(), files < UInt64(connections) + 64 {
            logger.warning(
                "the open-file limit (\(files)) is below what \(connections) connections need; raise it (ulimit -n, LimitNOFILE=)")
        }

        // The store reports to the host, which exists only once the store has given back
        // the state it restores.
        let reports = StoreReports()
        let store: SQLiteStateStore
        let restored: RestoredState
        do {
            (store, restored) = try SQLiteStateStore.open(directory: dataDirectory) { reports.deliver($0) }
        } catch {
            logger.critical("cannot start: \(error.description)")
            throw ExitCode(GatewayExit.startFailure)
        }
        let expired = restored.expiredParamCount > 0 ? " (\(restored.expiredParamCount) expired while stopped)" : ""
        logger.info(
            "state: restored \(restored.params.count) params, \(restored.timelines.count) timelines and \(restored.commits.count) commit identities from \(store.path)\(expired)")

        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, System.coreCount))
        let host = RouterHost(
            configuration: settings.router, eventLoop: group.next(), logger: logger,
            store: store, restoring: restored.params, commits: restored.commits, timelines: restored.timelines)
        reports.connect(host)

        let server: WebSocketServer
        do {
            server = try await WebSocketServer.start(
                configuration: websocketConfiguration(settings), host: host, group: group, logger: logger)
        } catch {
            logger.critical(
                "cannot listen on \(endpoint(settings.bind, settings.port)): \(describe(error, port: settings.port))")
            await host.shutdown()
            store.close()
            try? await group.shutdownGracefully()
            throw ExitCode(GatewayExit.startFailure)
        }

        // Both listeners are bound before either "listening" line, so a supervisor never sees
        // one for a gateway that then fails to start.
        var tcpServer: TCPServer?
        if settings.tcp.enabled {
            do {
                tcpServer = try await TCPServer.start(
                    configuration: tcpConfiguration(settings), host: host, group: group, logger: logger)
            } catch {
                logger.critical(
                    "cannot listen on \(endpoint(settings.bind, settings.tcp.port)): \(describe(error, port: settings.tcp.port))")
                try? await server.shutdown()
                await host.shutdown()
                store.close()
                try? await group.shutdownGracefully()
                throw ExitCode(GatewayExit.startFailure)
            }
        }
        var udpServer: UDPServer?
        if settings.udp.enabled {
            do {
                udpServer = try await UDPServer.start(configuration: udpConfiguration(settings), host: host, logger: logger)
            } catch {
                logger.critical(
                    "cannot listen on udp \(endpoint(settings.bind, settings.udp.port)): \(describe(error, port: settings.udp.port))")
                try? await tcpServer?.shutdown()
                try? await server.shutdown()
                await host.shutdown()
                store.close()
                try? await group.shutdownGracefully()
                throw ExitCode(GatewayExit.startFailure)
            }
        }
        logger.notice(
            "listening on ws://\(endpoint(settings.bind, server.localPort))",
            metadata: ["name": "\(settings.router.name)", "version": "\(GatewayVersion.string)"])
        if let tcpServer {
            logger.notice("listening on tcp://\(endpoint(settings.bind, tcpServer.localPort))")
        }
        if let udpServer {
            logger.notice("listening on udp://\(endpoint(settings.bind, udpServer.localPort))")
        }

        var discovery: DiscoveryResponder?
        if settings.discoveryPort != 0 {
            var configuration = DiscoveryResponder.Configuration()
            configuration.host = settings.bind
            configuration.port = settings.discoveryPort
            configuration.name = settings.router.name
            configuration.features = settings.router.features
            do {
                discovery = try await DiscoveryResponder.start(configuration: configuration, group: group, logger: logger)
                logger.notice("discovery responder on udp://\(endpoint(settings.bind, settings.discoveryPort))")
            } catch {
                // Routing works without it; say so loudly rather than refuse to start.
                logger.error("no discovery responder on udp port \(settings.discoveryPort): \(describe(error, port: settings.discoveryPort))")
            }
        }

        // Bridges join once the router serves: each is one in-process session.
        let bridges = BridgeSupervisor(
            catalog: .standard,
            connect: { name, deliver in try await LocalRouterLink.open(host: host, name: name, deliver: deliver) },
            logger: logger)
        await bridges.apply(settings.bridges)

        var signals = watcher.signals.makeAsyncIterator()
        let first = await signals.next() ?? SIGTERM
        logger.info("\(SignalWatcher.name(first)) received, shutting down")

        // A second signal, or a stop that hangs, ends the process without waiting further.
        let forced = Task {
            if let second = await signals.next() {
                logger.warning("\(SignalWatcher.name(second)) received again, exiting now")
                exit(1)
            }
        }
        let deadline = DispatchWorkItem {
            logger.error("shutdown did not finish within \(Int(shutdownDeadline)) s, exiting")
            exit(1)
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + shutdownDeadline, execute: deadline)

        // Stop the bridges and accepting, close every connection, then stop the router and
        // the threads.
        await bridges.stopAll()
        try? await discovery?.shutdown()
        do {
            try await server.shutdown()
        } catch {
            logger.warning("WebSocket server shutdown: \(error)")
        }
        do {
            try await tcpServer?.shutdown()
        } catch {
            logger.warning("TCP server shutdown: \(error)")
        }
        try? await udpServer?.shutdown()
        // The host hands its last changes to the store; closing the store writes them.
        await host.shutdown()
        store.close()
        do {
            try await group.shutdownGracefully()
        } catch {
            logger.warning("event loop shutdown: \(error)")
        }
        deadline.cancel()
        forced.cancel()
        logger.notice("stopped")
    }

    static func websocketConfiguration(_ settings: GatewaySettings) -> WebSocketServer.Configuration {
        var configuration = WebSocketServer.Configuration()
        configuration.host = settings.bind
        configuration.port = settings.port
        // Room above the session limit for connections still in their HTTP upgrade.
        configuration.maxConnections = settings.router.maxSessions + 1_024
        if let value = settings.websocket.handshakeTimeout { configuration.handshakeTimeout = value }
        if let value = settings.websocket.maxFrameBytes { configuration.maxFrameBytes = value }
        if let value = settings.websocket.outboundQueueFrames { configuration.outboundQueueFrames = value }
        if let value = settings.websocket.outboundQueueBytes { configuration.outboundQueueBytes = value }
        return configuration
    }

    static func tcpConfiguration(_ settings: GatewaySettings) -> TCPServer.Configuration {
        var configuration = TCPServer.Configuration()
        configuration.host = settings.bind
        configuration.port = settings.tcp.port
        configuration.maxConnections = settings.router.maxSessions + 1_024
        if let value = settings.tcp.readTimeout { configuration.readTimeout = value }
        // One slow-consumer policy for both transports.
        if let value = settings.websocket.outboundQueueFrames { configuration.outboundQueueFrames = value }
        if let value = settings.websocket.outboundQueueBytes { configuration.outboundQueueBytes = value }
        return configuration
    }

    static func udpConfiguration(_ settings: GatewaySettings) -> UDPServer.Configuration {
        var configuration = UDPServer.Configuration()
        configuration.host = settings.bind
        configuration.port = settings.udp.port
        configuration.maxSessions = settings.router.maxSessions
        let udp = settings.udp
        if let value = udp.idleTimeout { configuration.idleTimeout = value }
        if let value = udp.maxDatagramBytes { configuration.maxDatagramBytes = value }
        configuration.multicastGroup = udp.multicastGroup
        configuration.multicastInterface = udp.multicastInterface
        if let value = udp.multicastTTL { configuration.multicastTTL = value }
        if let value = udp.multicastLoop { configuration.multicastLoop = value }
        if let value = udp.broadcast { configuration.broadcast = value }
        if let value = udp.broadcastAddress { configuration.broadcastAddress = value }
        if let value = udp.groupSubscribe { configuration.groupSubscriptions = value }
        // One slow-consumer policy for every transport.
        if let value = settings.websocket.outboundQueueFrames { configuration.outboundQueueFrames = value }
        if let value = settings.websocket.outboundQueueBytes { configuration.outboundQueueBytes = value }
        return configuration
    }

    /// `host:port`, with IPv6 literals in brackets.
    static func endpoint(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// A bind failure in plain words (the usual one: the port is taken).
    static func describe(_ error: any Error, port: Int) -> String {
        if let io = error as? IOError {
            switch io.errnoCode {
            case EADDRINUSE: return "port \(port) is already in use (\(SystemError.text(io.errnoCode)))"
            case EACCES: return "permission denied (ports below 1024 need privileges)"
            case EADDRNOTAVAIL: return "that address does not belong to this machine (\(SystemError.text(io.errnoCode)))"
            default: return SystemError.text(io.errnoCode)
            }
        }
        return "\(error)"
    }
}

/// Passes the store's outcomes to the router host once it exists (the store is opened
/// first, because the host starts from what it restores).
private final class StoreReports: Sendable {
    private let host = Mutex<RouterHost?>(nil)

    func connect(_ host: RouterHost) {
        self.host.withLock { $0 = host }
    }

    func deliver(_ outcome: StoreOutcome) {
        guard let host = host.withLock({ $0 }) else { return }
        switch outcome {
        case .written(let through): host.stored(through: through)
        case .failed(let through, let reason): host.storeFailed(through: through, reason: reason)
        }
    }
}

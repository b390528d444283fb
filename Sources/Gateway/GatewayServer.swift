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
import Web

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Wiring and lifecycle: router host, the WebSocket, TCP and UDP listeners (WebSocket and TCP
/// also over TLS), bridges, admin page, signals, orderly shutdown.
enum GatewayServer {
    /// A stop that takes longer than this is cut short (exit 1) rather than hanging forever.
    static let shutdownDeadline: Double = 15

    /// Why `run` returned.
    enum Stop {
        /// SIGINT or SIGTERM: exit.
        case signal
        /// The admin page asked for a restart: re-execute.
        case restart
    }

    /// - Parameter fileSettings: `settings` before the command-line flags (what the admin page
    ///   edits and saves).
    static func run(
        settings: GatewaySettings, fileSettings: GatewaySettings, dataDirectory: String, logs: LogRing, logger: Logger
    ) async throws -> Stop {
        // Before anything listens, so a signal right after the "listening" line is not lost.
        let watcher = SignalWatcher()

        // Before the store opens, so a bad certificate stops the start with nothing to undo.
        var tls: TLSIdentity?
        if settings.tls.enabled, settings.tls.websocketPort != 0 || settings.tls.tcpPort != 0 {
            do {
                let loaded = try TLSCertificateFiles.load(settings.tls, dataDirectory: dataDirectory, bind: settings.bind)
                tls = loaded.identity
                logger.notice("TLS certificate \(loaded.origin), SHA-256 fingerprint \(loaded.identity.fingerprint)")
            } catch {
                logger.critical("cannot start: \(error.description)")
                throw ExitCode(GatewayExit.startFailure)
            }
        }

        let plans = listenerPlans(settings, tls: tls)
        let connections = plans.count * (settings.router.maxSessions + 1_024)
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

        let group = MultiThreadedEventLoopGroup(numberOfThreads: settings.threads == 0 ? max(1, System.coreCount) : settings.threads)
        let host = RouterHost(
            configuration: settings.router, eventLoop: group.next(), logger: logger,
            store: store, restoring: restored.params, commits: restored.commits, timelines: restored.timelines)
        reports.connect(host)

        // Every listener is bound before any "listening" line, so a supervisor never sees one
        // for a gateway that then fails to start.
        var listening: [(url: String, stop: () async throws -> Void)] = []
        // The same, for the admin page's transports list.
        var bound: [Listener] = []
        func stopListening() async {
            for listener in listening.reversed() {
                do {
                    try await listener.stop()
                } catch {
                    logger.warning("\(listener.url) shutdown: \(error)")
                }
            }
        }
        do {
            for plan in plans {
                do {
                    switch plan.kind {
                    case .websocket(let configuration):
                        let server = try await WebSocketServer.start(configuration: configuration, host: host, group: group, logger: logger)
                        listening.append(("\(plan.scheme)://\(endpoint(settings.bind, server.localPort))", server.shutdown))
                        bound.append(Listener(name: plan.title, scheme: plan.scheme, address: settings.bind, port: server.localPort))
                    case .tcp(let configuration):
                        let server = try await TCPServer.start(configuration: configuration, host: host, group: group, logger: logger)
                        listening.append(("\(plan.scheme)://\(endpoint(settings.bind, server.localPort))", server.shutdown))
                        bound.append(Listener(name: plan.title, scheme: plan.scheme, address: settings.bind, port: server.localPort))
                    case .udp(let configuration):
                        let server = try await UDPServer.start(configuration: configuration, host: host, logger: logger)
                        listening.append(("\(plan.scheme)://\(endpoint(settings.bind, server.localPort))", server.shutdown))
                        bound.append(Listener(name: plan.title, scheme: plan.scheme, address: settings.bind, port: server.localPort))
                    }
                } catch {
                    logger.critical("cannot listen on \(endpoint(settings.bind, plan.port)): \(describe(error, port: plan.port))")
                    throw error
                }
            }
        } catch {
            await stopListening()
            await host.shutdown()
            store.close()
            try? await group.shutdownGracefully()
            throw ExitCode(GatewayExit.startFailure)
        }
        for (index, listener) in listening.enumerated() {
            if index == 0 {
                logger.notice(
                    "listening on \(listener.url)",
                    metadata: ["name": "\(settings.router.name)", "version": "\(GatewayVersion.string)"])
            } else {
                logger.notice("listening on \(listener.url)")
            }
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

        let restart = watcher.restart
        let admin = GatewayAdmin(
            settings: fileSettings, serverName: settings.router.name, dataDirectory: dataDirectory, catalog: .standard,
            supervisor: bridges, logger: logger,
            restart: { restart() })
        var listeners = bound
        if discovery != nil {
            listeners.append(Listener(name: "UDP discovery", scheme: "udp", address: settings.bind, port: settings.discoveryPort))
        }
        var adminServer: AdminServer?
        if settings.adminPort != 0 {
            adminServer = await startAdmin(
                settings: settings, admin: admin, host: host, dataDirectory: dataDirectory, logs: logs, group: group, logger: logger)
        }
        if let adminServer {
            listeners.append(Listener(name: "Admin page and REST API", scheme: "http", address: settings.bind, port: adminServer.localPort))
        }
        await admin.setListeners(listeners)

        var signals = watcher.signals.makeAsyncIterator()
        let first = await signals.next() ?? SIGTERM
        let stop: Stop = first == SignalWatcher.restartRequest ? .restart : .signal
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
        await adminServer?.shutdown()
        await bridges.stopAll()
        try? await discovery?.shutdown()
        await stopListening()
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
        return stop
    }

    /// The admin page's listener, or nil (logged) when it cannot start: routing works without it.
    private static func startAdmin(
        settings: GatewaySettings, admin: GatewayAdmin, host: RouterHost, dataDirectory: String, logs: LogRing,
        group: any EventLoopGroup, logger: Logger
    ) async -> AdminServer? {
        let auth: AdminAuth
        do {
            auth = try AdminAuth(directory: dataDirectory)
        } catch {
            logger.error("no admin page: \(error)")
            return nil
        }
        var configuration = AdminServer.Configuration()
        configuration.host = settings.bind
        configuration.port = settings.adminPort
        let app = AdminApp(backend: admin, auth: auth, host: host, logs: logs)
        do {
            let server = try await AdminServer.start(configuration: configuration, app: app, group: group, logger: logger)
            let shown = settings.bind == "0.0.0.0" || settings.bind == "::" ? "localhost" : settings.bind
            let first = await auth.isSetUp ? "" : " (first visit: set the admin password there)"
            logger.notice("admin page on http://\(endpoint(shown, server.localPort))/\(first)")
            return server
        } catch {
            logger.error("no admin page on tcp port \(settings.adminPort): \(describe(error, port: settings.adminPort))")
            return nil
        }
    }

    /// One listener to start: its URL scheme, port and transport configuration.
    struct ListenerPlan {
        enum Kind {
            case websocket(WebSocketServer.Configuration)
            case tcp(TCPServer.Configuration)
            case udp(UDPServer.Configuration)
        }
        var scheme: String
        var port: Int
        var kind: Kind

        /// What the admin page calls it.
        var title: String {
            switch scheme {
            case "ws": "CLASP over WebSocket"
            case "wss": "CLASP over WebSocket with TLS"
            case "tcp": "CLASP over TCP"
            case "tcps": "CLASP over TCP with TLS"
            case "udp": "CLASP over UDP"
            default: scheme
            }
        }
    }

    /// The listeners the settings ask for, in start order: WebSocket (always), TCP, UDP, then
    /// WSS and TCP+TLS when there is a TLS identity (`tls.enabled`); a port of 0 leaves one
    /// out (except the WebSocket one, where 0 picks a port).
    static func listenerPlans(_ settings: GatewaySettings, tls: TLSIdentity?) -> [ListenerPlan] {
        var plans = [ListenerPlan(scheme: "ws", port: settings.port, kind: .websocket(websocketConfiguration(settings)))]
        if settings.tcp.port != 0 {
            plans.append(ListenerPlan(scheme: "tcp", port: settings.tcp.port, kind: .tcp(tcpConfiguration(settings))))
        }
        if settings.udp.port != 0 {
            plans.append(ListenerPlan(scheme: "udp", port: settings.udp.port, kind: .udp(udpConfiguration(settings))))
        }
        if let tls {
            if settings.tls.websocketPort != 0 {
                var configuration = websocketConfiguration(settings)
                configuration.listener.port = settings.tls.websocketPort
                configuration.listener.tls = tls
                plans.append(ListenerPlan(scheme: "wss", port: settings.tls.websocketPort, kind: .websocket(configuration)))
            }
            if settings.tls.tcpPort != 0 {
                var configuration = tcpConfiguration(settings)
                configuration.listener.port = settings.tls.tcpPort
                configuration.listener.tls = tls
                plans.append(ListenerPlan(scheme: "tcps", port: settings.tls.tcpPort, kind: .tcp(configuration)))
            }
        }
        return plans
    }

    /// What every listener shares: the bind address, room above the session limit for
    /// connections still in their handshake, one slow-consumer policy for all transports.
    static func listenerConfiguration(_ settings: GatewaySettings, port: Int) -> ListenerConfiguration {
        var configuration = ListenerConfiguration(port: port)
        configuration.host = settings.bind
        configuration.maxConnections = settings.router.maxSessions + 1_024
        if let value = settings.websocket.outboundQueueFrames { configuration.outboundQueueFrames = value }
        if let value = settings.websocket.outboundQueueBytes { configuration.outboundQueueBytes = value }
        return configuration
    }

    static func websocketConfiguration(_ settings: GatewaySettings) -> WebSocketServer.Configuration {
        var configuration = WebSocketServer.Configuration()
        configuration.listener = listenerConfiguration(settings, port: settings.port)
        if let value = settings.websocket.handshakeTimeout { configuration.handshakeTimeout = value }
        if let value = settings.websocket.maxFrameBytes { configuration.maxFrameBytes = value }
        return configuration
    }

    static func tcpConfiguration(_ settings: GatewaySettings) -> TCPServer.Configuration {
        var configuration = TCPServer.Configuration()
        configuration.listener = listenerConfiguration(settings, port: settings.tcp.port)
        if let value = settings.tcp.readTimeout { configuration.readTimeout = value }
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

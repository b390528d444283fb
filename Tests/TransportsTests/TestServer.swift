import Logging
import NIOCore
import NIOPosix
import Router
import Transports

/// A router host and WebSocket server on 127.0.0.1, port 0, for one test.
struct TestServer {
    let group: MultiThreadedEventLoopGroup
    let host: RouterHost
    let server: WebSocketServer
    var port: Int { server.localPort }

    static let logger: Logger = {
        var logger = Logger(label: "transports-tests")
        logger.logLevel = .critical
        return logger
    }()

    static func start(
        router: RouterConfiguration = RouterConfiguration(),
        threads: Int = 2,
        _ configure: (inout WebSocketServer.Configuration) -> Void = { _ in }
    ) async throws -> TestServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let host = RouterHost(configuration: router, eventLoop: group.next(), logger: logger)
        var configuration = WebSocketServer.Configuration()
        configuration.listener.host = "127.0.0.1"
        configuration.listener.port = 0
        configure(&configuration)
        let server = try await WebSocketServer.start(configuration: configuration, host: host, group: group, logger: logger)
        return TestServer(group: group, host: host, server: server)
    }

    func stop() async throws {
        try await server.shutdown()
        await host.shutdown()
        try await group.shutdownGracefully()
    }

    /// Runs `body` against a fresh server and always stops it.
    static func with(
        router: RouterConfiguration = RouterConfiguration(),
        threads: Int = 2,
        _ configure: (inout WebSocketServer.Configuration) -> Void = { _ in },
        _ body: (TestServer) async throws -> Void
    ) async throws {
        let server = try await start(router: router, threads: threads, configure)
        do {
            try await body(server)
        } catch {
            try? await server.stop()
            throw error
        }
        try await server.stop()
    }

    func client(path: String = "/", protocols: String? = "clasp", receiveBuffer: Int? = nil) async throws -> WebSocketTestClient {
        try await WebSocketTestClient.connect(
            port: port, group: group, path: path, protocols: protocols, receiveBuffer: receiveBuffer
        )
    }

    func raw() async throws -> RawClient {
        try await RawClient.connect(port: port, group: group)
    }
}

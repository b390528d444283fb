import ArgumentParser
import Logging

/// Stand-in until the WebSocket server lands in Transports.
enum GatewayServer {
    static func run(settings: GatewaySettings, logger: Logger) async throws {
        logger.critical("the WebSocket server is not built into this binary yet")
        throw ExitCode(GatewayExit.startFailure)
    }
}

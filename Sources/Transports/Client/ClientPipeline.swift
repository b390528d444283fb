import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An upgraded connection with its CLASP handler in place.
struct Connection: Sendable {
    let channel: any Channel
    let handler: NIOLoopBound<CLASPClientHandler>
    let inbound: InboundSource
}

/// How the WebSocket upgrade ended.
enum UpgradeOutcome: Sendable {
    case upgraded(Connection)
    /// The server answered with this HTTP status instead of 101.
    case refused(status: Int?)
}

/// A connected channel whose upgrade is under way.
struct PendingUpgrade: Sendable {
    let channel: any Channel
    let upgrade: EventLoopFuture<UpgradeOutcome>
}

/// Set once by a deadline, read by the task that waited.
final class ExpiryFlag: Sendable {
    private let flag = Atomic(false)
    func set() { flag.store(true, ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .relaxed) }
}

/// Builds the client pipeline and turns NIO's errors into `CLASPClientError`s.
enum ClientPipeline {
    static let subprotocol = "clasp"

    /// HTTP client handlers with the WebSocket upgrader (on the channel's loop). After a 101:
    /// NIO's frame encoder/decoder and protocol error handler, `NIOWebSocketFrameAggregator`,
    /// then `CLASPClientHandler`.
    static func configureWebSocket(
        _ channel: any Channel,
        endpoint: CLASPEndpoint,
        options: CLASPClient.Options
    ) throws -> PendingUpgrade {
        let maxMessageBytes = min(options.maxMessageBytes, Int(UInt32.max))
        let upgrader = NIOTypedWebSocketClientUpgrader<UpgradeOutcome>(
            maxFrameSize: maxMessageBytes,
            upgradePipelineHandler: { channel, response in
                channel.eventLoop.makeCompletedFuture {
                    let chosen = response.headers[canonicalForm: "sec-websocket-protocol"]
                    if let other = chosen.first(where: { $0 != subprotocol }) {
                        throw CLASPClientError.upgradeRefused(status: 101, reason: "server chose subprotocol \(other)")
                    }
                    try channel.pipeline.syncOperations.addHandler(NIOWebSocketFrameAggregator(
                        minNonFinalFragmentSize: 0,
                        maxAccumulatedFrameCount: 1_024,
                        maxAccumulatedFrameSize: maxMessageBytes
                    ))
                    return .upgraded(try attachClientHandler(to: channel, options: options))
                }
            }
        )

        var headers = HTTPHeaders()
        let hostHeader = endpoint.host.contains(":") ? "[\(endpoint.host)]" : endpoint.host
        headers.add(name: "Host", value: "\(hostHeader):\(endpoint.port)")
        headers.add(name: "Sec-WebSocket-Protocol", value: subprotocol)
        headers.add(name: "Content-Length", value: "0")
        let request = HTTPRequestHead(version: .http1_1, method: .GET, uri: endpoint.path, headers: headers)
        let recorder = ResponseStatusRecorder()
        let status = NIOLoopBound(recorder, eventLoop: channel.eventLoop)
        let configuration = NIOTypedHTTPClientUpgradeConfiguration<UpgradeOutcome>(
            upgradeRequestHead: request,
            upgraders: [upgrader],
            notUpgradingCompletionHandler: { channel in
                channel.eventLoop.makeSucceededFuture(.refused(status: status.value.status))
            }
        )
        var pipelineConfiguration = NIOUpgradableHTTPClientPipelineConfiguration(upgradeConfiguration: configuration)
        // Bytes that follow the 101 in the same read are WebSocket frames (a close, say):
        // NIO's client default drops them.
        pipelineConfiguration.leftOverBytesStrategy = .forwardBytes
        let pipeline = channel.pipeline.syncOperations
        let upgrade = try pipeline.configureUpgradableHTTPClientPipeline(configuration: pipelineConfiguration)
        let upgradeHandler = try pipeline.handler(type: NIOTypedHTTPClientUpgradeHandler<UpgradeOutcome>.self)
        try pipeline.addHandler(recorder, position: .before(upgradeHandler))
        try pipeline.addHandler(CloseAfterEndOfInput(response: recorder, upgrade: upgrade), position: .first)
        return PendingUpgrade(channel: channel, upgrade: upgrade)
    }

    /// Length-prefixed frames (wire-format §1.5): `LengthPrefixClientFraming`, then
    /// `CLASPClientHandler`. Ready at once: there is no upgrade.
    static func configureTCP(_ channel: any Channel, options: CLASPClient.Options) throws -> Connection {
        let maxFrameBytes = min(options.maxMessageBytes, Int(UInt32.max))
        try channel.pipeline.syncOperations.addHandler(LengthPrefixClientFraming(maxFrameBytes: maxFrameBytes))
        return try attachClientHandler(to: channel, options: options)
    }

    /// Adds the `CLASPClientHandler` with its back-pressured inbound buffer, last in the pipeline.
    private static func attachClientHandler(to channel: any Channel, options: CLASPClient.Options) throws -> Connection {
        let strategy = NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark(
            lowWatermark: max(0, options.inboundLowWatermark),
            highWatermark: max(1, options.inboundHighWatermark, options.inboundLowWatermark)
        )
        let handler = CLASPClientHandler(
            eventLoop: channel.eventLoop, clock: options.clock, closeGracePeriod: TimeAmount(options.closeGracePeriod))
        let bound = NIOLoopBound(handler, eventLoop: channel.eventLoop)
        let inbound = InboundProducer.makeSequence(
            backPressureStrategy: strategy,
            finishOnDeinit: false,
            delegate: InboundDelegate(channel: channel, handler: bound)
        )
        handler.attach(inbound.source)
        try channel.pipeline.syncOperations.addHandler(handler)
        return Connection(channel: channel, handler: bound, inbound: InboundSource(inbound.sequence))
    }

    static func connectError(_ error: any Error, host: String, port: Int) -> CLASPClientError {
        if let error = error as? NIOConnectionError {
            let causes = error.connectionErrors.map(\.error)
            if !causes.isEmpty, causes.allSatisfy({ ($0 as? IOError)?.errnoCode == ECONNREFUSED }) {
                return .connectionRefused(host: host, port: port)
            }
            let reasons = causes.map { "\($0)" } + [error.dnsAError, error.dnsAAAAError].compactMap { $0.map { "\($0)" } }
            return .connectionFailed(host: host, port: port, reason: reasons.isEmpty ? "\(error)" : reasons.joined(separator: "; "))
        }
        if let error = error as? IOError, error.errnoCode == ECONNREFUSED {
            return .connectionRefused(host: host, port: port)
        }
        if case ChannelError.connectTimeout = error {
            return .timedOut("the TCP connection to \(host):\(port)")
        }
        return .connectionFailed(host: host, port: port, reason: "\(error)")
    }

    static func upgradeError(_ error: any Error) -> CLASPClientError {
        switch error {
        case let error as CLASPClientError:
            return error
        case let error as NIOHTTPClientUpgradeError:
            return .upgradeRefused(status: 101, reason: "invalid upgrade response (\(error))")
        case let error as HTTPParserError:
            return .upgradeRefused(status: nil, reason: "not an HTTP response (\(error))")
        default:
            return .closedBeforeWelcome(closeCode: nil, reason: "connection closed during the WebSocket upgrade (\(error))")
        }
    }
}

/// Closes the channel when the server's FIN arrives (the channel allows remote half-closure
/// so that this handler decides when). A server that refuses a session sends 101, a close
/// frame saying why and its FIN at once. NIO switches the pipeline to WebSocket over the
/// following event-loop turns and its HTTP decoder drops the bytes after the 101 if it has seen
/// the FIN by then. So once a response has arrived the FIN goes no further, and the channel
/// closes only after the upgrade has settled and the close frame has been delivered.
final class CloseAfterEndOfInput: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let response: ResponseStatusRecorder
    private let upgrade: EventLoopFuture<UpgradeOutcome>

    init(response: ResponseStatusRecorder, upgrade: EventLoopFuture<UpgradeOutcome>) {
        self.response = response
        self.upgrade = upgrade
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case ChannelEvent.inputClosed = event else {
            return context.fireUserInboundEventTriggered(event)
        }
        guard response.status != nil else {
            context.close(promise: nil)
            return
        }
        // Completion runs before NIO hands over the held-back frames: close a turn later.
        upgrade.assumeIsolated().whenComplete { _ in
            context.eventLoop.assumeIsolated().execute { context.close(promise: nil) }
        }
    }
}

/// Notes the status of the upgrade response head, then leaves the pipeline: NIO's upgrade
/// handler reports a refused upgrade without it.
final class ResponseStatusRecorder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    private(set) var status: Int?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = Self.unwrapInboundIn(data) {
            status = Int(head.status.code)
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        context.fireChannelRead(data)
    }
}

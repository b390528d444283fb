public import Logging
public import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The admin HTTP listener: one request per connection (`Connection: close`), handed to an
/// `AdminApp`. Plain HTTP/1.1 over NIO; the app does the rest.
public final class AdminServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String = "0.0.0.0"
        public var port: Int = 8080
        /// Largest request body (config imports are the largest: the config file limit is 1 MiB).
        public var maxBodyBytes: Int = 1 << 20
        /// Open connections at most (live monitors hold one each).
        public var maxConnections: Int = 256

        public init() {}
    }

    private let serverChannel: any Channel
    private let connections: OpenChannels
    private let logger: Logger

    /// The port actually bound (useful with port 0).
    public var localPort: Int { serverChannel.localAddress?.port ?? 0 }

    private init(serverChannel: any Channel, connections: OpenChannels, logger: Logger) {
        self.serverChannel = serverChannel
        self.connections = connections
        self.logger = logger
    }

    public static func start(
        configuration: Configuration, app: AdminApp, group: any EventLoopGroup, logger: Logger
    ) async throws -> AdminServer {
        let connections = OpenChannels()
        let limit = configuration.maxConnections
        let maxBody = configuration.maxBodyBytes
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                guard connections.insert(channel, limit: limit) else { return channel.close() }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        AdminHTTPHandler(app: app, maxBodyBytes: maxBody, logger: logger))
                }
            }
        let channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        return AdminServer(serverChannel: channel, connections: connections, logger: logger)
    }

    /// Stops accepting and closes every open connection (live monitors included).
    public func shutdown() async {
        try? await serverChannel.close()
        for channel in connections.all() { try? await channel.close() }
    }
}

/// The open connections, so a shutdown can close live monitors too.
private final class OpenChannels: Sendable {
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

    /// False when `limit` connections are open already.
    func insert(_ channel: any Channel, limit: Int) -> Bool {
        let admitted = channels.withLock { open in
            guard open.count < limit else { return false }
            open[ObjectIdentifier(channel)] = channel
            return true
        }
        if admitted {
            channel.closeFuture.whenComplete { [self] _ in
                _ = channels.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
            }
        }
        return admitted
    }

    func all() -> [any Channel] {
        channels.withLock { Array($0.values) }
    }
}

/// Reads one request (head and body up to the limit), asks the app, writes the answer and
/// closes. A streamed answer is written chunk by chunk until it ends or the peer leaves.
final class AdminHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let app: AdminApp
    private let maxBodyBytes: Int
    private let logger: Logger
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false
    private var answered = false
    private var streaming: Task<Void, Never>?

    init(app: AdminApp, maxBodyBytes: Int, logger: Logger) {
        self.app = app
        self.maxBodyBytes = maxBodyBytes
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            guard head == nil else { return }
            head = requestHead
        case .body(var chunk):
            guard !tooLarge else { return }
            if body.count + chunk.readableBytes > maxBodyBytes {
                tooLarge = true
                body = []
                return
            }
            body += chunk.readBytes(length: chunk.readableBytes) ?? []
        case .end:
            guard let requestHead = head, !answered else { return }
            answered = true
            if tooLarge {
                write(.problem(413, "request body larger than \(maxBodyBytes) bytes"), context: context)
                return
            }
            let remote = context.channel.remoteAddress?.ipAddress ?? "unknown"
            let request = HTTPRequest(
                method: requestHead.method.rawValue, target: requestHead.uri,
                headers: requestHead.headers.map { ($0.name, $0.value) }, body: body, remote: remote)
            body = []
            let app = self.app
            let promise = context.eventLoop.makePromise(of: HTTPResponse.self)
            promise.completeWithTask { await app.handle(request) }
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            promise.futureResult.whenSuccess { response in
                let (handler, context) = bound.value
                handler.write(response, context: context)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        streaming?.cancel()
        streaming = nil
        context.fireChannelInactive()
    }

    private func write(_ response: HTTPResponse, context: ChannelHandlerContext) {
        var headers = HTTPHeaders(response.headers)
        headers.replaceOrAdd(name: "Connection", value: "close")
        headers.replaceOrAdd(name: "Cache-Control", value: "no-store")
        headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        headers.replaceOrAdd(name: "X-Frame-Options", value: "DENY")
        let status = HTTPResponseStatus(statusCode: response.status)
        switch response.body {
        case .bytes(let bytes):
            headers.replaceOrAdd(name: "Content-Length", value: String(bytes.count))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            if !bytes.isEmpty {
                context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: bytes)))), promise: nil)
            }
            let channel = context.channel
            let afterSent = response.afterSent
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                channel.close(promise: nil)
                afterSent?()
            }
        case .stream(let chunks):
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let loop = context.eventLoop
            streaming = Task {
                for await chunk in chunks {
                    loop.execute {
                        let (handler, context) = bound.value
                        let buffer = context.channel.allocator.buffer(bytes: chunk)
                        context.writeAndFlush(handler.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
                    }
                }
                loop.execute {
                    let (handler, context) = bound.value
                    let channel = context.channel
                    context.writeAndFlush(handler.wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
                }
            }
        }
    }
}

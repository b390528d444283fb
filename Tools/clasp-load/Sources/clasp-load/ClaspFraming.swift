import NIOCore
import NIOHTTP1
import NIOWebSocket

/// TCP framing of wire-format §1.5 in: a 4-byte big-endian length, then the frame.
struct LengthPrefixedFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) else {
            return .needMoreData
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        guard let frame = buffer.readSlice(length: Int(length)) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }
}

/// … and out: the prefix and the frame in one buffer, so each frame is one write.
final class LengthPrefixedFrameEncoder: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var frame = Self.unwrapOutboundIn(data)
        var buffer = context.channel.allocator.buffer(capacity: 4 + frame.readableBytes)
        buffer.writeInteger(UInt32(frame.readableBytes), endianness: .big)
        buffer.writeBuffer(&frame)
        context.write(Self.wrapOutboundOut(buffer), promise: promise)
    }
}

/// CLASP frames as binary WebSocket messages: unmasked payloads in, masked binary frames
/// out (a client must mask). Answers pings; a close ends the connection.
final class WebSocketBinaryMessages: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = WebSocketFrame

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        switch frame.opcode {
        case .binary where frame.fin:
            context.fireChannelRead(Self.wrapInboundOut(frame.unmaskedData))
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(Self.wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            context.close(promise: nil)
        case .pong:
            break
        default:
            context.fireErrorCaught(LoadError.protocolViolation("unexpected WebSocket frame \(frame.opcode)"))
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let frame = WebSocketFrame(fin: true, opcode: .binary, maskKey: .random(), data: Self.unwrapOutboundIn(data))
        context.write(Self.wrapOutboundOut(frame), promise: promise)
    }
}

/// The HTTP upgrade to WebSocket with subprotocol `clasp`; `ready` runs on the upgraded
/// channel to add the handlers that carry frames.
enum WebSocketUpgrade {
    static func configure(
        _ channel: any Channel, host: String, port: Int,
        ready: @escaping @Sendable (any Channel) throws -> Void
    ) throws -> EventLoopFuture<Bool> {
        let upgrader = NIOTypedWebSocketClientUpgrader<Bool>(
            maxFrameSize: 1 << 20,
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(WebSocketBinaryMessages())
                    try ready(channel)
                    return true
                }
            }
        )
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "\(host):\(port)")
        headers.add(name: "Sec-WebSocket-Protocol", value: "clasp")
        headers.add(name: "Content-Length", value: "0")
        let request = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: headers)
        let configuration = NIOTypedHTTPClientUpgradeConfiguration<Bool>(
            upgradeRequestHead: request,
            upgraders: [upgrader],
            notUpgradingCompletionHandler: { channel in channel.eventLoop.makeSucceededFuture(false) }
        )
        var pipelineConfiguration = NIOUpgradableHTTPClientPipelineConfiguration(upgradeConfiguration: configuration)
        pipelineConfiguration.leftOverBytesStrategy = .forwardBytes
        return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(configuration: pipelineConfiguration)
    }
}

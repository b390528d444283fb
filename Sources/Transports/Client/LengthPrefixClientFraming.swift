import NIOCore
import NIOWebSocket

/// Lets `CLASPClientHandler`, which speaks in WebSocket messages, run over length-prefixed
/// TCP (wire-format §1.5): each whole inbound frame goes up as one binary message, each binary
/// message goes down as one prefixed frame, and the close frame that ends a WebSocket session
/// becomes closing the socket (TCP has no close handshake; the FIN is the goodbye).
final class LengthPrefixClientFraming: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = ByteBuffer

    struct BadFrame: Error, CustomStringConvertible {
        var description: String
    }

    private var decoder: LengthPrefixFrameDecoder

    init(maxFrameBytes: Int) {
        decoder = LengthPrefixFrameDecoder(maxFrameBytes: maxFrameBytes)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        decoder.append(Self.unwrapInboundIn(data))
        do {
            while let frame = try decoder.next() {
                context.fireChannelRead(Self.wrapInboundOut(WebSocketFrame(fin: true, opcode: .binary, data: frame)))
            }
        } catch {
            decoder.removeAll()
            let reason = switch error {
            case .emptyFrame: "the server sent a frame of length 0"
            case .frameTooLarge(let announced): "the server announced a \(announced)-byte frame, above the limit"
            }
            context.fireErrorCaught(BadFrame(description: reason))
            context.close(promise: nil)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let frame = Self.unwrapOutboundIn(data)
        switch frame.opcode {
        case .binary:
            // Outbound frames carry their payload unmasked in `data` (the WebSocket encoder
            // would mask it on the wire).
            var payload = frame.data
            var buffer = context.channel.allocator.buffer(capacity: LengthPrefixFrameDecoder.prefixBytes + payload.readableBytes)
            buffer.writeInteger(UInt32(truncatingIfNeeded: payload.readableBytes), endianness: .big)
            buffer.writeBuffer(&payload)
            context.write(Self.wrapOutboundOut(buffer), promise: promise)
        case .connectionClose:
            context.close(promise: promise)
        default:
            promise?.succeed(())  // pongs: nothing to answer over TCP
        }
    }
}

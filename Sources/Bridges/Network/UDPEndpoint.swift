import NIOCore
import NIOPosix
import Synchronization

/// One UDP socket a network bridge sends and receives on; datagrams are handed to `onDatagram`
/// on the socket's event loop, which also runs the bridge's timers.
final class UDPEndpoint: Sendable {
    typealias Receiver = @Sendable (_ bytes: [UInt8], _ sender: SocketAddress) -> Void

    let channel: any Channel
    let localPort: Int
    var eventLoop: any EventLoop { channel.eventLoop }

    private init(channel: any Channel) {
        self.channel = channel
        localPort = channel.localAddress?.port ?? 0
    }

    /// Binds `host:port` (address reuse on, so a multicast receiver can share the port);
    /// `multicastInterface`, an IPv4 address, is where multicast is sent and joined.
    static func open(
        host: String, port: Int, broadcast: Bool, multicastInterface: String?, onDatagram: @escaping Receiver
    ) async throws -> UDPEndpoint {
        let channel: any Channel
        do {
            channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelOption(.socketOption(.so_broadcast), value: broadcast ? 1 : 0)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(DatagramHandler(onDatagram: onDatagram))
                    }
                }
                .bind(host: host, port: port)
                .get()
        } catch {
            throw BridgeError("cannot bind udp://\(host):\(port): \(error)")
        }
        let endpoint = UDPEndpoint(channel: channel)
        if let multicastInterface {
            do {
                let address = try SocketAddress(ipAddress: multicastInterface, port: 0)
                guard case .v4(let v4) = address else { throw BridgeError("not an IPv4 address") }
                try await (channel as? any SocketOptionProvider)?.setIPMulticastIF(v4.address.sin_addr).get()
            } catch {
                try? await channel.close()
                throw BridgeError("cannot send multicast from interface \(multicastInterface): \(error)")
            }
        }
        return endpoint
    }

    /// Joins an IPv4 multicast group on the configured interface (or the kernel's choice).
    func join(group: String, interface: String?) async throws {
        guard let multicast = channel as? any MulticastChannel else { throw BridgeError("socket cannot join multicast groups") }
        do {
            let groupAddress = try SocketAddress(ipAddress: group, port: 0)
            if let interface, let device = try System.enumerateDevices().first(where: { $0.address?.ipAddress == interface }) {
                try await multicast.joinGroup(groupAddress, device: device).get()
            } else {
                try await multicast.joinGroup(groupAddress).get()
            }
        } catch {
            throw BridgeError("cannot join multicast group \(group): \(error)")
        }
    }

    /// Sends one datagram (from any thread); a failure is reported to `onError`, not thrown.
    func send(_ bytes: [UInt8], to destination: SocketAddress, onError: @escaping @Sendable (any Error) -> Void) {
        let promise = channel.eventLoop.makePromise(of: Void.self)
        promise.futureResult.whenFailure(onError)
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: destination, data: channel.allocator.buffer(bytes: bytes)), promise: promise)
    }

    func close() async {
        try? await channel.close()
    }
}

/// Hands each datagram's bytes to the bridge; a socket error (ICMP unreachable) is not fatal.
private final class DatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let onDatagram: UDPEndpoint.Receiver

    init(onDatagram: @escaping UDPEndpoint.Receiver) {
        self.onDatagram = onDatagram
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        onDatagram(Array(envelope.data.readableBytesView), envelope.remoteAddress)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}

/// Parses `host` or `host:port` destinations (IPv4 or IPv6 in brackets) once, at start.
func socketAddress(_ text: String, defaultPort: Int) throws -> SocketAddress {
    var host = text
    var port = defaultPort
    if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
        host = String(text[text.index(after: text.startIndex)..<close])
        let rest = text[text.index(after: close)...]
        if rest.hasPrefix(":") { port = Int(rest.dropFirst()) ?? -1 }
    } else if let colon = text.lastIndex(of: ":"), text.firstIndex(of: ":") == colon {
        host = String(text[..<colon])
        port = Int(text[text.index(after: colon)...]) ?? -1
    }
    guard (1...65535).contains(port) else { throw BridgeError("destination \(text): port must be 1–65535") }
    do {
        return try SocketAddress(ipAddress: host, port: port)
    } catch {
        throw BridgeError("destination \(text): not an IP address")
    }
}

/// Repeats `body` at a fixed rate against absolute deadlines, so late runs do not push the
/// schedule back (steady output). Cancel with `cancel()`.
final class FixedRateTimer: Sendable {
    private let state = Mutex<(task: Scheduled<Void>?, cancelled: Bool)>((nil, false))

    init(on eventLoop: any EventLoop, every interval: TimeAmount, _ body: @escaping @Sendable () -> Void) {
        schedule(on: eventLoop, at: .now() + interval, interval: interval, body)
    }

    private func schedule(on eventLoop: any EventLoop, at deadline: NIODeadline, interval: TimeAmount, _ body: @escaping @Sendable () -> Void) {
        state.withLock { state in
            guard !state.cancelled else { return }
            state.task = eventLoop.scheduleTask(deadline: deadline) { [self] in
                body()
                // After a long stall, skip the missed ticks rather than bursting them.
                var next = deadline + interval
                let now = NIODeadline.now()
                if next < now { next = now + interval }
                schedule(on: eventLoop, at: next, interval: interval, body)
            }
        }
    }

    func cancel() {
        state.withLock { state in
            state.cancelled = true
            state.task?.cancel()
        }
    }
}

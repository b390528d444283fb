import CLASP
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Scenario F: changes go into one side of a bridge (SETs over WebSocket, E1.31 / ArtDmx
/// packets or USB Pro received-DMX frames) at a paced rate, each written into the levels
/// (`LevelSequence`), and the probe times each change until the first frame on the other side
/// that shows it (a packet, a USB Pro frame, or the subscriber's SET). Everything runs on one
/// event loop, so send and receive times come from one clock and the state needs no locks.
/// Every wait is bounded.
struct BridgeProbe {
    let mode: BridgeMode
    let options: BridgeOptions
    let sequence: LevelSequence
    let inputSets: InputSets
    let host: String
    let port: Int
    let rate: Int
    let duration: Double
    let maxChanges: Int
    let warmup: Double
    let drainTimeout: Double
    let watchPid: Int32?
    let label: String

    func run() async throws -> BridgeReport {
        guard options.universes >= 1, options.universes <= 512, rate >= 1, duration > 0, maxChanges >= 1 else {
            throw LoadError.badOption("--bridge needs --universes 1–512, --rate ≥ 1, --duration > 0")
        }
        guard (0...255).contains(options.extraChannels) else { throw LoadError.badOption("--extra-channels must be 0–255") }
        if !mode.seesSETs, inputSets != .channel {
            throw LoadError.badOption("--input-sets is for the modes that watch SETs (sacn-in, artnet-in, dmx-in)")
        }
        if mode.isWidget, options.universes != 1 {
            throw LoadError.badOption("--bridge \(mode.rawValue) drives one universe (the dmx bridge's universe 1)")
        }
        if mode.sendsFrames, sequence == .whole {
            throw LoadError.badOption("--frames whole is for the output modes (the bridges' input SETs channels)")
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let probe = BridgeRun(
            mode: mode, sequence: sequence, inputSets: inputSets, universes: Array(1...options.universes), extraChannels: options.extraChannels,
            loop: loop)
        do {
            try await probe.connect(options: options, host: host, port: port)
            try await prime(probe)
            let report = try await measure(probe, loop: loop)
            await probe.close()
            try? await group.shutdownGracefully()
            return report
        } catch {
            await probe.close()
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Brings every universe to all zeros through the bridge (a marker first where the input
    /// side cannot tell an unchanged zero), so the run starts from a known state.
    private func prime(_ probe: BridgeRun) async throws {
        let deadline = NIODeadline.now() + .nanoseconds(Int64(options.primeTimeout * 1e9))
        for target in mode.sendsFrames ? [UInt8(255), 0] : [0] {
            while try await !probe.loop.submit({ probe.primeStep(lastSlot: target) }).get() {
                guard NIODeadline.now() < deadline else {
                    throw LoadError.refused("bridge \(mode.rawValue): no frame with slot 512 at \(target) through the gateway within \(options.primeTimeout) s")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    private func measure(_ probe: BridgeRun, loop: any EventLoop) async throws -> BridgeReport {
        var report = BridgeReport(
            label: label, bridge: mode.rawValue, frames: sequence.rawValue, inputSets: mode.seesSETs ? inputSets.rawValue : nil,
            universes: options.universes, rate: rate, extraChannels: options.extraChannels)
        if options.idleSeconds > 0, let pid = watchPid, let before = ProcessReadings.cpuSeconds(pid: pid) {
            try await Task.sleep(for: .milliseconds(Int(options.idleSeconds * 1000)))
            report.idleCPUPercent = ProcessReadings.cpuSeconds(pid: pid).map { ($0 - before) / options.idleSeconds * 100 }
        }
        let cpuBefore = watchPid.flatMap { ProcessReadings.cpuSeconds(pid: $0) }
        let startedAt = NIODeadline.now()
        try await loop.submit { probe.start(rate: rate, duration: duration, maxChanges: maxChanges, warmup: warmup) }.get()
        try await probe.finished.futureResult.get()
        // Drain: until every change was seen, or nothing was seen for a second, or the timeout.
        try await waitWhileProgressing(until: .now() + .nanoseconds(Int64(drainTimeout * 1e9))) {
            let (pending, seen) = try await loop.submit { (probe.tracker.pendingCount, probe.tracker.seen) }.get()
            return (seen, pending == 0)
        }
        let endedAt = NIODeadline.now()
        if let cpuBefore, let cpuAfter = watchPid.flatMap({ ProcessReadings.cpuSeconds(pid: $0) }) {
            report.gatewayCPUSeconds = cpuAfter - cpuBefore
        }
        let (sent, seen, latency, observed) = try await loop.submit {
            (probe.sentChanges, probe.tracker.seen, Percentiles(probe.tracker.latency), probe.tracker.observations)
        }.get()
        report.sent = sent
        report.seen = seen
        report.latency = latency
        report.observed = observed
        report.windowSeconds = Double((endedAt - startedAt).nanoseconds) / 1e9
        return report
    }
}

/// The probe's connections and state, on its one event loop.
final class BridgeRun: @unchecked Sendable {
    let mode: BridgeMode
    let sequence: LevelSequence
    let inputSets: InputSets
    let universes: [Int]
    let extraChannels: Int
    let loop: any EventLoop
    private(set) var tracker: ChangeTracker
    /// The last frame seen per universe, for priming.
    private var seenFrames: [Int: [UInt8]] = [:]
    /// What the probe sends per universe (input modes): the frame and the packet sequence.
    private var sentFrames: [Int: [UInt8]] = [:]
    private var packetSequence: [Int: UInt8] = [:]
    private let cid = (0..<16).map { _ in UInt8.random(in: 0...255) }
    private var publisher: ConnectedSession?
    private var subscriber: ConnectedSession?
    private var listener: (any Channel)?
    private var sender: (any Channel)?
    private var widget: (any Channel)?
    private var bridgeAddress: SocketAddress?
    private var primedSet = false
    private var timer: RepeatedTask?
    private var isFinished = false
    private(set) var sentChanges = 0
    let finished: EventLoopPromise<Void>

    init(mode: BridgeMode, sequence: LevelSequence, inputSets: InputSets, universes: [Int], extraChannels: Int, loop: any EventLoop) {
        self.mode = mode
        self.sequence = sequence
        self.inputSets = inputSets
        self.universes = universes
        self.extraChannels = extraChannels
        self.loop = loop
        tracker = ChangeTracker(sequence: sequence, recordFrom: 0)
        finished = loop.makePromise()
        for universe in universes {
            sentFrames[universe] = Array(repeating: 0, count: LevelSequence.slots)
        }
    }

    // MARK: Connections

    func connect(options: BridgeOptions, host: String, port: Int) async throws {
        let endpoint = Endpoint(wire: .websocket, host: host, port: port)
        let dialect = Dialect(wire: .websocket, kind: .set, qos: .fire)
        let onFrame: @Sendable (Int, [UInt8], UInt64) -> Void = { [self] universe, slots, time in seen(universe: universe, frame: slots, at: time) }
        if mode.receivesPackets {
            guard let listenPort = options.listenPort else { throw LoadError.badOption("--bridge \(mode.rawValue) needs --listen-port") }
            let parse = mode == .sacnOut ? DMXPackets.sacnFrame : DMXPackets.artDmxFrame
            listener = try await DatagramBootstrap(group: loop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(DatagramFrames(parse: parse, onFrame: onFrame))
                    }
                }
                .bind(host: options.listenHost, port: listenPort).get()
        }
        if mode.isWidget {
            guard let path = options.usbpro else { throw LoadError.badOption("--bridge \(mode.rawValue) needs --usbpro") }
            let descriptor = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK)
            guard descriptor >= 0 else { throw LoadError.badOption("cannot open \(path): errno \(errno)") }
            let universe = universes[0]
            widget = try await NIOPipeBootstrap(group: loop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(USBProWidget { slots, time in onFrame(universe, slots, time) })
                    }
                }
                .takingOwnershipOfDescriptor(inputOutput: descriptor).get()
        }
        if mode.seesSETs {
            let session = try await Connector.connect(
                endpoint, dialect: dialect, name: "load-\(getpid())-bridge-sub", patterns: [inputSets == .frame ? "/dmx/*" : "/dmx/**"],
                stats: nil, on: loop, timeout: .seconds(30))
            subscriber = session
            let tap = SetTap { [self] universe, change, time in
                var frame = seenFrames[universe] ?? Array(repeating: 0, count: LevelSequence.slots)
                switch change {
                case .channel(let channel, let level): frame[channel - 1] = level
                case .frame(let slots): frame = slots + Array(repeating: 0, count: LevelSequence.slots - slots.count)
                }
                seen(universe: universe, frame: frame, at: time)
            }
            try await loop.submit { try session.channel.pipeline.syncOperations.addHandler(tap, position: .before(session.session)) }.get()
        }
        if mode.sendsPackets {
            guard let bridgePort = options.bridgePort else { throw LoadError.badOption("--bridge \(mode.rawValue) needs --bridge-port") }
            bridgeAddress = try SocketAddress.makeAddressResolvingHost(host, port: bridgePort)
            // Loopback stays on loopback; another host (a peer in a network namespace) gets the kernel's route.
            let source = host == "127.0.0.1" ? "127.0.0.1" : "0.0.0.0"
            sender = try await DatagramBootstrap(group: loop).bind(host: source, port: 0).get()
        } else if !mode.sendsFrames {
            publisher = try await Connector.connect(
                endpoint, dialect: dialect, name: "load-\(getpid())-bridge-pub", patterns: [], stats: nil, on: loop, timeout: .seconds(30))
        }
    }

    func close() async {
        let channels = [publisher?.channel, subscriber?.channel, listener, sender, widget].compactMap { $0 }
        for channel in channels { try? await channel.close() }
    }

    // MARK: Priming and the run (on the loop)

    private func seen(universe: Int, frame: [UInt8], at time: UInt64) {
        seenFrames[universe] = frame
        tracker.observe(universe: universe, frame: frame, at: time)
    }

    /// One step of priming: sends what brings every universe to slot 512 = `lastSlot` and the
    /// rest 0 (output modes: one zero `/dmx/U` SET; input modes: that frame, every step, to
    /// eight universes at a time: a bridge's first frame of a universe SETs all 512 channels,
    /// and 64 of those at once would overflow the subscriber's queue), and says whether every
    /// universe has been seen so.
    func primeStep(lastSlot: UInt8) -> Bool {
        var frame = [UInt8](repeating: 0, count: LevelSequence.slots)
        frame[LevelSequence.slots - 1] = lastSlot
        let waiting = universes.filter { seenFrames[$0] != frame }
        guard !waiting.isEmpty else { return true }
        for universe in waiting.prefix(mode.sendsFrames ? 8 : waiting.count) {
            if mode.sendsFrames {
                sentFrames[universe] = frame
                sendFrame(universe: universe)
            } else if !primedSet {
                writeSet(SetMessage(address: "/dmx/\(universe)", value: .bytes(frame)))
            }
        }
        primedSet = true
        flush()
        return false
    }

    /// Starts the paced changes, with a fresh tracker; `finished` completes after the last.
    func start(rate: Int, duration: Double, maxChanges: Int, warmup: Double) {
        let startedAt = NIODeadline.now()
        tracker = ChangeTracker(sequence: sequence, recordFrom: startedAt.uptimeNanoseconds + UInt64(warmup * 1e9))
        let interval = TimeAmount.nanoseconds(max(50_000, 1_000_000_000 / Int64(rate)))
        let length = TimeAmount.nanoseconds(Int64(duration * 1e9))
        timer = loop.scheduleRepeatedTask(initialDelay: .zero, delay: interval) { [self] _ in
            let elapsed = NIODeadline.now() - startedAt
            let due = min(maxChanges, Int(Double(elapsed.nanoseconds) * Double(rate) / 1e9) + 1)
            while sentChanges < due { sendChange() }
            flush()
            if elapsed >= length || sentChanges >= maxChanges { finish(nil) }
        }
    }

    private func finish(_ failure: (any Error)?) {
        guard !isFinished else { return }
        isFinished = true
        timer?.cancel()
        if let failure { finished.fail(failure) } else { finished.succeed() }
    }

    /// Change number `sentChanges`: universe round-robin, k counting per universe from 1.
    private func sendChange() {
        let universe = universes[sentChanges % universes.count]
        let k = sentChanges / universes.count + 1
        sentChanges += 1
        tracker.sent(k, universe: universe, at: NIODeadline.now().uptimeNanoseconds)
        if mode.sendsFrames {
            sequence.apply(k, extra: extraChannels, to: &sentFrames[universe, default: [UInt8](repeating: 0, count: LevelSequence.slots)])
            sendFrame(universe: universe)
        } else if sequence == .whole {
            writeSet(SetMessage(address: "/dmx/\(universe)", value: .bytes(LevelSequence.wholeFrame(k))))
        } else {
            let change = LevelSequence.channelChange(k)
            writeSet(SetMessage(address: "/dmx/\(universe)/\(change.channel)", value: .int(Int64(change.level))))
        }
    }

    private func writeSet(_ set: SetMessage) {
        guard let channel = publisher?.channel else { return }
        do {
            channel.write(ByteBuffer(bytes: try set.encodedFrame()), promise: nil)
        } catch {
            finish(error)
        }
    }

    private func sendFrame(universe: Int) {
        guard let frame = sentFrames[universe] else { return }
        if mode == .dmxIn {
            // A received-DMX message as the widget reports a frame off the line: status 0, start code 0.
            let message = USBProMessages.message(label: USBProMessages.receivedDMX, data: [0, 0] + frame)
            widget?.write(ByteBuffer(bytes: message), promise: nil)
            return
        }
        guard let sender, let bridgeAddress else { return }
        // E1.31 sequence numbers run 0–255; ArtDmx 1–255 (0 would turn the order check off).
        let previous = packetSequence[universe] ?? 0
        let next = mode == .artnetIn ? previous % 255 + 1 : previous &+ 1
        packetSequence[universe] = next
        let bytes = mode == .artnetIn
            ? DMXPackets.artDmx(portAddress: UInt16(universe), sequence: next, slots: frame)
            : DMXPackets.sacnData(universe: UInt16(universe), sequence: next, cid: cid, slots: frame)
        sender.write(AddressedEnvelope(remoteAddress: bridgeAddress, data: ByteBuffer(bytes: bytes)), promise: nil)
    }

    private func flush() {
        publisher?.channel.flush()
        sender?.flush()
        widget?.flush()
    }
}

/// Lighting frames out of datagrams: `parse` says which universe and slots a datagram carries.
final class DatagramFrames: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let parse: @Sendable ([UInt8]) -> (universe: Int, slots: [UInt8])?
    private let onFrame: @Sendable (Int, [UInt8], UInt64) -> Void

    init(parse: @escaping @Sendable ([UInt8]) -> (universe: Int, slots: [UInt8])?, onFrame: @escaping @Sendable (Int, [UInt8], UInt64) -> Void) {
        self.parse = parse
        self.onFrame = onFrame
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = NIODeadline.now().uptimeNanoseconds
        let envelope = Self.unwrapInboundIn(data)
        if let frame = parse(Array(envelope.data.readableBytesView)) { onFrame(frame.universe, frame.slots, now) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {}  // ICMP errors: not the probe's concern
}

/// The widget end of an emulated Enttec USB Pro: answers the gateway's get-parameters and
/// serial-number requests (its bridge opens the device only when both come back) and hands
/// each send-DMX frame's slots on.
final class USBProWidget: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var decoder = USBProDecoder()
    private let onFrame: @Sendable ([UInt8], UInt64) -> Void

    init(onFrame: @escaping @Sendable ([UInt8], UInt64) -> Void) {
        self.onFrame = onFrame
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = NIODeadline.now().uptimeNanoseconds
        for message in decoder.push(Array(Self.unwrapInboundIn(data).readableBytesView)) {
            switch message.label {
            case USBProMessages.getParameters:
                context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer(bytes: USBProMessages.parametersReply)), promise: nil)
            case USBProMessages.getSerialNumber:
                context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer(bytes: USBProMessages.serialReply)), promise: nil)
            case USBProMessages.sendDMX where message.data.first == 0:
                onFrame(Array(message.data.dropFirst()), now)
            default:
                break
            }
        }
    }
}

/// Sits before the subscriber's `LoadSession` and reports each `/dmx/U/C` SET of an integer
/// level and each `/dmx/U` SET of at most 512 bytes, passing every frame on.
final class SetTap: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    enum Change {
        case channel(Int, level: UInt8)
        case frame([UInt8])
    }

    private let onSet: @Sendable (_ universe: Int, _ change: Change, _ time: UInt64) -> Void

    init(onSet: @escaping @Sendable (Int, Change, UInt64) -> Void) {
        self.onSet = onSet
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = NIODeadline.now().uptimeNanoseconds
        let frame = Self.unwrapInboundIn(data)
        if let decoded = try? frame.withUnsafeReadableBytes({ bytes throws(CodecError) in try FrameCodec.decode(bytes) }),
            case .set(let set) = decoded.message
        {
            let parts = set.address.split(separator: "/")
            if parts.count >= 2, parts[0] == "dmx", let universe = Int(parts[1]) {
                switch (parts.count, set.value) {
                case (2, .bytes(let slots)) where slots.count <= LevelSequence.slots:
                    onSet(universe, .frame(slots), now)
                case (3, .int(let level)) where (0...255).contains(level):
                    if let channel = Int(parts[2]), (1...LevelSequence.slots).contains(channel) {
                        onSet(universe, .channel(channel, level: UInt8(level)), now)
                    }
                default:
                    break
                }
            }
        }
        context.fireChannelRead(data)
    }
}

extension LoadCommand {
    /// `--bridge MODE`: the bridge probe with the run options shared with broker load.
    func runBridgeProbe(_ modeName: String) async throws {
        let mode = try parse(BridgeMode.self, modeName, "--bridge")
        let probe = BridgeProbe(
            mode: mode, options: bridge, sequence: try parse(LevelSequence.self, bridge.frames, "--frames"),
            inputSets: try parse(InputSets.self, bridge.inputSets, "--input-sets"), host: host, port: port,
            rate: rate, duration: duration, maxChanges: maxMessages, warmup: warmup, drainTimeout: drainTimeout, watchPid: watchPid,
            label: label)
        let report = try await probe.run()
        print(report.text)
        if let json { try appendLine(try report.json(), to: json) }
        if requireAll, report.seen < report.sent {
            throw LoadError.refused("\(report.sent - report.seen) of \(report.sent) changes never seen")
        }
    }
}

import CLASP
import NIOCore
import NIOPosix
import Synchronization

/// An Art-Net 4 controller and node. Output Port-Addresses are sent as ArtDmx on change (at
/// most `rate` per second), again after `keep_alive`, or steadily; to the configured
/// destinations, to the nodes whose ArtPollReply lists the Port-Address as an output, and to the
/// broadcast address only with `broadcast_dmx`. ArtPoll goes to the destinations and the broadcast
/// address every 3 s. Every ArtPoll is answered with ArtPollReplies describing the
/// bridge's ports. Input Port-Addresses are merged per universe from every sender (HTP or LTP).
final class ArtNetBridge: Bridge {
    struct Settings: Sendable {
        var bind: String
        var port: Int
        var destinations: [SocketAddress]
        var broadcast: SocketAddress?
        var broadcastDMX: Bool
        var poll: Bool
        var sync: Bool
        var shortName: String
        var longName: String
        var sourceTimeout: Duration
    }

    /// A node that answered our ArtPoll: where to send, which Port-Addresses it outputs.
    private struct Node {
        var address: SocketAddress
        var outputs: Set<UInt16>
        var seen: ContinuousClock.Instant
    }

    private struct Running {
        var endpoint: UDPEndpoint?
        var timers: [FixedRateTimer] = []
        /// Nodes by IP and bind index.
        var nodes: [String: Node] = [:]
        /// When the last ArtSync arrived: while recent, input ArtDmx waits for the next one.
        var lastSyncIn: ContinuousClock.Instant?
        var held: [UInt16: (frame: DMXFrame, sequence: UInt8?, source: String)] = [:]
    }

    /// Art-Net 4: a node returns to immediate output when no ArtSync came for 4 s.
    private static let syncTimeout: Duration = .seconds(4)
    private static let nodeTimeout: Duration = .seconds(10)

    private let settings: Settings
    private let universes: NetworkUniverses
    private let running = Mutex(Running())

    init(settings: Settings, exchange: UniverseExchange) {
        self.settings = settings
        universes = NetworkUniverses(exchange, counters: BridgeCounters([
            "packets_in", "packets_out", "sources", "nodes", "merges", "out_of_order", "timeouts", "sets_in",
            "refused", "polls_in", "poll_replies_out", "sync_in", "malformed", "errors",
        ]))
    }

    private var counters: BridgeCounters { universes.counters }

    func start(link: any RouterLink) async throws {
        let endpoint = try await UDPEndpoint.open(
            host: settings.bind, port: settings.port, broadcast: settings.broadcast != nil, multicastInterface: nil
        ) { [weak self] bytes, sender in
            self?.handle(bytes, from: sender)
        }
        running.withLock { $0.endpoint = endpoint }
        try universes.attach(link)
        var timers = [FixedRateTimer(on: endpoint.eventLoop, every: .nanoseconds(universes.intervalNanoseconds)) { [weak self] in
            self?.tick()
        }]
        if settings.poll, !universes.outputUniverses.isEmpty {
            sendPoll()
            timers.append(FixedRateTimer(on: endpoint.eventLoop, every: .seconds(3)) { [weak self] in self?.sendPoll() })
        }
        running.withLock { $0.timers = timers }
    }

    func receive(_ message: Message) {
        universes.apply(message)
        running.withLock { $0.endpoint }?.eventLoop.execute { [weak self] in self?.sendDue() }
    }

    func stop() async {
        let (endpoint, timers) = running.withLock { state in
            defer { state = Running() }
            return (state.endpoint, state.timers)
        }
        timers.forEach { $0.cancel() }
        universes.detach()
        await endpoint?.close()
    }

    var status: BridgeStatus {
        let nodes = running.withLock { $0.nodes }
        let counters = universes.snapshot().map { $0.name == "nodes" ? BridgeCounter(name: "nodes", value: UInt64(nodes.count)) : $0 }
        var health = universes.health(protocolName: "Art-Net")
        // Output with no fixed destination reaches only nodes that asked for it.
        if health == .ok, settings.destinations.isEmpty, !settings.broadcastDMX {
            let subscribed = Set(nodes.values.flatMap(\.outputs))
            let unheard = universes.outputUniverses.filter { !subscribed.contains(UInt16($0)) }
            if !unheard.isEmpty {
                health = .degraded("no Art-Net node subscribes to output universe\(unheard.count == 1 ? "" : "s") "
                    + unheard.prefix(8).map(String.init).joined(separator: ", ") + (unheard.count > 8 ? ", …" : ""))
            }
        }
        return BridgeStatus(health: health, counters: counters)
    }

    // MARK: Output

    private func tick() {
        sendDue(onTick: true)
        releaseHeld(ifSyncOlderThan: Self.syncTimeout)
        universes.expire(at: .now, timeout: settings.sourceTimeout)
        let deadline = ContinuousClock.now - Self.nodeTimeout
        running.withLock { $0.nodes = $0.nodes.filter { $0.value.seen >= deadline } }
    }

    private func sendDue(onTick: Bool = false) {
        guard let (endpoint, nodes) = running.withLock({ state in state.endpoint.map { ($0, state.nodes) } }) else { return }
        let due = universes.due(at: .now, onTick: onTick, wake: (endpoint.eventLoop, { [weak self] in self?.sendDue() }))
        guard !due.isEmpty else { return }
        let fixed = settings.destinations + (settings.broadcastDMX ? settings.broadcast.map { [$0] } ?? [] : [])
        var everyone = fixed
        for item in due {
            let portAddress = UInt16(item.universe)
            let subscribers = nodes.values.filter { $0.outputs.contains(portAddress) }.map(\.address)
            let packet = ArtNetPacket.dmx(ArtDMXPacket(
                sequence: UInt8(item.packetsSent % 255 + 1), portAddress: portAddress, slots: item.frame.slots)).encoded()
            send(packet, to: unique(fixed + subscribers), via: endpoint)
            everyone += subscribers
        }
        if settings.sync {
            send(ArtNetPacket.sync.encoded(), to: unique(everyone), via: endpoint)
        }
    }

    private func sendPoll() {
        guard let endpoint = running.withLock({ $0.endpoint }) else { return }
        // Flags bit 1: send ArtPollReply whenever node conditions change.
        let poll = ArtNetPacket.poll(ArtPollPacket(flags: 0x02)).encoded()
        send(poll, to: settings.destinations + (settings.broadcast.map { [$0] } ?? []), via: endpoint)
    }

    private func send(_ bytes: [UInt8], to destinations: [SocketAddress], via endpoint: UDPEndpoint) {
        for destination in destinations {
            endpoint.send(bytes, to: destination) { [counters] _ in counters.add("errors") }
        }
        counters.add("packets_out", UInt64(destinations.count))
    }

    private func unique(_ addresses: [SocketAddress]) -> [SocketAddress] {
        var seen = Set<String>()
        return addresses.filter { seen.insert($0.description).inserted }
    }

    // MARK: Input

    private func handle(_ bytes: [UInt8], from sender: SocketAddress) {
        // Our own broadcasts come back to us.
        guard !isOwn(sender) else { return }
        let packet: ArtNetPacket
        do {
            packet = try ArtNetPacket.decode(bytes)
        } catch {
            counters.add("malformed")
            return
        }
        switch packet {
        case .dmx(let dmx):
            counters.add("packets_in")
            take(dmx, from: sender)
        case .poll:
            counters.add("polls_in")
            reply(to: sender)
        case .pollReply(let reply):
            remember(reply, from: sender)
        case .sync:
            counters.add("sync_in")
            releaseHeld(ifSyncOlderThan: .zero)
            running.withLock { $0.lastSyncIn = .now }
        }
    }

    /// Applies the ArtDmx held for an ArtSync: when one arrives (`.zero`), or when none came for
    /// `age` (the sender stopped synchronizing).
    private func releaseHeld(ifSyncOlderThan age: Duration) {
        let held = running.withLock { state -> [UInt16: (frame: DMXFrame, sequence: UInt8?, source: String)] in
            guard !state.held.isEmpty, let last = state.lastSyncIn, ContinuousClock.now - last >= age else { return [:] }
            defer { state.held = [:] }
            return state.held
        }
        for (portAddress, item) in held.sorted(by: { $0.key < $1.key }) {
            universes.received(
                item.frame, universe: Int(portAddress), priority: SACN.defaultPriority, sequence: item.sequence, from: item.source, at: .now)
        }
    }

    private func take(_ dmx: ArtDMXPacket, from sender: SocketAddress) {
        let source = sender.ipAddress ?? sender.description
        // Sequence 0: the sender does not number its packets.
        let sequence = dmx.sequence == 0 ? nil : dmx.sequence
        let frame = DMXFrame(dmx.slots)
        let synced = running.withLock { state in
            guard let last = state.lastSyncIn, ContinuousClock.now - last < Self.syncTimeout else { return false }
            state.held[dmx.portAddress] = (frame, sequence, source)
            return true
        }
        guard !synced else { return }
        universes.received(frame, universe: Int(dmx.portAddress), priority: SACN.defaultPriority, sequence: sequence, from: source, at: .now)
    }

    /// ArtPollReplies describing our ports, unicast to the poller (Art-Net 4).
    private func reply(to poller: SocketAddress) {
        guard let endpoint = running.withLock({ $0.endpoint }) else { return }
        let replies = ArtPollReplyPacket.replies(
            ip: ownIPv4(), shortName: settings.shortName, longName: settings.longName,
            nodeReport: "#0001 [\(counters.snapshot.first { $0.name == "packets_in" }?.value ?? 0)] clasp-gateway running",
            inputs: universes.outputUniverses.map { UInt16($0) }, outputs: universes.inputUniverses.map { UInt16($0) })
        for reply in replies {
            send(ArtNetPacket.pollReply(reply).encoded(), to: [poller], via: endpoint)
        }
        counters.add("poll_replies_out", UInt64(replies.count))
    }

    private func remember(_ reply: ArtPollReplyPacket, from sender: SocketAddress) {
        guard let port = sender.port else { return }
        let ip = reply.ip.map(String.init).joined(separator: ".")
        // A node that says 0.0.0.0 is reached where its reply came from.
        let host = ip == "0.0.0.0" ? sender.ipAddress ?? ip : ip
        guard let address = try? SocketAddress(ipAddress: host, port: port) else { return }
        running.withLock { state in
            state.nodes["\(host)#\(reply.bindIndex)"] = Node(address: address, outputs: Set(reply.outputPortAddresses), seen: .now)
        }
    }

    private func isOwn(_ sender: SocketAddress) -> Bool {
        guard let endpoint = running.withLock({ $0.endpoint }), sender.port == endpoint.localPort, let ip = sender.ipAddress else {
            return false
        }
        return ip == settings.bind || (settings.bind == "0.0.0.0" && Self.localIPv4Addresses().contains(ip))
    }

    private static func localIPv4Addresses() -> [String] {
        ((try? System.enumerateDevices()) ?? []).compactMap { device in
            guard case .v4? = device.address else { return nil }
            return device.address?.ipAddress
        }
    }

    /// The address our replies give: the bound one, or the first IPv4 interface that is not loopback.
    private func ownIPv4() -> [UInt8] {
        var text = settings.bind
        if text == "0.0.0.0" {
            text = Self.localIPv4Addresses().first { !$0.hasPrefix("127.") } ?? "127.0.0.1"
        }
        return text.split(separator: ".").compactMap { UInt8($0) }
    }
}

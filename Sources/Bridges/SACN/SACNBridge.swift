import CLASP
import NIOCore
import Synchronization

/// An sACN (E1.31) source and receiver. Output universes are sent on change (at most `rate`
/// per second), again after `keep_alive`, or steadily at `rate`; to their multicast group and
/// to each unicast destination. Input universes are received by multicast and unicast, checked
/// for sequence order, merged per universe (highest priority, then HTP or LTP) and dropped after
/// 2.5 s of silence or a stream-terminated packet.
final class SACNBridge: Bridge {
    struct Settings: Sendable {
        var bind: String
        var port: Int
        var destinations: [SocketAddress]
        var multicast: Bool
        var interface: String?
        var priority: UInt8
        var sourceName: String
        var syncUniverse: UInt16
        var discovery: Bool
    }

    /// Data held for a sync packet (E1.31 §6.2.4), per source and universe.
    private struct Held {
        var packet: SACNDataPacket
        var at: ContinuousClock.Instant
    }

    private let settings: Settings
    private let universes: NetworkUniverses
    private let cid = ComponentID.random()
    private struct Running {
        var endpoint: UDPEndpoint?
        var timers: [FixedRateTimer] = []
        var syncSequence: UInt8 = 0
        var held: [String: Held] = [:]
        /// Sync addresses whose multicast group was joined.
        var syncGroups: Set<UInt16> = []
    }

    private let running = Mutex(Running())

    init(settings: Settings, exchange: UniverseExchange) {
        self.settings = settings
        universes = NetworkUniverses(exchange, counters: BridgeCounters([
            "packets_in", "packets_out", "sources", "merges", "out_of_order", "timeouts", "terminated",
            "sets_in", "refused", "preview_ignored", "sync_in", "discovery_in", "malformed", "errors",
        ]))
    }

    private var counters: BridgeCounters { universes.counters }

    func start(link: any RouterLink) async throws {
        let endpoint = try await UDPEndpoint.open(
            host: settings.bind, port: settings.port, broadcast: false, multicastInterface: settings.multicast ? settings.interface : nil
        ) { [weak self] bytes, sender in
            self?.handle(bytes, from: sender)
        }
        running.withLock { $0.endpoint = endpoint }
        if settings.multicast {
            for universe in universes.inputUniverses + [Int(SACN.discoveryUniverse)] {
                try await endpoint.join(group: SACN.multicastGroup(universe: UInt16(universe)), interface: settings.interface)
            }
        }
        try universes.attach(link)
        let tick = FixedRateTimer(on: endpoint.eventLoop, every: .nanoseconds(universes.intervalNanoseconds)) { [weak self] in
            self?.tick()
        }
        var timers = [tick]
        if settings.discovery, !universes.outputUniverses.isEmpty {
            sendDiscovery()
            timers.append(FixedRateTimer(on: endpoint.eventLoop, every: .seconds(10)) { [weak self] in self?.sendDiscovery() })
        }
        running.withLock { $0.timers = timers }
    }

    func receive(_ message: Message) {
        universes.apply(message)
        // Changes go out from the event loop, in order with the timer's sends.
        running.withLock { $0.endpoint }?.eventLoop.execute { [weak self] in self?.sendDue() }
    }

    func stop() async {
        let (endpoint, timers) = running.withLock { state in
            defer { state = Running() }
            return (state.endpoint, state.timers)
        }
        timers.forEach { $0.cancel() }
        universes.detach()
        guard let endpoint else { return }
        // E1.31 §6.2.6: three packets with Stream_Terminated tell receivers to stop at once.
        for _ in 0..<3 {
            for item in universes.due(at: .now, all: true) {
                sendData(
                    universe: item.universe, frame: item.frame, sequence: UInt8(truncatingIfNeeded: item.packetsSent),
                    options: .streamTerminated, via: endpoint)
            }
        }
        await endpoint.close()
    }

    var status: BridgeStatus {
        BridgeStatus(health: universes.health(protocolName: "sACN"), counters: universes.snapshot())
    }

    // MARK: Output

    private func tick() {
        sendDue(onTick: true)
        universes.expire(at: .now, timeout: SACN.sourceTimeout)
        releaseStaleHeld()
    }

    private func sendDue(onTick: Bool = false) {
        guard let endpoint = running.withLock({ $0.endpoint }) else { return }
        let due = universes.due(at: .now, onTick: onTick, wake: (endpoint.eventLoop, { [weak self] in self?.sendDue() }))
        guard !due.isEmpty else { return }
        for item in due {
            sendData(universe: item.universe, frame: item.frame, sequence: UInt8(truncatingIfNeeded: item.packetsSent), options: [], via: endpoint)
        }
        if settings.syncUniverse != 0 {
            let sequence = running.withLock { state in
                defer { state.syncSequence &+= 1 }
                return state.syncSequence
            }
            let sync = SACNPacket.sync(SACNSyncPacket(cid: cid, sequence: sequence, syncAddress: settings.syncUniverse)).encoded()
            send(sync, universe: settings.syncUniverse, via: endpoint)
        }
    }

    private func sendData(universe: Int, frame: DMXFrame, sequence: UInt8, options: SACNOptions, via endpoint: UDPEndpoint) {
        let packet = SACNDataPacket(
            cid: cid, sourceName: settings.sourceName, priority: settings.priority, syncAddress: settings.syncUniverse,
            sequence: sequence, options: options, universe: UInt16(universe), slots: frame.slots)
        send(SACNPacket.data(packet).encoded(), universe: UInt16(universe), via: endpoint)
    }

    private func sendDiscovery() {
        guard let endpoint = running.withLock({ $0.endpoint }) else { return }
        let pages = SACNDiscoveryPacket.pages(
            cid: cid, sourceName: settings.sourceName, universes: universes.outputUniverses.map { UInt16($0) })
        for page in pages {
            send(SACNPacket.discovery(page).encoded(), universe: SACN.discoveryUniverse, via: endpoint)
        }
    }

    /// To the universe's multicast group (when on) and every unicast destination.
    private func send(_ bytes: [UInt8], universe: UInt16, via endpoint: UDPEndpoint) {
        var destinations = settings.destinations
        if settings.multicast, let group = try? SocketAddress(ipAddress: SACN.multicastGroup(universe: universe), port: settings.port) {
            destinations.append(group)
        }
        for destination in destinations {
            endpoint.send(bytes, to: destination) { [counters] _ in counters.add("errors") }
        }
        counters.add("packets_out", UInt64(destinations.count))
    }

    // MARK: Input

    private func handle(_ bytes: [UInt8], from sender: SocketAddress) {
        let packet: SACNPacket
        do {
            packet = try SACNPacket.decode(bytes)
        } catch {
            counters.add("malformed")
            return
        }
        switch packet {
        case .data(let data):
            guard data.cid != cid else { return }  // our own multicast, looped back
            counters.add("packets_in")
            take(data)
        case .sync(let sync):
            guard sync.cid != cid else { return }
            counters.add("sync_in")
            let released = running.withLock { state in
                let keys = state.held.filter { $0.value.packet.syncAddress == sync.syncAddress }.map(\.key)
                return keys.compactMap { state.held.removeValue(forKey: $0)?.packet }
            }
            released.forEach(apply)
        case .discovery(let discovery):
            guard discovery.cid != cid else { return }
            counters.add("discovery_in")
        }
    }

    private func take(_ data: SACNDataPacket) {
        // Only DMX (start code 0) is mapped; other start codes are not levels.
        guard data.startCode == 0 else { return }
        if data.options.contains(.preview) {
            counters.add("preview_ignored")
            return
        }
        if data.options.contains(.streamTerminated) {
            counters.add("terminated")
            universes.terminated(data.cid.description, universe: Int(data.universe))
            return
        }
        if data.syncAddress != 0 {
            // Keeps the time the oldest unreleased data arrived, for `releaseStaleHeld`.
            let key = "\(data.cid) \(data.universe)"
            let (endpoint, newGroup) = running.withLock { state in
                state.held[key] = Held(packet: data, at: state.held[key]?.at ?? .now)
                return (state.endpoint, state.syncGroups.insert(data.syncAddress).inserted)
            }
            // Sync packets are multicast to the sync address's group (E1.31 §6.3.3.1).
            if settings.multicast, newGroup, let endpoint {
                let group = SACN.multicastGroup(universe: data.syncAddress)
                Task { [settings, counters] in
                    do {
                        try await endpoint.join(group: group, interface: settings.interface)
                    } catch {
                        counters.add("errors")
                    }
                }
            }
            return
        }
        apply(data)
    }

    private func apply(_ data: SACNDataPacket) {
        universes.received(
            DMXFrame(data.slots), universe: Int(data.universe), priority: data.priority, sequence: data.sequence,
            from: data.cid.description, at: .now)
    }

    /// Held data whose sync packet never came is applied after the source timeout, so a lost
    /// sync source does not freeze the universe.
    private func releaseStaleHeld() {
        let deadline = ContinuousClock.now - SACN.sourceTimeout
        let stale = running.withLock { state in
            let keys = state.held.filter { $0.value.at < deadline }.map(\.key)
            return keys.compactMap { state.held.removeValue(forKey: $0)?.packet }
        }
        stale.forEach(apply)
    }
}

import ArgumentParser
import CLASP
import FoundationEssentials
import Histogram
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

@main
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clasp-load",
        abstract: "Many CLASP (WebSocket, TCP) or MQTT clients against one broker, with latency percentiles.",
        discussion: """
            Subscribers subscribe to patterns 0..<subscriptions (`/bench/<i>/v`, `/bench/<i>/*` or \
            `/bench/<i>/**`; MQTT `bench/<i>/v`, `+`, `#`); one publisher sends message n to address \
            n mod addresses with 16 payload bytes (sequence number, send time). Every wait is bounded.
            """)

    @Option(help: "websocket, tcp or mqtt") var wire: String = "websocket"
    @Flag(help: "TLS under the wire: wss, TCP+TLS, MQTT over TLS. The certificate is checked (chain and name).") var tls = false
    @Option(help: "PEM file of the certificate(s) the server may present (a self-signed one), instead of the system's trust store (with --tls).") var tlsCa: String?
    @Option var host = "127.0.0.1"
    @Option var port: Int
    @Option(help: "Subscriber sessions.") var subscribers = 1
    @Option(help: "Subscriptions per subscriber.") var subscriptions = 1
    @Option(help: "exact, single (`*`, `+`) or multi (`**`, `#`)") var pattern = "exact"
    @Option(help: "Addresses the publisher cycles through (default: --subscriptions).") var addresses: Int?
    @Option(help: "event (PUBLISH) or set (SET); CLASP only.") var kind = "event"
    @Option(help: "fire, confirm or commit; CLASP only.") var qos = "fire"
    @Option(help: "Messages per second; 0 = as fast as the connection takes them.") var rate = 0
    @Option(help: "Seconds of publishing.") var duration = 2.0
    @Option(help: "Stop after this many messages.") var maxMessages = 2_000_000
    @Option(help: "Params /bench/p/<i> written before the run (CLASP).") var preload = 0
    @Option(help: "New clients that connect after the run, one after another; each is timed until its snapshot is in (CLASP).") var lateJoiners = 0
    @Flag(help: "The late joiners connect all at once (a replay storm).") var joinersAtOnce = false
    @Option(help: "More subscribers that stop reading once subscribed (back-pressure); their deliveries are not expected.") var stalledSubscribers = 0
    @Option(help: "Process whose RSS (VmRSS) is reported: the broker.") var watchPid: Int32?
    @Option(help: "Event-loop threads for the clients.") var threads = 2
    @Option(help: "Sessions connecting at once.") var connectWave = 100
    @Option(help: "Seconds to wait for deliveries after the last send.") var drainTimeout = 10.0
    @Option(help: "Seconds at the start of a paced run left out of the per-message (every subscriber served) figures.") var warmup = 0.0
    @Option(help: "Name of this run in the report.") var label = "run"
    @Option(help: "Append the report as one JSON line to this file.") var json: String?
    @Flag(help: "Exit non-zero unless every expected message arrived at every subscriber.") var requireAll = false
    @OptionGroup(title: "Bridge probe (scenario F)") var bridge: BridgeOptions

    func run() async throws {
        if let mode = bridge.mode { return try await runBridgeProbe(mode) }
        let dialect = try makeDialect()
        let form = try parse(PatternForm.self, pattern, "--pattern")
        let addressCount = addresses ?? subscriptions
        guard subscribers >= 0, stalledSubscribers >= 0, subscriptions >= 1, addressCount >= 1, rate >= 0, duration > 0, maxMessages >= 1, threads >= 1 else {
            throw LoadError.badOption("counts must be positive (rate and subscribers may be 0)")
        }
        if tlsCa != nil, !tls { throw LoadError.badOption("--tls-ca needs --tls") }
        if dialect.isMQTT, preload > 0 || lateJoiners > 0 {
            throw LoadError.badOption("--preload and --late-joiners are CLASP only")
        }
        let endpoint = Endpoint(wire: dialect.wire, host: host, port: port, tls: tls ? try TLSWire(caFile: tlsCa, host: host) : nil)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let loops = Array(group.makeIterator())
        let capacity = rate > 0 ? min(maxMessages, Int(Double(rate) * duration) + rate + 16) : maxMessages
        let stats = loops.map { _ in LoopStats(capacity: capacity) }
        let timeout = TimeAmount.seconds(30)
        var report = Report(
            label: label, wire: wire, kind: dialect.kind.rawValue, qos: qos, subscribers: subscribers,
            subscriptionsPerSubscriber: subscriptions, pattern: form.rawValue, addresses: addressCount, rate: rate)
        report.tls = tls
        report.rssStartKiB = rss()
        let sampler = watchPid.map(BrokerSampler.init)
        sampler?.start()

        var all: [ConnectedSession] = []
        var stalled: [ConnectedSession] = []
        do {
            if preload > 0 {
                let started = NIODeadline.now()
                let loader = try await Connector.connect(
                    endpoint, dialect: dialect, name: "load-preload", patterns: [], stats: nil, on: loops[0], timeout: timeout)
                all.append(loader)
                try await fill(loader, dialect: dialect).get()
                report.preloadParams = preload
                report.preloadSeconds = seconds(NIODeadline.now() - started)
                report.rssAfterPreloadKiB = rss()
            }
            let patterns = (0..<subscriptions).map { dialect.pattern($0, form) }
            let connectStarted = NIODeadline.now()
            let subscriberSessions = try await Connector.connectMany(
                subscribers, wave: connectWave, endpoint: endpoint, dialect: dialect, namePrefix: "load-\(getpid())-sub",
                patterns: patterns, loops: loops, stats: stats, timeout: timeout)
            all += subscriberSessions
            stalled = try await StalledSubscribers.connect(
                stalledSubscribers, endpoint: endpoint, dialect: dialect, patterns: patterns, loops: loops, timeout: timeout)
            let publisher = try await Connector.connect(
                endpoint, dialect: dialect, name: "load-\(getpid())-pub", patterns: [], stats: nil,
                on: loops[loops.count > 1 ? 1 : 0], timeout: timeout)
            all.append(publisher)
            report.connectSeconds = seconds(NIODeadline.now() - connectStarted)
            report.rssConnectedKiB = rss()

            let plan = PumpPlan(
                rate: rate > 0 ? rate : nil, duration: .nanoseconds(Int64(duration * 1e9)), maxMessages: maxMessages,
                addresses: (0..<addressCount).map { dialect.address($0) }, tracksAcks: dialect.qos != .fire)
            let cpuBefore = watchPid.flatMap { ProcessReadings.cpuSeconds(pid: $0) }
            let toolCPUBefore = ProcessReadings.cpuSeconds(pid: getpid())
            let pumped = try await Pump(channel: publisher.channel, session: publisher.session, dialect: dialect, plan: plan).run().get()
            report.sent = pumped.sent
            report.sendSeconds = Double(pumped.endedAt - pumped.startedAt) / 1e9
            let matching = pumped.sent / addressCount * min(subscriptions, addressCount) + min(pumped.sent % addressCount, subscriptions)
            report.expected = matching * subscribers
            // A publisher the broker has closed (say, ERROR 503 when its ACKs outran it) has no
            // barrier to wait for; the report names the refusal.
            _ = try? await publisher.channel.eventLoop.flatSubmit { publisher.session.ping(on: publisher.channel) }.get()
            try await drain(stats: stats, loops: loops, expected: report.expected)
            if let cpuBefore, let cpuAfter = watchPid.flatMap({ ProcessReadings.cpuSeconds(pid: $0) }) {
                report.brokerCPUSeconds = cpuAfter - cpuBefore
            }
            if let toolCPUBefore, let toolCPUAfter = ProcessReadings.cpuSeconds(pid: getpid()) {
                report.toolCPUSeconds = toolCPUAfter - toolCPUBefore
            }

            let summaries = try await collect(stats, loops: loops, messages: pumped.sent)
            summarize(summaries, pumped: pumped, addressCount: addressCount, into: &report)
            let ackTimes = try await publisher.channel.eventLoop.submit { publisher.session.ackTimes }.get()
            report.acks = ackTimes.count
            if dialect.qos != .fire {
                var histogram = LatencyHistogram.make()
                for (sent, acked) in zip(pumped.sendTimes, ackTimes) { histogram.record(acked &- sent) }
                report.ackLatency = Percentiles(histogram)
            }
            if !stalled.isEmpty {
                report.stalled = try await stalledOutcome(stalled, sampler: sampler, since: pumped.startedAt)
            }
            let joined = try await LateJoiners.run(lateJoiners, atOnce: joinersAtOnce, endpoint: endpoint, dialect: dialect, loops: loops)
            report.lateJoinersAtOnce = joinersAtOnce
            report.lateJoinerMilliseconds = joined.map(\.milliseconds)
            report.lateJoinerParams = joined.map(\.params)
            report.rssEndKiB = rss()
            report.rssPeakKiB = try await sampler?.read().map(\.rssKiB).max()
            let refusals = try await refusals(of: all)
            report.sessionsClosedByBroker = refusals.count
            report.firstRefusal = refusals.first
        } catch {
            await sampler?.stop()
            await close(all + stalled, group: group)
            throw error
        }
        await sampler?.stop()
        await close(all + stalled, group: group)

        print(report.text)
        if let json { try appendLine(try report.json(), to: json) }
        if requireAll, report.delivered != report.expected || report.sessionsClosedByBroker > 0 {
            throw LoadError.refused("\(report.delivered) of \(report.expected) expected deliveries, \(report.sessionsClosedByBroker) sessions closed")
        }
    }

    private func makeDialect() throws -> Dialect {
        let wire = try parse(Wire.self, wire, "--wire")
        let kind = try parse(PublishKind.self, kind, "--kind")
        let qos: QoS
        switch self.qos {
        case "fire": qos = .fire
        case "confirm": qos = .confirm
        case "commit": qos = .commit
        default: throw LoadError.badOption("--qos must be fire, confirm or commit")
        }
        if wire == .mqtt, kind != .event || qos != .fire {
            throw LoadError.badOption("MQTT runs publish at QoS 0: leave --kind and --qos at their defaults")
        }
        return Dialect(wire: wire, kind: kind, qos: qos)
    }

    func parse<T: RawRepresentable & CaseIterable>(_: T.Type, _ text: String, _ option: String) throws -> T where T.RawValue == String {
        guard let value = T(rawValue: text) else {
            throw LoadError.badOption("\(option) must be one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    /// Writes the preload params, then waits for the ping behind them: all applied.
    private func fill(_ loader: ConnectedSession, dialect: Dialect) -> EventLoopFuture<Void> {
        let count = preload
        return loader.channel.eventLoop.flatSubmit {
            do {
                for index in 0..<count {
                    loader.channel.write(
                        try dialect.preload(address: "/bench/p/\(index)", value: Double(index), allocator: loader.channel.allocator),
                        promise: nil)
                    if index % 256 == 255 { loader.channel.flush() }
                }
            } catch {
                return loader.channel.eventLoop.makeFailedFuture(error)
            }
            return loader.session.ping(on: loader.channel)
        }
    }

    /// Waits until every expected delivery arrived, or nothing arrived for a second, or
    /// `drainTimeout` passed.
    private func drain(stats: [LoopStats], loops: [any EventLoop], expected: Int) async throws {
        try await waitWhileProgressing(until: .now() + .nanoseconds(Int64(drainTimeout * 1e9))) {
            var delivered = 0
            for (index, loop) in loops.enumerated() {
                delivered += try await loop.submit { stats[index].delivered }.get()
            }
            return (delivered, delivered >= expected)
        }
    }

    private func collect(_ stats: [LoopStats], loops: [any EventLoop], messages: Int) async throws -> [LoopStats.Summary] {
        var summaries: [LoopStats.Summary] = []
        for (index, loop) in loops.enumerated() {
            summaries.append(try await loop.submit { stats[index].summary(messages: messages) }.get())
        }
        return summaries
    }

    private func summarize(_ summaries: [LoopStats.Summary], pumped: PumpResult, addressCount: Int, into report: inout Report) {
        var latency = LatencyHistogram.make()
        var served = LatencyHistogram.make()
        var incomplete = 0
        var lastAt: UInt64 = 0
        for summary in summaries {
            report.delivered += summary.delivered
            latency.add(summary.latency)
            lastAt = max(lastAt, summary.lastAt)
        }
        // Per message: every subscriber that should have it did, and when the slowest got it.
        // The warm-up only matters for paced runs; it is applied to this per-message view.
        let warmupMessages = rate > 0 ? Int(Double(rate) * warmup) : 0
        if subscribers > 0 {
            for seq in 0..<pumped.sent where seq % addressCount < subscriptions {
                var receivers = 0
                var slowest: UInt64 = 0
                for summary in summaries {
                    receivers += Int(summary.receivers[seq])
                    slowest = max(slowest, summary.slowest[seq])
                }
                if receivers < subscribers {
                    incomplete += 1
                } else if seq >= warmupMessages {
                    served.record(slowest)
                }
            }
        }
        report.latency = Percentiles(latency)
        report.allServed = Percentiles(served)
        report.messagesNotAtEverySubscriber = incomplete
        if lastAt > pumped.startedAt {
            report.deliveriesPerSecond = Double(report.delivered) / (Double(lastAt - pumped.startedAt) / 1e9)
        }
    }

    /// Leaves the stalled sessions unread until the broker has closed as many connections
    /// (its descriptors, sampled) or `drainTimeout` passed, then lets them read again.
    private func stalledOutcome(_ stalled: [ConnectedSession], sampler: BrokerSampler?, since start: UInt64) async throws -> StalledSubscribers.Outcome {
        let deadline = NIODeadline.now() + .nanoseconds(Int64(drainTimeout * 1e9))
        while let sampler, NIODeadline.now() < deadline, try await sampler.closed(since: start) < stalled.count {
            try await Task.sleep(for: .milliseconds(50))
        }
        var outcome = try await StalledSubscribers.resume(stalled, timeout: .nanoseconds(Int64(drainTimeout * 1e9)))
        if let samples = try await sampler?.read() {
            outcome.brokerClosedAt = BrokerSampler.closeTimes(samples, since: start)
        }
        return outcome
    }

    private func refusals(of sessions: [ConnectedSession]) async throws -> [String] {
        var reasons: [String] = []
        for connected in sessions {
            let reason = try await connected.channel.eventLoop.submit { connected.session.refusal }.get()
            if let reason { reasons.append(reason) }
        }
        return reasons
    }

    private func close(_ sessions: [ConnectedSession], group: MultiThreadedEventLoopGroup) async {
        for connected in sessions { connected.channel.close(promise: nil) }
        try? await group.shutdownGracefully()
    }

    private func rss() -> Int? { watchPid.flatMap { ProcessReadings.residentKiB(pid: $0) } }

    private func seconds(_ amount: TimeAmount) -> Double { Double(amount.nanoseconds) / 1e9 }

    func appendLine(_ line: String, to path: String) throws {
        guard let file = fopen(path, "a") else { throw LoadError.badOption("cannot open \(path) for appending") }
        defer { fclose(file) }
        fputs(line + "\n", file)
    }
}

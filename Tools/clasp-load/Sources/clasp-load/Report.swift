import FoundationEssentials

/// Everything one run measured; printed as text and, with `--json`, appended as one JSON line.
struct Report: Codable, Sendable, JSONLineReport {
    var label: String
    var wire: String
    var tls = false
    var kind: String
    var qos: String
    var subscribers: Int
    var subscriptionsPerSubscriber: Int
    var pattern: String
    var addresses: Int
    /// Target msg/s, 0 = unpaced.
    var rate: Int
    var sent = 0
    var sendSeconds = 0.0
    var expected = 0
    var delivered = 0
    /// Deliveries per second, from the first send to the last delivery.
    var deliveriesPerSecond = 0.0
    var latency: Percentiles?
    /// Per message: send → the last of its subscribers has it (messages every subscriber got).
    var allServed: Percentiles?
    var messagesNotAtEverySubscriber = 0
    var acks = 0
    var ackLatency: Percentiles?
    /// CPU the broker (`--watch-pid`) used from the first send until the deliveries were in.
    var brokerCPUSeconds: Double?
    /// CPU this tool used over the same time: on a machine the broker shares with the tool,
    /// the two together are bounded by the cores.
    var toolCPUSeconds: Double?
    var sessionsClosedByBroker = 0
    var firstRefusal: String?
    var connectSeconds = 0.0
    var preloadParams = 0
    var preloadSeconds = 0.0
    /// Per late joiner: connect → every param of the snapshot received (ms).
    var lateJoinerMilliseconds: [Double] = []
    var lateJoinerParams: [Int] = []
    /// The late joiners connected all at once rather than one after another.
    var lateJoinersAtOnce = false
    /// `--stalled-subscribers`: what the broker did with sessions that stopped reading.
    var stalled: StalledSubscribers.Outcome?
    /// RSS of `--watch-pid` (KiB) at the start, after the preload, with every session connected, and at the end.
    var rssStartKiB: Int?
    var rssAfterPreloadKiB: Int?
    var rssConnectedKiB: Int?
    var rssEndKiB: Int?
    /// The highest of the samples taken every 20 ms through the run.
    var rssPeakKiB: Int?

    var text: String {
        var lines = ["[\(label)] \(wire)\(tls ? " over TLS" : "") \(kind) qos=\(qos): \(subscribers) subscriber(s) × \(subscriptionsPerSubscriber) \(pattern) subscription(s), \(addresses) address(es), rate \(rate == 0 ? "unpaced" : "\(rate) msg/s")"]
        if preloadParams > 0 { lines.append("  preload: \(preloadParams) params in \(format(preloadSeconds)) s") }
        if sent > 0 {
            lines.append("  sent \(sent) in \(format(sendSeconds)) s (\(format(Double(sent) / max(sendSeconds, 1e-9), 0)) msg/s); delivered \(delivered) of \(expected) expected, \(format(deliveriesPerSecond, 0)) deliveries/s")
        }
        if let latency { lines.append("  latency: \(latency)") }
        if let allServed { lines.append("  every subscriber served: \(allServed); messages missing somewhere: \(messagesNotAtEverySubscriber)") }
        if let brokerCPUSeconds, sent > 0 {
            lines.append("  broker CPU: \(format(brokerCPUSeconds, 2)) s, \(format(brokerCPUSeconds * 1e6 / Double(sent), 2)) µs per message sent")
        }
        if let toolCPUSeconds, delivered > 0 {
            lines.append("  load tool CPU: \(format(toolCPUSeconds, 2)) s, \(format(toolCPUSeconds * 1e6 / Double(delivered), 2)) µs per delivery")
        }
        if let ackLatency { lines.append("  ACK (\(acks)): \(ackLatency)") }
        if !lateJoinerMilliseconds.isEmpty {
            let times: String
            if lateJoinerMilliseconds.count <= 5 {
                times = "\(lateJoinerMilliseconds.map { format($0) }) ms"
            } else {
                let sorted = lateJoinerMilliseconds.sorted()
                let at = { (fraction: Double) in sorted[min(sorted.count - 1, Int(fraction * Double(sorted.count)))] }
                times = "p50 \(format(at(0.5))) ms, p99 \(format(at(0.99))), max \(format(sorted[sorted.count - 1])) (n = \(sorted.count))"
            }
            lines.append("  late joiners\(lateJoinersAtOnce ? " (all at once)" : ""): \(times) for \(Set(lateJoinerParams).sorted()) params")
        }
        if let stalled {
            lines.append("  stalled subscribers: \(stalled.closed) of \(stalled.sessions) closed by the broker (\(stalled.reasons.sorted { $0.key < $1.key }.map { "\($0.value) × \($0.key)" }.joined(separator: "; "))), \(stalled.fewestDeliveries)–\(stalled.mostDeliveries) deliveries each; broker closed descriptors at \(stalled.brokerClosedAt) s")
        }
        lines.append("  connect \(format(connectSeconds)) s; closed by broker \(sessionsClosedByBroker)\(firstRefusal.map { " (\($0))" } ?? "")")
        let rss = [("start", rssStartKiB), ("after preload", rssAfterPreloadKiB), ("connected", rssConnectedKiB), ("end", rssEndKiB), ("peak", rssPeakKiB)]
            .compactMap { name, value in value.map { "\(name) \(format(Double($0) / 1024, 1)) MiB" } }
        if !rss.isEmpty { lines.append("  broker RSS: " + rss.joined(separator: ", ")) }
        return lines.joined(separator: "\n")
    }

}

/// A run's report as `--json` appends it: one line, keys sorted.
protocol JSONLineReport: Encodable {}

extension JSONLineReport {
    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

/// `value` rounded to `digits` decimals, as the reports print figures.
func format(_ value: Double, _ digits: Int = 3) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    return "\((value * scale).rounded() / scale)"
}

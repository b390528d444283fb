/// What one bridge probe run measured; printed as text and, with `--json`, appended as one JSON line.
struct BridgeReport: Codable, Sendable, JSONLineReport {
    var label: String
    /// The `BridgeMode`: its presence marks a bridge run in results.jsonl.
    var bridge: String
    var frames: String
    /// Input modes: the SETs timed (`InputSets`).
    var inputSets: String?
    var universes: Int
    /// Target changes per second over all universes.
    var rate: Int
    var extraChannels: Int
    var sent = 0
    /// Changes some later frame showed.
    var seen = 0
    /// Send → the first frame that shows the change (a packet or USB Pro frame on the wire, or
    /// the subscriber's SET); warm-up changes left out.
    var latency: Percentiles?
    /// Packets (output modes) or SETs (input modes) the probe saw from the first change to the end.
    var observed = 0
    var windowSeconds = 0.0
    /// CPU the gateway (`--watch-pid`) used over the window.
    var gatewayCPUSeconds: Double?
    /// The gateway's CPU in % of one core over `--idle-seconds` before the run (bridge primed, nothing changing).
    var idleCPUPercent: Double?

    var observedPerSecond: Double { windowSeconds > 0 ? Double(observed) / windowSeconds : 0 }

    var text: String {
        let unit = BridgeMode(rawValue: bridge)?.seesSETs == true ? "SETs" : "packets"
        let watched = inputSets == InputSets.frame.rawValue ? ", timed by the /dmx/U frame SETs" : ""
        var lines = ["[\(label)] bridge \(bridge), \(frames) changes over \(universes) universe(s) at \(rate)/s\(extraChannels > 0 ? ", \(extraChannels) more channels per packet" : "")\(watched)"]
        lines.append("  sent \(sent) changes, \(seen) seen, \(sent - seen) not seen; \(observed) \(unit) in \(format(windowSeconds)) s (\(format(observedPerSecond, 1))/s)")
        if let latency { lines.append("  change → first frame showing it: \(latency)") }
        if let gatewayCPUSeconds, windowSeconds > 0 {
            var cpu = "  gateway CPU: \(format(gatewayCPUSeconds, 2)) s, \(format(gatewayCPUSeconds / windowSeconds * 100, 1)) % of one core"
            if let idleCPUPercent { cpu += " (\(format(idleCPUPercent, 1)) % idle before)" }
            if sent > 0 { cpu += ", \(format(gatewayCPUSeconds * 1e6 / Double(sent), 1)) µs per change" }
            if observed > 0 { cpu += ", \(format(gatewayCPUSeconds * 1e6 / Double(observed), 1)) µs per \(unit == "SETs" ? "SET" : "packet")" }
            lines.append(cpu)
        }
        return lines.joined(separator: "\n")
    }
}

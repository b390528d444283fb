import Bridges
import CLASP
import Router

/// `/metrics` in the Prometheus text format (version 0.0.4).
extension AdminApp {
    func metrics() async -> String {
        let statistics = await host.statistics()
        let process = ProcessStats.now()
        var out = ""
        func family(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        family("clasp_sessions", "gauge", "Router sessions (handshake done), bridges and admin sessions included.")
        out += "clasp_sessions \(statistics.sessions)\n"
        family("clasp_connections", "gauge", "Connections the router knows, handshake or not.")
        out += "clasp_connections \(statistics.connections)\n"
        family("clasp_params", "gauge", "Params held by the router.")
        out += "clasp_params \(statistics.params)\n"
        family("clasp_messages_received_total", "counter", "Messages decoded from sessions, by type.")
        for kind in MessageKind.allCases {
            out += "clasp_messages_received_total{type=\"\(kind.name)\"} \(statistics.received(kind))\n"
        }
        family("clasp_messages_sent_total", "counter", "Messages sent to sessions, by type (a fan-out counts once per recipient).")
        for kind in MessageKind.allCases {
            out += "clasp_messages_sent_total{type=\"\(kind.name)\"} \(statistics.sent(kind))\n"
        }
        family("clasp_errors_sent_total", "counter", "ERROR messages sent to sessions, by code.")
        for code in statistics.errorsSent.keys.sorted() {
            out += "clasp_errors_sent_total{code=\"\(code)\"} \(statistics.errorsSent[code] ?? 0)\n"
        }
        family("clasp_slow_consumer_closes_total", "counter", "Sessions closed because their outbound queue overflowed (nothing is dropped silently).")
        out += "clasp_slow_consumer_closes_total \(host.slowConsumerCloses)\n"
        family("clasp_store_write_seconds", "summary", "Time from handing a batch of changes to the state store to its being on disk.")
        out += "clasp_store_write_seconds_sum \(statistics.storeWriteSeconds)\nclasp_store_write_seconds_count \(statistics.storeWrites)\n"
        family("clasp_store_write_seconds_max", "gauge", "The longest such write since start.")
        out += "clasp_store_write_seconds_max \(statistics.storeWriteMaxSeconds)\n"
        let reports = await backend.bridgeReports()
        family("clasp_bridge_running", "gauge", "1 when the bridge runs, 0 when disabled, starting or retrying.")
        for report in reports {
            let running: Int = if case .running = report.state { 1 } else { 0 }
            out += "clasp_bridge_running{\(Self.labels(report))} \(running)\n"
        }
        family("clasp_bridge_counter_total", "counter", "Each bridge's own counters (frames, messages, errors), by name.")
        for report in reports {
            guard case .running(let status) = report.state else { continue }
            for counter in status.counters {
                out += "clasp_bridge_counter_total{\(Self.labels(report)),counter=\"\(Self.escape(counter.name))\"} \(counter.value)\n"
            }
        }
        family("process_cpu_seconds_total", "counter", "User and system CPU time.")
        out += "process_cpu_seconds_total \(process.cpuSeconds)\n"
        family("process_resident_memory_bytes", "gauge", "Resident memory.")
        out += "process_resident_memory_bytes \(process.residentBytes)\n"
        family("clasp_uptime_seconds", "gauge", "Seconds since the admin server started.")
        out += "clasp_uptime_seconds \(Double(AdminAuth.now() &- startedAt) / 1e9)\n"
        return out
    }

    private static func labels(_ report: BridgeSupervisor.Report) -> String {
        "bridge=\"\(escape(report.config.id))\",kind=\"\(escape(report.config.kind))\""
    }

    private static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }
}

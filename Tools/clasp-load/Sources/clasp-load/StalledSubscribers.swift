import NIOCore

/// Back-pressure (`--stalled-subscribers K`): K more subscribers with the same subscriptions
/// that stop reading once they are ready (autoRead off, 4 KiB receive buffer, so the broker's
/// own queue rather than the kernel's buffers takes the backlog). They are not counted among
/// the subscribers whose deliveries are expected. After the run they read again, and what they
/// got tells what the broker did with them.
enum StalledSubscribers {
    /// Small enough that the broker soon cannot write to a stalled session.
    static let receiveBufferBytes = 4_096

    /// What became of the stalled sessions, as they found out when they read again.
    struct Outcome: Codable, Sendable {
        var sessions = 0
        /// Closed by the broker, with or without a reason.
        var closed = 0
        /// Distinct reasons with how many sessions got each (ERROR 503, a reset…).
        var reasons: [String: Int] = [:]
        var fewestDeliveries = 0
        var mostDeliveries = 0
        /// Seconds after the first send at which the broker's descriptor count fell, one entry
        /// per descriptor (its closes, seen from outside).
        var brokerClosedAt: [Double] = []
    }

    static func connect(
        _ count: Int, endpoint: Endpoint, dialect: Dialect, patterns: [String], loops: [any EventLoop], timeout: TimeAmount
    ) async throws -> [ConnectedSession] {
        try await withThrowingTaskGroup(of: ConnectedSession.self) { group in
            for index in 0..<count {
                group.addTask {
                    let connected = try await Connector.connect(
                        endpoint, dialect: dialect, name: "load-stalled-\(index)", patterns: patterns, stats: nil,
                        on: loops[index % loops.count], timeout: timeout, receiveBufferBytes: receiveBufferBytes)
                    try await connected.channel.setOption(.autoRead, value: false).get()
                    return connected
                }
            }
            var sessions: [ConnectedSession] = []
            for try await session in group { sessions.append(session) }
            return sessions
        }
    }

    /// Reads again until every session is closed, or nothing arrived for a second, or `timeout`.
    static func resume(_ sessions: [ConnectedSession], timeout: TimeAmount) async throws -> Outcome {
        for connected in sessions where connected.channel.isActive {
            try? await connected.channel.setOption(.autoRead, value: true).get()
        }
        try await waitWhileProgressing(until: .now() + timeout) {
            (try await deliveries(sessions).reduce(0, +), !sessions.contains(where: { $0.channel.isActive }))
        }
        var outcome = Outcome(sessions: sessions.count)
        let counts = try await deliveries(sessions)
        outcome.fewestDeliveries = counts.min() ?? 0
        outcome.mostDeliveries = counts.max() ?? 0
        for connected in sessions {
            let refusal = try await connected.channel.eventLoop.submit { connected.session.refusal }.get()
            if !connected.channel.isActive { outcome.closed += 1 }
            let reason = refusal.map(withoutSessionName) ?? (connected.channel.isActive ? "still open" : "closed without a message")
            outcome.reasons[reason, default: 0] += 1
        }
        return outcome
    }

    private static func deliveries(_ sessions: [ConnectedSession]) async throws -> [Int] {
        var counts: [Int] = []
        for connected in sessions {
            counts.append(try await connected.channel.eventLoop.submit { connected.session.deliveries }.get())
        }
        return counts
    }

    /// "load-stalled-3: ERROR …" → "ERROR …", so equal reasons are counted together.
    private static func withoutSessionName(_ refusal: String) -> String {
        guard let colon = refusal.firstIndex(of: ":") else { return refusal }
        return String(refusal[refusal.index(after: colon)...].drop { $0 == " " })
    }
}

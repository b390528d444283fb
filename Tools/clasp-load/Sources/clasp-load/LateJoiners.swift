import NIOCore

/// New clients after the run (`--late-joiners J`), one after another or all at once
/// (`--joiners-at-once`, the replay storm); each is timed from its connect to WELCOME, the
/// snapshot of every param and the PONG behind it.
enum LateJoiners {
    struct Joined: Sendable {
        let milliseconds: Double
        let params: Int
    }

    static func run(
        _ count: Int, atOnce: Bool, endpoint: Endpoint, dialect: Dialect, loops: [any EventLoop]
    ) async throws -> [Joined] {
        guard atOnce else {
            var joined: [Joined] = []
            for index in 0..<count {
                joined.append(try await join(index, endpoint: endpoint, dialect: dialect, loop: loops[0]))
            }
            return joined
        }
        return try await withThrowingTaskGroup(of: (Int, Joined).self) { group in
            for index in 0..<count {
                group.addTask {
                    (index, try await join(index, endpoint: endpoint, dialect: dialect, loop: loops[index % loops.count]))
                }
            }
            var joined: [(Int, Joined)] = []
            for try await result in group { joined.append(result) }
            return joined.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    private static func join(_ index: Int, endpoint: Endpoint, dialect: Dialect, loop: any EventLoop) async throws -> Joined {
        let started = NIODeadline.now()
        let joiner = try await Connector.connect(
            endpoint, dialect: dialect, name: "load-joiner-\(index)", patterns: [], stats: nil, on: loop, timeout: .seconds(30))
        let elapsed = NIODeadline.now() - started
        let params = try await loop.submit { joiner.session.snapshotParams }.get()
        try? await joiner.channel.close()
        return Joined(milliseconds: Double(elapsed.nanoseconds) / 1e6, params: params)
    }
}

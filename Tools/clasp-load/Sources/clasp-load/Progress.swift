import NIOCore

/// How the tool waits for what is still on its way after the last send: it polls every 10 ms
/// and stops when `poll` says it is complete, when the count it returns has not moved for a
/// second (the rest is not coming), or at `deadline`.
func waitWhileProgressing(until deadline: NIODeadline, _ poll: () async throws -> (count: Int, complete: Bool)) async throws {
    var last = -1
    var lastChange = NIODeadline.now()
    while NIODeadline.now() < deadline {
        let (count, complete) = try await poll()
        if complete { return }
        if count != last {
            last = count
            lastChange = .now()
        } else if NIODeadline.now() - lastChange > .seconds(1) {
            return
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}

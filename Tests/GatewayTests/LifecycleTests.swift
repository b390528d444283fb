import NIOCore
import Testing

@testable import Gateway

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct LifecycleTests {
    @Test func aSignalArrivesOnTheWatchersStream() async throws {
        let watcher = SignalWatcher([SIGUSR2])
        var iterator = watcher.signals.makeAsyncIterator()
        // Give the dispatch source a moment to be armed, then raise until it is seen (bounded).
        let received = await withTaskGroup(of: Int32?.self) { group in
            group.addTask {
                for _ in 0..<50 {
                    kill(getpid(), SIGUSR2)
                    try? await Task.sleep(for: .milliseconds(100))
                }
                return nil
            }
            let first = await iterator.next()
            group.cancelAll()
            return first
        }
        #expect(received == SIGUSR2)
        #expect(SignalWatcher.name(SIGTERM) == "SIGTERM")
        #expect(SignalWatcher.name(SIGINT) == "SIGINT")
    }

    @Test func bindFailuresAreSaidPlainly() {
        let inUse = GatewayServer.describe(IOError(errnoCode: EADDRINUSE, reason: "bind"), port: 7330)
        #expect(inUse.hasPrefix("port 7330 is already in use"))
        let denied = GatewayServer.describe(IOError(errnoCode: EACCES, reason: "bind"), port: 80)
        #expect(denied.contains("permission denied"))
    }
}

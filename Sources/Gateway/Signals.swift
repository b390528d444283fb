import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SIGINT and SIGTERM as an async sequence. Installed before the listener starts, so a signal
/// that arrives right after the "listening" line is never lost. SIGPIPE is ignored.
final class SignalWatcher {
    let signals: AsyncStream<Int32>
    /// Puts `restartRequest` into `signals` (the admin page's restart), from any thread.
    let restart: @Sendable () -> Void
    private let sources: [any DispatchSourceSignal]

    /// Not a real signal number: the admin page asked for a restart.
    static let restartRequest: Int32 = -1

    init(_ numbers: [Int32] = [SIGINT, SIGTERM]) {
        signal(SIGPIPE, SIG_IGN)
        let queue = DispatchQueue(label: "clasp-gateway.signals")
        let (stream, continuation) = AsyncStream<Int32>.makeStream(bufferingPolicy: .unbounded)
        var made: [any DispatchSourceSignal] = []
        for number in numbers {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            made.append(source)
        }
        signals = stream
        restart = { continuation.yield(SignalWatcher.restartRequest) }
        sources = made
    }

    static func name(_ number: Int32) -> String {
        switch number {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        case restartRequest: "restart request"
        default: "signal \(number)"
        }
    }
}

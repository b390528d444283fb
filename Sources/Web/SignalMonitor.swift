import CLASP
import Synchronization
import Transports

/// The live signal monitor and value writes, each through an in-process router session of
/// its own: the router decides everything (rules, locks, revisions), the page only shows it.
enum SignalMonitor {
    /// Server-sent events for every param and signal matching `pattern`: first the current
    /// values (`snapshot`), then each change. The session closes when the client goes away.
    static func events(host: RouterHost, pattern: String) -> AsyncStream<[UInt8]> {
        let (stream, continuation) = AsyncStream<[UInt8]>.makeStream(bufferingPolicy: .bufferingNewest(1_024))
        let owner = SessionOwner()
        continuation.onTermination = { _ in owner.end() }
        Task {
            do {
                let session = try await LocalSession.open(
                    host: host, name: "admin-monitor",
                    deliver: { message in
                        for event in events(for: message) {
                            continuation.yield(Array("data: \(event.serialized)\n\n".utf8))
                        }
                    },
                    closed: { _ in continuation.finish() })
                guard owner.adopt(session) else { return }
                try session.send(.subscribe(Subscribe(id: 1, pattern: pattern)))
                // A comment line now, so the browser sees the stream open even with no params yet.
                continuation.yield(Array(": subscribed\n\n".utf8))
            } catch {
                let event = JSON.object([("type", .string("error")), ("message", .string("\(error)"))])
                continuation.yield(Array("data: \(event.serialized)\n\n".utf8))
                continuation.finish()
            }
        }
        return stream
    }

    private static func events(for message: Message) -> [JSON] {
        switch message {
        case .snapshot(let snapshot):
            return snapshot.params.map { state in
                var object: [(String, JSON)] = [
                    ("type", .string("param")), ("address", .string(state.address)), ("value", JSON(state.value)),
                    ("revision", .integer(Int64(clamping: state.revision))),
                ]
                if let writer = state.writer { object.append(("writer", .string(writer))) }
                return .object(object)
            }
        case .set(let set):
            var object: [(String, JSON)] = [("type", .string("param")), ("address", .string(set.address)), ("value", JSON(set.value))]
            if let revision = set.revision { object.append(("revision", .integer(Int64(clamping: revision)))) }
            return [.object(object)]
        case .publish(let publish):
            var object: [(String, JSON)] = [
                ("type", .string("\(publish.signal)")), ("address", .string(publish.address)),
            ]
            if let value = publish.value { object.append(("value", JSON(value))) }
            if let samples = publish.samples { object.append(("value", .array(samples.map { .number($0) }))) }
            return [.object(object)]
        case .error(let error):
            return [.object([("type", .string("error")), ("message", .string("\(error.code): \(error.message)"))])]
        default:
            return []
        }
    }

    /// Sets one param as the session `admin`, waiting for the router's ACK or ERROR.
    static func set(host: RouterHost, address: String, value: Value, timeout: Duration = .seconds(3)) async -> Result<Void, SetFailure> {
        let (answers, continuation) = AsyncStream<Message>.makeStream(bufferingPolicy: .unbounded)
        let session: LocalSession
        do {
            session = try await LocalSession.open(host: host, name: "admin", deliver: { message in
                switch message {
                case .ack, .error: continuation.yield(message)
                default: break
                }
            })
        } catch {
            return .failure(SetFailure(status: 503, message: "\(error)"))
        }
        defer { session.close() }
        do {
            try session.send(.set(SetMessage(address: address, value: value)), qos: .confirm)
        } catch {
            return .failure(SetFailure(status: 422, message: "value cannot be sent: \(error)"))
        }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            continuation.finish()
        }
        defer { timer.cancel() }
        for await answer in answers {
            switch answer {
            case .ack: return .success(())
            case .error(let error): return .failure(SetFailure(status: 422, message: "router refused: \(error.message) (code \(error.code))"))
            default: continue
            }
        }
        return .failure(SetFailure(status: 504, message: "the router did not answer"))
    }

    /// The monitor's session, closed when the stream ends — also when it ends before the
    /// session is open.
    private final class SessionOwner: Sendable {
        private let state = Mutex<(session: LocalSession?, ended: Bool)>((nil, false))

        /// False (and the session closed) when the stream ended already.
        func adopt(_ session: LocalSession) -> Bool {
            let ended = state.withLock { state in
                if !state.ended { state.session = session }
                return state.ended
            }
            if ended { session.close() }
            return !ended
        }

        func end() {
            let session = state.withLock { state in
                state.ended = true
                defer { state.session = nil }
                return state.session
            }
            session?.close()
        }
    }

    struct SetFailure: Error {
        var status: Int
        var message: String
    }
}

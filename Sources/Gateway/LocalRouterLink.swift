import Bridges
import CLASP
import Transports

/// A bridge's router session: a `LocalSession` seen through the `RouterLink` the bridges know.
struct LocalRouterLink: RouterLink {
    let session: LocalSession

    static func open(host: RouterHost, name: String, deliver: @escaping @Sendable (Message) -> Void) async throws -> LocalRouterLink {
        LocalRouterLink(session: try await LocalSession.open(host: host, name: name, deliver: deliver))
    }

    func send(_ message: Message) throws(CodecError) {
        try session.send(message)
    }

    func close() {
        session.close()
    }
}

import NIOCore
import NIOSSL

/// TLS under any wire (`--tls`): NIOSSL's client handler first in the pipeline, so WebSocket
/// becomes wss, CLASP over TCP becomes TCP+TLS and MQTT becomes MQTT over TLS. The server's
/// certificate must chain to the CA file given (`--tls-ca`: a gateway's self-signed
/// `<data-dir>/tls/cert.pem`, the script's mosquitto certificate) or else to the system's
/// trust store, and must carry the name or address connected to; nothing is accepted unchecked.
struct TLSWire: Sendable {
    /// One context for every connection of the run: its trust roots are parsed once.
    private let context: NIOSSLContext
    /// SNI and the name checked: a host name is sent as SNI; for an IP literal, which SNI
    /// cannot carry, NIOSSL checks the certificate's IP addresses against the connected one.
    private let serverHostname: String?

    init(caFile: String?, host: String) throws {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = .fullVerification
        if let caFile {
            let roots: [NIOSSLCertificate]
            do {
                roots = try NIOSSLCertificate.fromPEMFile(caFile)
            } catch {
                throw LoadError.badOption("--tls-ca \(caFile): cannot read PEM certificates (\(error))")
            }
            guard !roots.isEmpty else { throw LoadError.badOption("--tls-ca \(caFile): no certificate in the file") }
            configuration.trustRoots = .certificates(roots)
        }
        context = try NIOSSLContext(configuration: configuration)
        serverHostname = Self.isIPLiteral(host) ? nil : host
    }

    /// Adds the TLS handler in front of everything in `channel`'s pipeline (call from the
    /// channel initializer, on its loop).
    func addHandler(to channel: any Channel) throws {
        let handler = try NIOSSLClientHandler(context: context, serverHostname: serverHostname)
        try channel.pipeline.syncOperations.addHandler(handler, position: .first)
    }

    private static func isIPLiteral(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}

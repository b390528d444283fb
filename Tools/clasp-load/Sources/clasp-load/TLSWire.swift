import NIOCore
import NIOSSL

#if canImport(Glibc)
import Glibc
#endif

/// TLS under any wire (`--tls`): NIOSSL's client handler first in the pipeline, so WebSocket
/// becomes wss, CLASP over TCP becomes TCP+TLS and MQTT becomes MQTT over TLS. Nothing is
/// accepted unchecked: the server's certificate must be one of those in the `--tls-ca` file (a
/// gateway's self-signed `<data-dir>/tls/cert.pem`, the script's mosquitto certificate), or
/// else chain to the system's trust store; either way it must be valid now and carry the name
/// or address connected to.
struct TLSWire: Sendable {
    /// One context for every connection of the run.
    private let context: NIOSSLContext
    /// The `--tls-ca` certificates. Matched exactly rather than used as trust roots: BoringSSL
    /// does not take a self-signed certificate whose key usage lacks certificate signing (the
    /// gateway's) as a root.
    private let accepted: [NIOSSLCertificate]?
    /// SNI and the name checked: a host name is sent as SNI; for an IP literal, which SNI
    /// cannot carry, NIOSSL checks the certificate's IP addresses against the connected one.
    private let serverHostname: String?

    init(caFile: String?, host: String) throws {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        // Also with the callback below: NIOSSL then still checks the name after it.
        configuration.certificateVerification = .fullVerification
        if let caFile {
            let certificates: [NIOSSLCertificate]
            do {
                certificates = try NIOSSLCertificate.fromPEMFile(caFile)
            } catch {
                throw LoadError.badOption("--tls-ca \(caFile): cannot read PEM certificates (\(error))")
            }
            guard !certificates.isEmpty else { throw LoadError.badOption("--tls-ca \(caFile): no certificate in the file") }
            accepted = certificates
        } else {
            accepted = nil
        }
        context = try NIOSSLContext(configuration: configuration)
        serverHostname = Self.isIPLiteral(host) ? nil : host
    }

    /// Adds the TLS handler in front of everything in `channel`'s pipeline (call from the
    /// channel initializer, on its loop).
    func addHandler(to channel: any Channel) throws {
        let handler: NIOSSLClientHandler
        if let accepted {
            handler = try NIOSSLClientHandler(context: context, serverHostname: serverHostname) { chain, verdict in
                verdict.succeed(Self.isCurrent(chain.first, oneOf: accepted) ? .certificateVerified : .failed)
            }
        } else {
            handler = try NIOSSLClientHandler(context: context, serverHostname: serverHostname)
        }
        try channel.pipeline.syncOperations.addHandler(handler, position: .first)
    }

    private static func isCurrent(_ leaf: NIOSSLCertificate?, oneOf accepted: [NIOSSLCertificate]) -> Bool {
        guard let leaf, accepted.contains(leaf) else { return false }
        let now = time(nil)
        return leaf.notValidBefore <= now && now <= leaf.notValidAfter
    }

    private static func isIPLiteral(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}

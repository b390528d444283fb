import NIOCore
public import NIOSSL
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which server certificates a `CLASPClient` accepts over `wss://` and `tcps://`.
public enum CertificateTrust: Sendable, Equatable {
    /// Signed by an authority in the system's trust store and valid for the host name (or
    /// IP address) connected to.
    case system
    /// Signed by one of these certificates (a private CA, or a server's own certificate
    /// trusted as its own root) instead of the system's store, and valid for the host name.
    case authorities([NIOSSLCertificate])
    /// Exactly the certificate with this SHA-256 fingerprint, whoever signed it and whatever
    /// names it holds (for a gateway's self-signed certificate; see its start-up log).
    case pinned(CertificateFingerprint)
}

/// The first reason a TLS handshake was refused, written on the event loop by the pin check
/// or `TLSFailureRecorder`, read by `connect` once the connection has failed.
final class TLSRefusal: Sendable {
    private let first = Mutex<CLASPClientError?>(nil)

    func record(_ error: CLASPClientError) {
        first.withLock { if $0 == nil { $0 = error } }
    }

    var error: CLASPClientError? { first.withLock { $0 } }
}

/// The client side of TLS: NIOSSL's handler first in the pipeline, set up for the chosen trust,
/// and the mapping of its failures to errors that name the reason.
enum ClientTLS {
    static func addHandlers(
        to channel: any Channel, host: String, trust: CertificateTrust, refusal: TLSRefusal
    ) throws {
        var configuration = TLSConfiguration.makeClientConfiguration()
        let handler: NIOSSLClientHandler
        // SNI carries names only; for an IP literal NIOSSL checks the certificate against the
        // connected address instead.
        let serverName = isIPAddress(host) ? nil : host
        switch trust {
        case .system, .authorities:
            configuration.certificateVerification = .fullVerification
            if case .authorities(let roots) = trust { configuration.trustRoots = .certificates(roots) }
            handler = try NIOSSLClientHandler(context: NIOSSLContext(configuration: configuration), serverHostname: serverName)
        case .pinned(let pin):
            // The callback replaces chain verification; the pin stands for the name as well.
            configuration.certificateVerification = .noHostnameVerification
            handler = try NIOSSLClientHandler(
                context: NIOSSLContext(configuration: configuration),
                serverHostname: serverName,
                customVerificationCallback: { certificates, promise in
                    promise.succeed(verify(certificates, pin: pin, host: host, refusal: refusal))
                }
            )
        }
        let pipeline = channel.pipeline.syncOperations
        try pipeline.addHandler(handler, position: .first)
        try pipeline.addHandler(TLSFailureRecorder(host: host, refusal: refusal), position: .after(handler))
    }

    private static func verify(
        _ certificates: [NIOSSLCertificate], pin: CertificateFingerprint, host: String, refusal: TLSRefusal
    ) -> NIOSSLVerificationResult {
        guard let leaf = certificates.first, let der = try? leaf.toDERBytes() else {
            refusal.record(.certificateRefused(host: host, reason: "the server presented no certificate"))
            return .failed
        }
        let presented = CertificateFingerprint(certificateDER: der)
        guard presented == pin else {
            refusal.record(.certificateRefused(
                host: host, reason: "its SHA-256 fingerprint \(presented) is not the pinned \(pin)"))
            return .failed
        }
        return .certificateVerified
    }

    /// A TLS failure as the error `connect` reports.
    static func describe(_ error: any Error, host: String) -> CLASPClientError {
        switch error {
        case let error as NIOSSLExtraError where error == .failedToValidateHostname:
            return .certificateRefused(host: host, reason: "it is not valid for the name \(host)")
        case NIOSSLError.handshakeFailed(let cause) where "\(cause)".contains("CERTIFICATE_VERIFY_FAILED"):
            return .certificateRefused(
                host: host,
                reason: "it is not signed by a trusted authority (self-signed or unknown issuer); pin its SHA-256 fingerprint to accept it")
        case NIOSSLError.handshakeFailed(let cause):
            return .tlsFailed(host: host, reason: "\(cause)")
        default:
            return .tlsFailed(host: host, reason: "\(error)")
        }
    }

    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}

/// Right behind NIOSSL's handler: keeps the first TLS error, which the handlers further on
/// would only see as the connection closing.
final class TLSFailureRecorder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let host: String
    private let refusal: TLSRefusal

    init(host: String, refusal: TLSRefusal) {
        self.host = host
        self.refusal = refusal
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is NIOSSLError || error is NIOSSLExtraError {
            refusal.record(ClientTLS.describe(error, host: host))
        }
        context.fireErrorCaught(error)
    }
}

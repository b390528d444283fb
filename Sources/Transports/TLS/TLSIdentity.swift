public import NIOSSL

/// What a TLS listener presents: its certificate chain (leaf first) and the leaf's private key.
public struct TLSIdentity: Sendable {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public let certificateChain: [NIOSSLCertificate]
    public let privateKey: NIOSSLPrivateKey
    /// SHA-256 of the leaf certificate.
    public let fingerprint: CertificateFingerprint

    /// Parses PEM text: one or more certificates (leaf first) and a private key (PKCS#8, SEC1
    /// or PKCS#1). The key must belong to the leaf certificate.
    public init(certificatePEM: String, privateKeyPEM: String) throws(Failure) {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8))
        } catch {
            throw Failure(description: "the certificate is not valid PEM (\(error))")
        }
        guard let leaf = chain.first else { throw Failure(description: "no certificate in the PEM text") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: Array(privateKeyPEM.utf8), format: .pem)
        } catch {
            throw Failure(description: "the private key is not a valid unencrypted PEM key (\(error))")
        }
        let der: [UInt8]
        do {
            der = try leaf.toDERBytes()
        } catch {
            throw Failure(description: "the certificate cannot be encoded (\(error))")
        }
        self.certificateChain = chain
        self.privateKey = key
        self.fingerprint = CertificateFingerprint(certificateDER: der)
        // BoringSSL checks that the key matches the certificate when the context is made.
        _ = try makeServerContext()
    }

    /// A server context presenting this identity (TLS 1.2 and 1.3, no client certificates).
    public func makeServerContext() throws(Failure) -> NIOSSLContext {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: certificateChain.map { .certificate($0) },
            privateKey: .privateKey(privateKey)
        )
        // NIOSSL's server default still admits TLS 1.0 and 1.1.
        configuration.minimumTLSVersion = .tlsv12
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw Failure(description: "the private key does not belong to the certificate (\(error))")
        }
    }
}

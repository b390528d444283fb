import Crypto
import SwiftASN1
import X509

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A self-signed server certificate with a fresh P-256 key, for a gateway that has been given
/// none: clients either pin its fingerprint or are told to trust it.
public enum SelfSignedCertificate {
    /// PEM text of the certificate and of its private key (PKCS#8).
    public struct PEM: Sendable {
        public var certificate: String
        public var privateKey: String
    }

    /// Valid from an hour ago (clocks drift) for `validDays`. The names go into the subject
    /// alternative names: each an IP literal or a DNS name; the first is also the common name.
    public static func generate(names: [String], validDays: Int = 3_650) throws -> PEM {
        let key = P256.Signing.PrivateKey()
        let signingKey = Certificate.PrivateKey(key)
        let commonName = names.first ?? "clasp-gateway"
        let subject = try DistinguishedName {
            CommonName(commonName)
            OrganizationName("clasp-gateway (self-signed)")
        }
        let alternativeNames = SubjectAlternativeNames(names.map(generalName))
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage([.serverAuth])
            alternativeNames
        }
        let now = Date()
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: signingKey.publicKey,
            notValidBefore: now - 3_600,
            notValidAfter: now + Double(validDays) * 86_400,
            issuer: subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions,
            issuerPrivateKey: signingKey
        )
        return PEM(certificate: try certificate.serializeAsPEM().pemString, privateKey: key.pemRepresentation)
    }

    /// An IP literal becomes an iPAddress name (clients match those against IPs, not DNS names).
    private static func generalName(_ name: String) -> GeneralName {
        var v4 = [UInt8](repeating: 0, count: 4)
        if inet_pton(AF_INET, name, &v4) == 1 {
            return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(v4)))
        }
        var v6 = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET6, name, &v6) == 1 {
            return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(v6)))
        }
        return .dnsName(name)
    }
}

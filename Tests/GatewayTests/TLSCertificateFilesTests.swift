import Testing
import Transports

@testable import Gateway

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The TLS identity the gateway serves with: made once in the data directory, then reused.
@Suite struct TLSCertificateFilesTests {
    @Test func aSelfSignedCertificateIsMadeOnceAndReused() throws {
        let directory = try temporaryDirectory()
        let first = try TLSCertificateFiles.load(TLSSettings(), dataDirectory: directory, bind: "0.0.0.0")
        #expect(first.origin.hasSuffix("(self-signed, made now)"))
        var info = stat()
        #expect(stat(directory + "/tls/key.pem", &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600, "the key is readable by its owner only")
        #expect(stat(directory + "/tls/cert.pem", &info) == 0)

        let second = try TLSCertificateFiles.load(TLSSettings(), dataDirectory: directory, bind: "0.0.0.0")
        #expect(second.origin == directory + "/tls/cert.pem")
        #expect(second.identity.fingerprint == first.identity.fingerprint)
    }

    @Test func configuredFilesAreUsedAsGiven() throws {
        let directory = try temporaryDirectory()
        let pem = try SelfSignedCertificate.generate(names: ["gateway.example"])
        try writeFile(directory + "/c.pem", pem.certificate)
        try writeFile(directory + "/k.pem", pem.privateKey)
        var settings = TLSSettings()
        settings.certificatePath = directory + "/c.pem"
        settings.privateKeyPath = directory + "/k.pem"
        let loaded = try TLSCertificateFiles.load(settings, dataDirectory: directory, bind: "0.0.0.0")
        #expect(loaded.origin == directory + "/c.pem")
        var info = stat()
        #expect(stat(directory + "/tls", &info) != 0, "nothing is made when files are configured")
    }

    @Test func badOrHalfIdentitiesAreRefusedClearly() throws {
        let directory = try temporaryDirectory()
        let one = try SelfSignedCertificate.generate(names: ["one"])
        let other = try SelfSignedCertificate.generate(names: ["other"])
        try writeFile(directory + "/c.pem", one.certificate)
        try writeFile(directory + "/k.pem", other.privateKey)
        try writeFile(directory + "/junk.pem", "not pem")
        var settings = TLSSettings()
        settings.certificatePath = directory + "/c.pem"
        settings.privateKeyPath = directory + "/k.pem"
        #expect(failure(settings, directory)?.contains("the private key does not belong to the certificate") == true)
        settings.certificatePath = directory + "/junk.pem"
        #expect(failure(settings, directory)?.contains("the certificate is not valid PEM") == true)
        settings.certificatePath = directory + "/missing.pem"
        #expect(failure(settings, directory)?.contains("cannot read the TLS certificate \(directory)/missing.pem") == true)

        let data = try temporaryDirectory()
        #expect(mkdir(data + "/tls", 0o700) == 0)
        try writeFile(data + "/tls/cert.pem", one.certificate)
        #expect(failure(TLSSettings(), data)?.contains("holds only one of cert.pem and key.pem") == true)
    }

    @Test func theCertificateNamesLoopbackAndASpecificBindAddress() {
        let names = TLSCertificateFiles.certificateNames(bind: "192.0.2.7")
        #expect(Array(names.prefix(3)) == ["localhost", "127.0.0.1", "::1"])
        #expect(names.last == "192.0.2.7")
        #expect(!TLSCertificateFiles.certificateNames(bind: "0.0.0.0").contains("0.0.0.0"))
    }

    private func failure(_ settings: TLSSettings, _ directory: String) -> String? {
        do {
            _ = try TLSCertificateFiles.load(settings, dataDirectory: directory, bind: "0.0.0.0")
            return nil
        } catch {
            return error.description
        }
    }
}

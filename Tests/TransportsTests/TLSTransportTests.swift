import CLASP
import Crypto
import FoundationEssentials
import NIOCore
import NIOPosix
import NIOSSL
import Router
import SwiftASN1
import Testing
import Transports
import X509

/// A router host with all four listeners on 127.0.0.1 (OS-picked ports), the TLS ones
/// presenting a fresh self-signed certificate.
struct FourListenerServer {
    let group: MultiThreadedEventLoopGroup
    let host: RouterHost
    let identity: TLSIdentity
    let ports: [CLASPEndpoint.Scheme: Int]

    func url(_ scheme: CLASPEndpoint.Scheme) -> String {
        "\(scheme.rawValue)://127.0.0.1:\(ports[scheme] ?? 0)"
    }

    static func with(
        identity: TLSIdentity? = nil, _ body: (FourListenerServer) async throws -> Void
    ) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let host = RouterHost(configuration: RouterConfiguration(), eventLoop: group.next(), logger: TestServer.logger)
        let pem = try SelfSignedCertificate.generate(names: ["localhost", "127.0.0.1"])
        let identity = try identity ?? TLSIdentity(certificatePEM: pem.certificate, privateKeyPEM: pem.privateKey)
        var stops: [() async throws -> Void] = []
        var ports: [CLASPEndpoint.Scheme: Int] = [:]
        var failure: (any Error)?
        do {
            for scheme in CLASPEndpoint.Scheme.allCases {
                var listener = ListenerConfiguration(port: 0)
                listener.host = "127.0.0.1"
                listener.tls = scheme.usesTLS ? identity : nil
                if scheme.isWebSocket {
                    var configuration = WebSocketServer.Configuration()
                    configuration.listener = listener
                    let server = try await WebSocketServer.start(configuration: configuration, host: host, group: group, logger: TestServer.logger)
                    ports[scheme] = server.localPort
                    stops.append(server.shutdown)
                } else {
                    var configuration = TCPServer.Configuration()
                    configuration.listener = listener
                    let server = try await TCPServer.start(configuration: configuration, host: host, group: group, logger: TestServer.logger)
                    ports[scheme] = server.localPort
                    stops.append(server.shutdown)
                }
            }
            try await body(FourListenerServer(group: group, host: host, identity: identity, ports: ports))
        } catch {
            failure = error
        }
        for stop in stops { try? await stop() }
        await host.shutdown()
        try? await group.shutdownGracefully()
        if let failure { throw failure }
    }

    func connect(_ scheme: CLASPEndpoint.Scheme, name: String, trust: CertificateTrust? = nil) async throws -> CLASPClient {
        var options = CLASPClient.Options()
        options.trust = trust ?? .pinned(identity.fingerprint)
        return try await CLASPClient.connect(to: url(scheme), name: name, group: group, options: options)
    }

    func connectError(_ url: String, trust: CertificateTrust) async -> CLASPClientError? {
        var options = CLASPClient.Options()
        options.trust = trust
        do {
            let client = try await CLASPClient.connect(to: url, group: group, options: options)
            await client.close()
            return nil
        } catch {
            return error
        }
    }
}

@Suite struct TLSTransportTests {
    @Test func everyTransportSeesTheOthersSets() async throws {
        try await FourListenerServer.with { server in
            var clients: [(CLASPEndpoint.Scheme, CLASPClient, Inbox)] = []
            for scheme in CLASPEndpoint.Scheme.allCases {
                let client = try await server.connect(scheme, name: "client-\(scheme.rawValue)")
                #expect(client.serverName == "clasp-gateway")
                let inbox = Inbox.start(client)
                try await client.send(.subscribe(Subscribe(id: 1, pattern: "/x/**")))
                try await client.send(.ping)
                #expect(await inbox.wait { $0.contains(.pong) }, "\(scheme) subscribed")
                clients.append((scheme, client, inbox))
            }
            for (scheme, client, _) in clients {
                try await client.send(.set(SetMessage(address: "/x/\(scheme.rawValue)", value: .string(scheme.rawValue))))
            }
            for (scheme, client, inbox) in clients {
                let all = await inbox.wait { messages in
                    CLASPEndpoint.Scheme.allCases.allSatisfy { source in
                        messages.contains { message in
                            guard case .set(let set) = message else { return false }
                            return set.address == "/x/\(source.rawValue)" && set.value == .string(source.rawValue)
                        }
                    }
                }
                #expect(all, "\(scheme) saw the SETs of every transport")
                await client.close()
            }
            #expect(await WebSocketSessionTests.waitForConnections(server.host, 0) == 0)
        }
    }

    @Test(arguments: [CLASPEndpoint.Scheme.wss, .tcps])
    func aWrongPinIsRefusedNamingBothFingerprints(scheme: CLASPEndpoint.Scheme) async throws {
        try await FourListenerServer.with { server in
            let wrong = try #require(CertificateFingerprint(String(repeating: "ab", count: 32)))
            let error = await server.connectError(server.url(scheme), trust: .pinned(wrong))
            guard case .certificateRefused(let host, let reason) = error else {
                Issue.record("expected certificateRefused, got \(String(describing: error))")
                return
            }
            #expect(host == "127.0.0.1")
            #expect(reason == "its SHA-256 fingerprint \(server.identity.fingerprint) is not the pinned \(wrong)")
            #expect(await server.host.connectionCount() == 0)
        }
    }

    @Test(arguments: [CLASPEndpoint.Scheme.wss, .tcps])
    func aSelfSignedCertificateIsNotTrustedBySystemTrust(scheme: CLASPEndpoint.Scheme) async throws {
        try await FourListenerServer.with { server in
            let error = await server.connectError(server.url(scheme), trust: .system)
            guard case .certificateRefused(_, let reason) = error else {
                Issue.record("expected certificateRefused, got \(String(describing: error))")
                return
            }
            #expect(reason.contains("not signed by a trusted authority"), "\(reason)")
            #expect(error?.description.hasPrefix("TLS certificate of 127.0.0.1 refused: ") == true)
        }
    }

    @Test(arguments: [CLASPEndpoint.Scheme.wss, .tcps])
    func aCertificateForAnotherNameIsRefusedNamingTheHost(scheme: CLASPEndpoint.Scheme) async throws {
        let authority = try TestAuthority()
        // Signed by a trusted authority, so only the name is wrong.
        try await FourListenerServer.with(identity: try authority.issue(for: .dnsName("gateway.example"))) { server in
            let error = await server.connectError(server.url(scheme), trust: .authorities([authority.certificate]))
            #expect(error == .certificateRefused(host: "127.0.0.1", reason: "it is not valid for the name 127.0.0.1"))
        }
        let loopback = GeneralName.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))
        try await FourListenerServer.with(identity: try authority.issue(for: loopback)) { server in
            let client = try await server.connect(scheme, name: "right-name", trust: .authorities([authority.certificate]))
            await client.close()
        }
    }

    @Test func tlsAgainstAPlainListenerFailsClearly() async throws {
        try await FourListenerServer.with { server in
            let url = "tcps://127.0.0.1:\(server.ports[.tcp] ?? 0)"
            let error = await server.connectError(url, trust: .pinned(server.identity.fingerprint))
            guard case .tlsFailed(let host, _)? = error else {
                Issue.record("expected tlsFailed, got \(String(describing: error))")
                return
            }
            #expect(host == "127.0.0.1")
        }
    }

    @Test func fingerprintsParseAndPrintAsOpenSSLDoes() throws {
        let text = (0..<32).map { index in
            let byte = UInt8(index * 7 % 256)
            return (byte < 0x10 ? "0" : "") + String(byte, radix: 16, uppercase: true)
        }.joined(separator: ":")
        let parsed = try #require(CertificateFingerprint(text))
        #expect(parsed.description == text)
        #expect(CertificateFingerprint(text.lowercased().replacingColons()) == parsed)
        #expect(CertificateFingerprint("ab") == nil)
        #expect(CertificateFingerprint(String(repeating: "zz", count: 32)) == nil)
    }

    @Test func endpointsParse() throws {
        #expect(try CLASPEndpoint(url: "wss://gw.local/desk") == CLASPEndpoint(scheme: .wss, host: "gw.local", port: 7343, path: "/desk"))
        #expect(try CLASPEndpoint(url: "tcps://[::1]:9000") == CLASPEndpoint(scheme: .tcps, host: "::1", port: 9000))
        #expect(try CLASPEndpoint(url: "TCP://10.0.0.2") == CLASPEndpoint(scheme: .tcp, host: "10.0.0.2", port: 7332))
        #expect(try CLASPEndpoint(url: "ws://h:1").description == "ws://h:1/")
        for bad in ["http://h", "h:7330", "tcp://h/path", "ws://:1", "ws://h:0", "ws://h:x", "tcp://[::1"] {
            #expect(throws: CLASPClientError.self, "\(bad)") { try CLASPEndpoint(url: bad) }
        }
    }
}

/// A certificate authority made for one test, issuing server certificates for one name.
struct TestAuthority {
    let key = P256.Signing.PrivateKey()
    let name: DistinguishedName
    let certificate: NIOSSLCertificate

    init() throws {
        name = try DistinguishedName { CommonName("clasp test authority") }
        let signingKey = Certificate.PrivateKey(key)
        let authority = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: signingKey.publicKey,
            notValidBefore: Date() - 3_600, notValidAfter: Date() + 86_400, issuer: name, subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true))
            },
            issuerPrivateKey: signingKey)
        certificate = try NIOSSLCertificate(bytes: Array(authority.serializeAsPEM().pemString.utf8), format: .pem)
    }

    func issue(for subjectName: GeneralName) throws -> TLSIdentity {
        let serverKey = P256.Signing.PrivateKey()
        let leaf = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: Certificate.PrivateKey(serverKey).publicKey,
            notValidBefore: Date() - 3_600, notValidAfter: Date() + 86_400, issuer: name,
            subject: try DistinguishedName { CommonName("server") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([subjectName])
            },
            issuerPrivateKey: Certificate.PrivateKey(key))
        return try TLSIdentity(certificatePEM: leaf.serializeAsPEM().pemString, privateKeyPEM: serverKey.pemRepresentation)
    }
}

extension String {
    fileprivate func replacingColons() -> String { filter { $0 != ":" } }
}

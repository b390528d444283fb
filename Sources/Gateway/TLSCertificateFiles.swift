import Transports

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the TLS listeners' identity comes from: the PEM files named in `[tls]`, or else a
/// self-signed certificate made on first start and kept in `<data dir>/tls/` (`cert.pem`,
/// `key.pem` readable by the owner only) so its fingerprint stays the same across restarts.
enum TLSCertificateFiles {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    struct Loaded {
        var identity: TLSIdentity
        /// Where it came from, for the log.
        var origin: String
    }

    static func load(_ settings: TLSSettings, dataDirectory: String, bind: String) throws(Failure) -> Loaded {
        if let certificatePath = settings.certificatePath, let keyPath = settings.privateKeyPath {
            return Loaded(identity: try identity(certificatePath: certificatePath, keyPath: keyPath), origin: certificatePath)
        }
        let directory = dataDirectory + "/tls"
        let certificatePath = directory + "/cert.pem"
        let keyPath = directory + "/key.pem"
        switch (exists(certificatePath), exists(keyPath)) {
        case (true, true):
            return Loaded(identity: try identity(certificatePath: certificatePath, keyPath: keyPath), origin: certificatePath)
        case (false, false):
            break
        case (true, false), (false, true):
            // Never replace half of an identity an operator may have put there.
            throw Failure(description: "\(directory) holds only one of cert.pem and key.pem; add the other or remove both to have a new certificate made")
        }
        let pem: SelfSignedCertificate.PEM
        do {
            pem = try SelfSignedCertificate.generate(names: certificateNames(bind: bind))
        } catch {
            throw Failure(description: "cannot make a self-signed certificate: \(error)")
        }
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw Failure(description: "cannot create \(directory): \(SystemError.text(errno))")
        }
        // The key first: a certificate without its key would block the next start.
        try write(pem.privateKey, to: keyPath, mode: 0o600)
        try write(pem.certificate, to: certificatePath, mode: 0o644)
        return Loaded(
            identity: try identity(certificatePath: certificatePath, keyPath: keyPath),
            origin: "\(certificatePath) (self-signed, made now)")
    }

    /// The names a client may reach this gateway by: loopback, this host's name, and the bind
    /// address when it is a specific one.
    static func certificateNames(bind: String) -> [String] {
        var names = ["localhost", "127.0.0.1", "::1"]
        var buffer = [CChar](repeating: 0, count: 256)
        if gethostname(&buffer, buffer.count - 1) == 0 {
            let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if !name.isEmpty, Validate.bindHost(name) { names.append(name) }
        }
        if bind != "0.0.0.0", bind != "::" { names.append(bind) }
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }

    private static func identity(certificatePath: String, keyPath: String) throws(Failure) -> TLSIdentity {
        let certificate = try read(certificatePath, what: "certificate")
        let key = try read(keyPath, what: "private key")
        do {
            return try TLSIdentity(certificatePEM: certificate, privateKeyPEM: key)
        } catch {
            throw Failure(description: "\(certificatePath) and \(keyPath): \(error)")
        }
    }

    private static func read(_ path: String, what: String) throws(Failure) -> String {
        switch FileText.read(path) {
        case .success(let text): return text
        case .failure(let reason): throw Failure(description: "cannot read the TLS \(what) \(path): \(reason)")
        }
    }

    private static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Writes `text` to a new file beside `path`, then renames it over `path`, so a crash
    /// never leaves a truncated file.
    private static func write(_ text: String, to path: String, mode: mode_t) throws(Failure) {
        let temporary = path + ".new"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw Failure(description: "cannot create \(temporary): \(SystemError.text(errno))") }
        var failure = FileDescriptorIO.writeAll(fd, Array(text.utf8))
        if failure == 0, fsync(fd) != 0 { failure = errno }
        close(fd)
        if failure == 0, rename(temporary, path) != 0 { failure = errno }
        if failure != 0 {
            unlink(temporary)
            throw Failure(description: "cannot write \(path): \(SystemError.text(failure))")
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The data directory: created if missing (with parents), then checked to be a directory the
/// gateway can write to by creating and removing a probe file. Nothing is stored there yet.
enum DataDirectory {
    struct Failure: Error, CustomStringConvertible {
        var path: String
        var reason: String
        var description: String { "data directory \(path): \(reason)" }
    }

    /// Returns the absolute path of the ready directory and whether it was just created.
    static func prepare(_ path: String) throws(Failure) -> (path: String, created: Bool) {
        guard !path.isEmpty else { throw Failure(path: path, reason: "empty path") }
        var created = false
        var info = stat()
        if stat(path, &info) != 0 {
            guard errno == ENOENT else { throw Failure(path: path, reason: SystemError.text(errno)) }
            try makeDirectories(path)
            created = true
            guard stat(path, &info) == 0 else { throw Failure(path: path, reason: SystemError.text(errno)) }
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { throw Failure(path: path, reason: "exists and is not a directory") }

        let probe = path + "/.clasp-gateway-write-test-\(getpid())"
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure(path: path, reason: "not writable: \(SystemError.text(errno))") }
        close(fd)
        unlink(probe)

        var absolute = path
        if let resolved = realpath(path, nil) {
            absolute = String(cString: resolved)
            free(resolved)
        }
        return (absolute, created)
    }

    /// `mkdir -p`.
    private static func makeDirectories(_ path: String) throws(Failure) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw Failure(path: path, reason: "cannot create \(prefix): \(SystemError.text(errno))")
            }
            prefix += "/"
        }
    }
}

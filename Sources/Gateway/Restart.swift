import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A restart asked for on the admin page: after the orderly stop, the process replaces
/// itself with the same binary and arguments (same PID, so systemd sees no exit).
enum Restart {
    static func reexecute(logger: Logger) -> Never {
        let arguments = CommandLine.arguments
        var pointers: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        pointers.append(nil)
        logger.notice("restarting")
        execv("/proc/self/exe", &pointers)
        // Only reached when exec failed: exit non-zero so a supervisor starts us again.
        logger.critical("restart failed: \(SystemError.text(errno)); exiting so the service manager restarts the gateway")
        exit(1)
    }
}

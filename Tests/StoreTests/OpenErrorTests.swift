import CLASP
import Router
import Testing

@testable import Store

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The error `open` throws for `directory`, or nil when it opens.
private func openError(_ directory: String) -> StoreOpenError? {
    do {
        try openStore(directory).store.close()
        return nil
    } catch let error as StoreOpenError {
        return error
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}

/// A closed state file holding enough params to span many pages.
private func writeLargeStore(_ directory: String) throws -> String {
    let params = (0 ..< 2000).map { param("/bulk/\($0)", .string(String(repeating: "v", count: 200))) }
    let (store, _) = try openStore(directory)
    store.write(StoreBatch(sequence: 1, upserts: params))
    store.close()
    return store.path
}

@Suite struct OpenErrorTests {
    @Test func aFileThatIsNotADatabaseIsRefusedAndLeftAsItWas() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/state.sqlite3"
            let garbage = Array("hello, not a database".utf8)
            try writeFile(path, garbage)

            let error = try #require(openError(directory))
            guard case .corrupt(path, _) = error else {
                Issue.record("expected .corrupt, got \(error)")
                return
            }
            let message = error.description
            #expect(message.contains(path))
            #expect(message.contains("in \(directory) run `mv state.sqlite3 state.sqlite3.corrupt-"))
            #expect(message.contains("-wal"))
            #expect(message.contains(".recover | sqlite3 state.sqlite3`"))
            #expect(try readFile(path) == garbage)
            #expect(!fileExists(path + "-wal"))
        }
    }

    @Test func aDatabaseDamagedInItsMiddlePagesIsRefusedAndLeftAsItWas() throws {
        try withTemporaryDirectory { directory in
            let path = try writeLargeStore(directory)
            var bytes = try readFile(path)
            #expect(bytes.count > 100 * 4096)
            let middle = bytes.count / 2 / 4096 * 4096
            try writeFile(path, [UInt8](repeating: 0xA5, count: 3 * 4096), at: middle)
            bytes = try readFile(path)

            let error = try #require(openError(directory))
            guard case .corrupt = error else {
                Issue.record("expected .corrupt, got \(error)")
                return
            }
            #expect(try readFile(path) == bytes)
        }
    }

    @Test func aTruncatedDatabaseIsRefused() throws {
        try withTemporaryDirectory { directory in
            let path = try writeLargeStore(directory)
            let bytes = try readFile(path)
            #expect(truncate(path, off_t(bytes.count / 2)) == 0)

            let error = try #require(openError(directory))
            guard case .corrupt = error else {
                Issue.record("expected .corrupt, got \(error)")
                return
            }
        }
    }

    @Test func aSchemaFromANewerVersionIsRefused() throws {
        try withTemporaryDirectory { directory in
            let (store, _) = try openStore(directory)
            store.close()
            try rawConnection(directory).execute("PRAGMA user_version = 7")

            let error = try #require(openError(directory))
            #expect(error == .newerSchema(path: store.path, found: 7, supported: 2))
            #expect(error.description.contains("schema version 7"))
            #expect(error.description.contains("up to 2"))
        }
    }

    @Test func aDirectoryInPlaceOfTheFileIsReportedAsNotWritable() throws {
        try withTemporaryDirectory { directory in
            #expect(mkdir(directory + "/state.sqlite3", 0o755) == 0)
            let error = try #require(openError(directory))
            guard case .notWritable(directory + "/state.sqlite3", _) = error else {
                Issue.record("expected .notWritable, got \(error)")
                return
            }
            #expect(error.description.contains("--data-dir"))
            #expect(error.description.contains("permissions"))
        }
    }

    @Test func aDataDirectoryThatIsAFileIsReportedAsNotWritable() throws {
        try withTemporaryDirectory { directory in
            let notADirectory = directory + "/plain-file"
            try writeFile(notADirectory, [1])
            let error = try #require(openError(notADirectory))
            guard case .notWritable = error else {
                Issue.record("expected .notWritable, got \(error)")
                return
            }
            #expect(error.description.contains("Not a directory"))
        }
    }

    @Test(.enabled(if: getuid() != 0, "root writes to read-only files and directories: only runs as another user"))
    func filesAndDirectoriesWithoutWritePermissionAreReportedAsNotWritable() throws {
        try withTemporaryDirectory { directory in
            // A new file in a read-only directory.
            #expect(chmod(directory, 0o555) == 0)
            defer { chmod(directory, 0o755) }
            var error = try #require(openError(directory))
            #expect(error == .notWritable(path: directory + "/state.sqlite3", reason: "Permission denied"), "\(error)")

            // An existing file in a read-only directory (the -wal and -shm files cannot be made).
            #expect(chmod(directory, 0o755) == 0)
            try openStore(directory).store.close()
            #expect(chmod(directory, 0o555) == 0)
            error = try #require(openError(directory))
            guard case .notWritable = error else {
                Issue.record("expected .notWritable, got \(error)")
                return
            }

            // A read-only file in a writable directory.
            #expect(chmod(directory, 0o755) == 0)
            #expect(chmod(directory + "/state.sqlite3", 0o444) == 0)
            error = try #require(openError(directory))
            #expect(error == .notWritable(path: directory + "/state.sqlite3", reason: "the file is read-only for this user"))
        }
    }
}

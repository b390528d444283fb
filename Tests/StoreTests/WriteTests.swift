import CLASP
import CSQLite
import Router
import Testing

@testable import Store

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A second connection to the state file, as a backup tool or the sqlite3 shell would open it.
func rawConnection(_ directory: String) throws -> SQLiteDatabase {
    try SQLiteDatabase(path: directory + "/" + SQLiteStateStore.fileName, flags: SQLITE_OPEN_READWRITE)
}

@Suite struct WriteTests {
    @Test func batchesQueuedDuringAWriteGoIntoOneTransaction() throws {
        try withTemporaryDirectory { directory in
            let log = OutcomeLog()
            let (store, _) = try openStore(directory, log: log)
            // Another connection holds the write lock, so the first write waits and the next
            // batches queue up behind it.
            let other = try rawConnection(directory)
            try other.execute("BEGIN IMMEDIATE")
            store.write(StoreBatch(sequence: 1, upserts: [param("/a", .int(1))]))
            usleep(50_000)
            for sequence in UInt64(2) ... 5 {
                store.write(StoreBatch(sequence: sequence, upserts: [param("/s\(sequence)", .int(Int64(sequence)))]))
            }
            try other.execute("COMMIT")
            try log.wait(through: 5)
            store.close()

            let outcomes = log.all
            #expect(outcomes.count <= 2, "\(outcomes)")
            #expect(outcomes.last == .written(through: 5))
            #expect(outcomes.map(\.through) == outcomes.map(\.through).sorted())
            let restored = try openStore(directory).restored
            #expect(restored.params.map(\.address) == ["/a", "/s2", "/s3", "/s4", "/s5"])
        }
    }

    @Test func theLaterBatchWinsForAnAddress() throws {
        let restored = try withTemporaryDirectory { directory in
            try writeAndReopen(directory, [
                StoreBatch(sequence: 1, upserts: [param("/a", .int(1), revision: 1), param("/b", .int(1), revision: 1)]),
                StoreBatch(sequence: 2, upserts: [param("/a", .int(2), revision: 2)], removals: ["/b"]),
                StoreBatch(sequence: 3, upserts: [param("/b", .int(3), revision: 3)]),
                StoreBatch(sequence: 4, upserts: [param("/a", .int(4), revision: 4)]),
                // Expired and set again before the batch was cut: the param exists.
                StoreBatch(sequence: 5, upserts: [param("/c", .int(5), revision: 5)], removals: ["/c"]),
            ])
        }
        #expect(restored.params.map(\.address) == ["/a", "/b", "/c"])
        #expect(restored.params.map(\.value) == [.int(4), .int(3), .int(5)])
        #expect(restored.params.map(\.revision) == [4, 3, 5])
    }

    @Test func mergedBatchesKeepTheLastChangePerAddress() {
        let merged = MergedChanges([
            StoreBatch(sequence: 7, upserts: [param("/a", .int(1)), param("/b", .int(1))]),
            StoreBatch(sequence: 8, upserts: [param("/a", .int(2))], removals: ["/b"],
                       commits: [CommitRecord(client: "c", timestamp: 1, address: "/a", revision: 2)]),
            StoreBatch(sequence: 9, removals: ["/a"], commits: [CommitRecord(client: "d", timestamp: 1, address: "", revision: 0)]),
        ])
        #expect(merged.through == 9)
        #expect(merged.upserts.isEmpty)
        #expect(merged.removals == ["/a", "/b"])
        #expect(merged.commits.map(\.client) == ["c", "d"])
        #expect(merged.clientsWithNewCommits == ["c", "d"])
    }

    @Test func closeWritesEverythingQueuedThenRefusesWrites() throws {
        try withTemporaryDirectory { directory in
            let log = OutcomeLog()
            let (store, _) = try openStore(directory, log: log)
            for sequence in UInt64(1) ... 200 {
                store.write(StoreBatch(sequence: sequence, upserts: [param("/p\(sequence % 50)", .int(Int64(sequence)))]))
            }
            store.close()
            #expect(log.all.last == .written(through: 200))
            #expect(log.all.allSatisfy { if case .written = $0 { true } else { false } })

            store.write(StoreBatch(sequence: 201, upserts: [param("/late", .int(0))]))
            #expect(log.all.last == .failed(through: 201, reason: "the state store is closed"))
            store.close()  // a second close does nothing

            let restored = try openStore(directory).restored
            #expect(restored.params.count == 50)
            #expect(restored.params.first { $0.address == "/p0" }?.value == .int(200))
            #expect(!restored.params.contains { $0.address == "/late" })
        }
    }

    @Test func theFileUsesTheWriteAheadLog() throws {
        try withTemporaryDirectory { directory in
            let (store, _) = try openStore(directory)
            store.close()
            let mode = try rawConnection(directory).prepare("PRAGMA journal_mode")
            #expect(try mode.step())
            #expect(mode.text(at: 0) == "wal")
        }
    }

    @Test func aFailedWriteIsReportedAndTheStoreKeepsWorking() throws {
        try withTemporaryDirectory { directory in
            let log = OutcomeLog()
            let (store, _) = try openStore(directory, log: log, busyTimeout: .milliseconds(100))
            store.write(StoreBatch(sequence: 1, upserts: [param("/before", .int(1))]))
            try log.wait(through: 1)

            // The write lock is held by someone else longer than the store waits.
            let other = try rawConnection(directory)
            try other.execute("BEGIN IMMEDIATE")
            store.write(StoreBatch(sequence: 2, upserts: [param("/lost", .int(2))],
                                   commits: [CommitRecord(client: "c", timestamp: 1, address: "/lost", revision: 1)]))
            try log.wait(through: 2)
            try other.execute("COMMIT")

            store.write(StoreBatch(sequence: 3, upserts: [param("/after", .int(3))]))
            store.close()

            let outcomes = log.all
            #expect(outcomes.count == 3)
            #expect(outcomes.first == .written(through: 1))
            guard case .failed(through: 2, let reason) = outcomes[1] else {
                Issue.record("expected batch 2 to fail, got \(outcomes)")
                return
            }
            #expect(reason.contains("locked"), "\(reason)")
            #expect(outcomes.last == .written(through: 3))

            let restored = try openStore(directory).restored
            #expect(restored.params.map(\.address) == ["/after", "/before"])
            #expect(restored.commits.isEmpty)
        }
    }
}

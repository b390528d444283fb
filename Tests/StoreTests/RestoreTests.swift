import CLASP
import Router
import Testing

@testable import Store

@Suite struct RestoreTests {
    static let values: [Value] = [
        .null, .bool(true), .bool(false),
        .int(0), .int(.min), .int(.max), .int(-1),
        .float(1.5), .float(-0.0), .float(.infinity),
        .float(Double(bitPattern: 0x7FF8_0000_DEAD_BEEF)),  // quiet NaN with a payload
        .float(Double(bitPattern: 0xFFF0_0000_0000_0001)),  // signalling NaN, sign bit set
        .string(""), .string("plain"), .string("é 🎛 \u{0}"),
        .bytes([]), .bytes([0, 1, 254, 255]),
        .array([]), .array([.int(1), .string("x"), .array([.null, .array([.float(0.25)])])]),
        .map([]),
        .map([(key: "k", value: .map([(key: "inner", value: .bytes([7]))])), (key: "k", value: .int(2)),
              (key: "", value: .array([.bool(true)]))]),
    ]

    @Test func everyValueTypeIsRestoredBitForBit() throws {
        let params = Self.values.enumerated().map { param("/value/\($0.offset)", $0.element) }
        let restored = try withTemporaryDirectory { try writeAndReopen($0, [StoreBatch(sequence: 1, upserts: params)]) }
        #expect(restored.params.count == params.count)
        for original in params {
            let found = restored.params.first { $0.address == original.address }
            #expect(found == original, "\(original.address): \(original.value)")
        }
    }

    @Test func everyFieldOfAParamIsRestored() throws {
        let params = [
            StoredParam(address: "/a/none", value: .float(0.5), revision: 42, writer: "0f1e-session",
                        timestamp: 1_764_000_000_123_456),
            StoredParam(address: "/a/never", value: .int(1), revision: .max, writer: "",
                        timestamp: .max, ttl: .never),
            StoredParam(address: "/a/sliding", value: .string("s"), revision: 3, writer: "w",
                        timestamp: 5, ttl: .sliding(seconds: 30), expiresAt: 2_000_000),
            StoredParam(address: "/a/absolute", value: .bool(true), revision: 4, writer: "w",
                        timestamp: 6, ttl: .absolute(seconds: 0x7FFF_FFFF), expiresAt: .max),
        ]
        let restored = try withTemporaryDirectory { try writeAndReopen($0, [StoreBatch(sequence: 1, upserts: params)]) }
        #expect(restored.params == params.sorted { $0.address < $1.address })
        #expect(restored.expiredParamCount == 0)
    }

    @Test func aRemovedParamIsNotRestored() throws {
        let restored = try withTemporaryDirectory { directory in
            try writeAndReopen(directory, [
                StoreBatch(sequence: 1, upserts: [param("/keep", .int(1)), param("/drop", .int(2))]),
                StoreBatch(sequence: 2, removals: ["/drop", "/never-stored"]),
            ])
        }
        #expect(restored.params.map(\.address) == ["/keep"])
    }

    @Test func anExpiredParamIsDroppedAtOpenAndDeletedFromTheFile() throws {
        try withTemporaryDirectory { directory in
            let (store, _) = try openStore(directory, now: 1_000)
            store.write(StoreBatch(sequence: 1, upserts: [
                param("/expires", .int(1), ttl: .sliding(seconds: 1), expiresAt: 2_000),
                param("/stays", .int(2)),
            ]))
            store.close()

            let before = try openStore(directory, now: 1_999)
            before.store.close()
            #expect(before.restored.params.map(\.address) == ["/expires", "/stays"])

            let atExpiry = try openStore(directory, now: 2_000)
            atExpiry.store.close()
            #expect(atExpiry.restored.params.map(\.address) == ["/stays"])
            #expect(atExpiry.restored.expiredParamCount == 1)

            // Deleted, not just skipped: an earlier clock does not bring it back.
            let later = try openStore(directory, now: 1_000)
            later.store.close()
            #expect(later.restored.params.map(\.address) == ["/stays"])
            #expect(later.restored.expiredParamCount == 0)
        }
    }

    @Test func commitIdentitiesAreStoredAndRestored() throws {
        let commits = [
            CommitRecord(client: "desk", timestamp: 10, address: "/a", revision: 1),
            CommitRecord(client: "desk", timestamp: 11, address: "", revision: 0),  // a bundle
            CommitRecord(client: "desk", timestamp: 11, address: "/b", revision: 2),
            CommitRecord(client: "wall", timestamp: 5, address: "/a", revision: 3),
        ]
        let restored = try withTemporaryDirectory { directory in
            try writeAndReopen(directory, [
                StoreBatch(sequence: 1, commits: Array(commits[0 ..< 2])),
                StoreBatch(sequence: 2, commits: Array(commits[2...])),
                // The same identity again replaces the record instead of adding one.
                StoreBatch(sequence: 3, commits: [CommitRecord(client: "wall", timestamp: 5, address: "/a", revision: 3)]),
            ])
        }
        #expect(restored.commits == commits)
    }

    @Test func onlyTheNewest4096CommitIdentitiesPerClientAreKept() throws {
        let limit = SQLiteStateStore.maxCommitsPerClient
        #expect(limit == 4096)
        let restored = try withTemporaryDirectory { directory in
            // Written out of order and over several batches: the oldest timestamps go.
            let busy = (0 ..< limit + 10).reversed().map {
                CommitRecord(client: "busy", timestamp: UInt64($0), address: "/x", revision: UInt64($0))
            }
            let quiet = (0 ..< 5).map { CommitRecord(client: "quiet", timestamp: UInt64($0), address: "/y", revision: 1) }
            return try writeAndReopen(directory, [
                StoreBatch(sequence: 1, commits: Array(busy[..<3000]) + quiet),
                StoreBatch(sequence: 2, commits: Array(busy[3000...])),
            ])
        }
        let busy = restored.commits.filter { $0.client == "busy" }
        #expect(busy.count == limit)
        #expect(busy.first?.timestamp == 10)
        #expect(busy.last?.timestamp == UInt64(limit + 9))
        #expect(restored.commits.filter { $0.client == "quiet" }.count == 5)
    }

    /// What `sqlite3 old .dump | sqlite3 state.sqlite3` makes: the tables, no schema version.
    @Test func aFileWithTheTablesButNoSchemaVersionIsAdopted() throws {
        try withTemporaryDirectory { directory in
            _ = try writeAndReopen(directory, [StoreBatch(sequence: 1, upserts: [param("/kept", .int(1))])])
            try rawConnection(directory).execute("PRAGMA user_version = 0")

            let (store, restored) = try openStore(directory)
            store.close()
            #expect(restored.params.map(\.address) == ["/kept"])
            let version = try rawConnection(directory).prepare("PRAGMA user_version")
            #expect(try version.step())
            #expect(version.int64(at: 0) == 2)
        }
    }

    @Test func aNewDirectoryStartsEmpty() throws {
        try withTemporaryDirectory { directory in
            let (store, restored) = try openStore(directory)
            store.close()
            #expect(restored == RestoredState())
            #expect(store.path == directory + "/state.sqlite3")
            #expect(fileExists(store.path))
        }
    }
}

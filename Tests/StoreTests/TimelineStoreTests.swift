import CLASP
import CSQLite
import Router
import Testing

@testable import Store

private func definition(_ values: [Value], loop: Bool = false, start: UInt64 = 1_800_000_000_000_000) throws -> TimelineDefinition {
    try TimelineDefinition(
        keyframes: values.enumerated().map { Keyframe(time: UInt64($0.offset) * 1000, value: $0.element, easing: .easeInOut) },
        loop: loop, startTime: start)
}

@Suite struct TimelineStoreTests {
    @Test func timelinesAreStoredAndRestored() throws {
        let timelines = [
            StoredTimeline(address: "/a", definition: try definition([.float(0), .float(1)], loop: true)),
            StoredTimeline(address: "/b", definition: try TimelineDefinition(
                keyframes: [
                    Keyframe(time: 0, value: .array([.int(0), .float(0.5)]), easing: .cubicBezier(x1: 0.25, y1: 0.1, x2: 0.25, y2: 1)),
                    Keyframe(time: 500, value: .array([.int(255), .float(1)]), easing: .step),
                    Keyframe(time: 900, value: .array([.int(3), .float(-0.0)])),
                ],
                startTime: 7, duration: 2000)),
            StoredTimeline(address: "/é 🎛", definition: try definition([.string("on")])),
        ]
        let restored = try withTemporaryDirectory { directory in
            try writeAndReopen(directory, [
                StoreBatch(sequence: 1, upserts: [param("/p", .int(1))], timelineUpserts: Array(timelines[..<2])),
                StoreBatch(sequence: 2, timelineUpserts: [timelines[2]]),
            ])
        }
        #expect(restored.timelines == timelines.sorted { $0.address < $1.address })
        #expect(restored.params.map(\.address) == ["/p"])
    }

    @Test func aNewTimelineReplacesTheStoredOneAndARemovalDeletesIt() throws {
        let first = try definition([.float(0), .float(1)])
        let second = try definition([.int(5), .int(9)], loop: true)
        let restored = try withTemporaryDirectory { directory in
            _ = try writeAndReopen(directory, [
                StoreBatch(sequence: 1, timelineUpserts: [
                    StoredTimeline(address: "/replaced", definition: first),
                    StoredTimeline(address: "/stopped", definition: first),
                    StoredTimeline(address: "/kept", definition: first),
                ]),
            ])
            return try writeAndReopen(directory, [
                StoreBatch(sequence: 1, timelineUpserts: [StoredTimeline(address: "/replaced", definition: second)]),
                StoreBatch(sequence: 2, timelineRemovals: ["/stopped", "/never-stored"]),
            ])
        }
        #expect(restored.timelines == [
            StoredTimeline(address: "/kept", definition: first),
            StoredTimeline(address: "/replaced", definition: second),
        ])
    }

    @Test func mergedBatchesKeepTheLastTimelineChangePerAddress() throws {
        let a = StoredTimeline(address: "/a", definition: try definition([.int(1)]))
        let b = StoredTimeline(address: "/b", definition: try definition([.int(2)]))
        let newerA = StoredTimeline(address: "/a", definition: try definition([.int(3)]))
        let merged = MergedChanges([
            StoreBatch(sequence: 1, timelineUpserts: [a, b]),
            StoreBatch(sequence: 2, timelineRemovals: ["/a", "/b"]),
            StoreBatch(sequence: 3, timelineUpserts: [newerA]),
        ])
        #expect(merged.timelineUpserts == ["/a": newerA])
        #expect(merged.timelineRemovals == ["/b"])
    }

    /// A file written by the version before timelines: the table is added in place, the rest
    /// kept.
    @Test func aVersion1FileIsUpgradedInPlace() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/" + SQLiteStateStore.fileName
            do {
                let old = try SQLiteDatabase(path: path, flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
                try old.execute("""
                    PRAGMA journal_mode = WAL;
                    CREATE TABLE params (
                        address TEXT PRIMARY KEY, value BLOB NOT NULL, revision INTEGER NOT NULL,
                        writer TEXT NOT NULL, timestamp INTEGER NOT NULL, ttl INTEGER, expires_at INTEGER);
                    CREATE TABLE commits (
                        client TEXT NOT NULL, timestamp INTEGER NOT NULL, address TEXT NOT NULL,
                        revision INTEGER NOT NULL, PRIMARY KEY (client, timestamp, address));
                    INSERT INTO params VALUES ('/old', x'0101', 3, 'w', 9, NULL, NULL);
                    INSERT INTO commits VALUES ('desk', 10, '/old', 3);
                    PRAGMA user_version = 1;
                    """)
            }

            let (store, restored) = try openStore(directory)
            #expect(restored.params == [StoredParam(address: "/old", value: .bool(true), revision: 3, writer: "w", timestamp: 9)])
            #expect(restored.commits == [CommitRecord(client: "desk", timestamp: 10, address: "/old", revision: 3)])
            #expect(restored.timelines.isEmpty)
            let timeline = StoredTimeline(address: "/t", definition: try definition([.float(0), .float(1)]))
            store.write(StoreBatch(sequence: 1, timelineUpserts: [timeline]))
            store.close()

            let version = try rawConnection(directory).prepare("PRAGMA user_version")
            #expect(try version.step())
            #expect(version.int64(at: 0) == 2)
            let reopened = try openStore(directory).restored
            #expect(reopened.timelines == [timeline])
            #expect(reopened.params.map(\.address) == ["/old"])
        }
    }

    @Test func anUnreadableTimelineRowIsReportedAsDamage() throws {
        try withTemporaryDirectory { directory in
            let (store, _) = try openStore(directory)
            store.close()
            try rawConnection(directory).execute("INSERT INTO timelines VALUES ('/bad', x'0b0001')")
            #expect(throws: StoreOpenError.corrupt(
                path: store.path,
                reason: "timeline /bad: stored definition does not decode: message truncated in encoded value"
            )) { try openStore(directory) }

            // Decodes, but is not a timeline: {"keyframes": []}.
            try rawConnection(directory).execute(
                "UPDATE timelines SET definition = x'0b00010009' || CAST('keyframes' AS BLOB) || x'0a0000'")
            #expect(throws: StoreOpenError.corrupt(
                path: store.path, reason: "timeline /bad: stored definition is refused: keyframes must not be empty"
            )) { try openStore(directory) }
        }
    }
}

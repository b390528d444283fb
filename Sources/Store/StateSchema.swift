/// The file's tables, and the SQL run against them. `PRAGMA user_version` holds the schema
/// version: 1 had `params` and `commits`, 2 added `timelines`.
///
/// Unsigned 64-bit numbers (revisions, µs timestamps) are stored by bit pattern in SQLite's
/// signed integers. `ttl` is the TTL's wire word (0 never, bit 31 absolute, bits 30-0
/// seconds), NULL when no TTL was ever set; `expires_at` is µs since the epoch, NULL: never.
/// A timeline's `definition` is its payload map (`TimelineDefinition.encodedValue`, start
/// included) in the value encoding `params.value` uses.
enum StateSchema {
    static let version = 2

    /// Each table with the version that added it.
    private static let tables: [(since: Int, sql: String)] = [
        (1, """
            CREATE TABLE IF NOT EXISTS params (
                address TEXT PRIMARY KEY,
                value BLOB NOT NULL,
                revision INTEGER NOT NULL,
                writer TEXT NOT NULL,
                timestamp INTEGER NOT NULL,
                ttl INTEGER,
                expires_at INTEGER
            );
            """),
        (1, """
            CREATE TABLE IF NOT EXISTS commits (
                client TEXT NOT NULL,
                timestamp INTEGER NOT NULL,
                address TEXT NOT NULL,
                revision INTEGER NOT NULL,
                PRIMARY KEY (client, timestamp, address)
            );
            """),
        (2, """
            CREATE TABLE IF NOT EXISTS timelines (
                address TEXT PRIMARY KEY,
                definition BLOB NOT NULL
            );
            """),
    ]

    /// Brings a file at schema version `found` to `version` in one transaction, in place:
    /// creates the tables added since (0: a new file, or one rebuilt from a `.dump`, which
    /// may hold some tables already — hence IF NOT EXISTS).
    static func upgrade(from found: Int) -> String {
        let created = tables.filter { $0.since > found }.map(\.sql).joined(separator: "\n")
        return "BEGIN IMMEDIATE;\n\(created)\nPRAGMA user_version = \(version);\nCOMMIT;"
    }

    static let upsertParam = """
        INSERT INTO params (address, value, revision, writer, timestamp, ttl, expires_at)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
        ON CONFLICT (address) DO UPDATE SET
            value = excluded.value, revision = excluded.revision, writer = excluded.writer,
            timestamp = excluded.timestamp, ttl = excluded.ttl, expires_at = excluded.expires_at
        """
    static let deleteParam = "DELETE FROM params WHERE address = ?1"
    /// ?1 is now. A negative stored value is an expiry time of 2^63 µs or later: not reached.
    static let deleteExpiredParams = "DELETE FROM params WHERE expires_at BETWEEN 0 AND ?1"
    static let selectParams = """
        SELECT address, value, revision, writer, timestamp, ttl, expires_at FROM params ORDER BY address
        """

    static let insertCommit = "INSERT OR REPLACE INTO commits (client, timestamp, address, revision) VALUES (?1, ?2, ?3, ?4)"
    /// Keeps a client's newest ?2 records; walks the primary key's index backwards. (A client
    /// timestamp of 2^63 µs or more is stored negative and so counts as the oldest.)
    static let pruneCommits = """
        DELETE FROM commits WHERE rowid IN (
            SELECT rowid FROM commits WHERE client = ?1
            ORDER BY timestamp DESC, address DESC LIMIT -1 OFFSET ?2)
        """
    static let selectCommits = "SELECT client, timestamp, address, revision FROM commits ORDER BY client, timestamp, address"

    static let upsertTimeline = """
        INSERT INTO timelines (address, definition) VALUES (?1, ?2)
        ON CONFLICT (address) DO UPDATE SET definition = excluded.definition
        """
    static let deleteTimeline = "DELETE FROM timelines WHERE address = ?1"
    static let selectTimelines = "SELECT address, definition FROM timelines ORDER BY address"
}

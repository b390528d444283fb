/// The file's tables, and the SQL run against them. `PRAGMA user_version` holds the schema
/// version; a file without one (0) gets the tables created.
///
/// Unsigned 64-bit numbers (revisions, µs timestamps) are stored by bit pattern in SQLite's
/// signed integers. `ttl` is the TTL's wire word (0 never, bit 31 absolute, bits 30-0
/// seconds), NULL when no TTL was ever set; `expires_at` is µs since the epoch, NULL: never.
enum StateSchema {
    static let version = 1

    static let create = """
        BEGIN IMMEDIATE;
        CREATE TABLE IF NOT EXISTS params (
            address TEXT PRIMARY KEY,
            value BLOB NOT NULL,
            revision INTEGER NOT NULL,
            writer TEXT NOT NULL,
            timestamp INTEGER NOT NULL,
            ttl INTEGER,
            expires_at INTEGER
        );
        CREATE TABLE IF NOT EXISTS commits (
            client TEXT NOT NULL,
            timestamp INTEGER NOT NULL,
            address TEXT NOT NULL,
            revision INTEGER NOT NULL,
            PRIMARY KEY (client, timestamp, address)
        );
        PRAGMA user_version = \(version);
        COMMIT;
        """

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
}

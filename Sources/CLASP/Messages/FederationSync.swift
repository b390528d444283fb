/// FEDERATION_SYNC (0x04): router-to-router state exchange.
public struct FederationSync: Sendable, Equatable {
    public enum Operation: UInt8, Sendable, CaseIterable {
        case declareNamespaces = 0x01
        case requestSync = 0x02
        case revisionVector = 0x03
        case syncComplete = 0x04
    }

    public struct RevisionEntry: Sendable, Equatable {
        public var address: String
        public var revision: UInt64
        public init(address: String, revision: UInt64) {
            self.address = address
            self.revision = revision
        }
    }

    public var op: Operation
    public var patterns: [String]
    public var revisions: [RevisionEntry]
    public var sinceRevision: UInt64?
    public var origin: String?

    public init(op: Operation, patterns: [String] = [], revisions: [RevisionEntry] = [], sinceRevision: UInt64? = nil, origin: String? = nil) {
        self.op = op
        self.patterns = patterns
        self.revisions = revisions
        self.sinceRevision = sinceRevision
        self.origin = origin
    }
}

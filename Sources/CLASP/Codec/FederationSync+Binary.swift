// FEDERATION_SYNC (0x04), wire-format §3.4: op u8, u16 + patterns, u16 + (address, u64)
// revisions, flags u8 (0x80 since, 0x40 origin), since u64, origin str.

extension FederationSync: BinaryLayout {
    @usableFromInline static var binaryKind: MessageKind { .federationSync }

    static let sinceBit: UInt8 = 0x80
    static let originBit: UInt8 = 0x40

    @usableFromInline
    func binaryPayloadSize(bundleDepth: Int) throws(CodecError) -> Int {
        try WireSize.count(patterns.count, "FEDERATION_SYNC pattern count")
        try WireSize.count(revisions.count, "FEDERATION_SYNC revision count")
        var size = 7
        for pattern in patterns { size &+= try WireSize.string(pattern, "FEDERATION_SYNC pattern") }
        for entry in revisions { size &+= 8 &+ (try WireSize.string(entry.address, "FEDERATION_SYNC revision address")) }
        if sinceRevision != nil { size &+= 8 }
        if let origin { size &+= try WireSize.string(origin, "FEDERATION_SYNC origin") }
        return size
    }

    @usableFromInline
    func writeBinaryPayload(to w: inout WireWriter) {
        w.u8(Self.binaryKind.rawValue)
        w.u8(op.rawValue)
        w.u16(UInt16(truncatingIfNeeded: patterns.count))
        for pattern in patterns { w.string(pattern) }
        w.u16(UInt16(truncatingIfNeeded: revisions.count))
        for entry in revisions {
            w.string(entry.address)
            w.u64(entry.revision)
        }
        w.u8(flag(sinceRevision != nil, Self.sinceBit) | flag(origin != nil, Self.originBit))
        if let sinceRevision { w.u64(sinceRevision) }
        if let origin { w.string(origin) }
    }

    @usableFromInline
    static func readBinaryBody(from r: inout WireReader, bundleDepth: Int) throws(CodecError) -> FederationSync {
        let code = try r.u8("FEDERATION_SYNC op")
        guard let op = Operation(rawValue: code) else { throw .unknownEnumValue(code, field: "FEDERATION_SYNC op") }
        let patternCount = try r.count("FEDERATION_SYNC pattern count", minimumElementSize: 2)
        var patterns: [String] = []
        patterns.reserveCapacity(patternCount)
        for _ in 0 ..< patternCount { patterns.append(try r.string("FEDERATION_SYNC pattern")) }
        let revisionCount = try r.count("FEDERATION_SYNC revision count", minimumElementSize: 10)
        var revisions: [RevisionEntry] = []
        revisions.reserveCapacity(revisionCount)
        for _ in 0 ..< revisionCount {
            let address = try r.string("FEDERATION_SYNC revision address")
            revisions.append(RevisionEntry(address: address, revision: try r.u64("FEDERATION_SYNC revision")))
        }
        let flags = try r.u8("FEDERATION_SYNC flags")
        let since = flags & sinceBit != 0 ? try r.u64("FEDERATION_SYNC since revision") : nil
        let origin = flags & originBit != 0 ? try r.string("FEDERATION_SYNC origin") : nil
        return FederationSync(op: op, patterns: patterns, revisions: revisions, sinceRevision: since, origin: origin)
    }
}

/// A 16-byte component identifier (E1.31 §5.6): names one sACN source for its whole life.
public struct ComponentID: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// `bytes` must hold exactly 16 bytes; anything else gives nil.
    public init?(_ bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    private init(exactly bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// A random (version 4) UUID.
    public static func random() -> ComponentID {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        return ComponentID(exactly: bytes)
    }

    public var description: String {
        let hex = bytes.map { byte in String(byte >> 4, radix: 16) + String(byte & 0x0F, radix: 16) }
        return [0..<4, 4..<6, 6..<8, 8..<10, 10..<16].map { hex[$0].joined() }.joined(separator: "-")
    }
}

/// Framing-layer option bits (E1.31 §6.2.6).
public struct SACNOptions: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Data meant for visualisers, not for live output.
    public static let preview = SACNOptions(rawValue: 0x80)
    /// The source stops sending this universe.
    public static let streamTerminated = SACNOptions(rawValue: 0x40)
    public static let forceSynchronization = SACNOptions(rawValue: 0x20)
}

/// One E1.31 data packet: a universe's start code and up to 512 slots.
public struct SACNDataPacket: Equatable, Sendable {
    public var cid: ComponentID
    public var sourceName: String
    /// 0–200; 100 is the default.
    public var priority: UInt8
    /// Universe whose sync packet releases this data; 0: apply at once.
    public var syncAddress: UInt16
    public var sequence: UInt8
    public var options: SACNOptions
    /// 1–63999.
    public var universe: UInt16
    public var startCode: UInt8
    public var slots: [UInt8]

    public init(
        cid: ComponentID, sourceName: String, priority: UInt8 = 100, syncAddress: UInt16 = 0, sequence: UInt8,
        options: SACNOptions = [], universe: UInt16, startCode: UInt8 = 0, slots: [UInt8]
    ) {
        self.cid = cid
        self.sourceName = sourceName
        self.priority = priority
        self.syncAddress = syncAddress
        self.sequence = sequence
        self.options = options
        self.universe = universe
        self.startCode = startCode
        self.slots = slots
    }
}

/// Universe synchronization packet (E1.31 §6.3): releases held data for `syncAddress`.
public struct SACNSyncPacket: Equatable, Sendable {
    public var cid: ComponentID
    public var sequence: UInt8
    public var syncAddress: UInt16

    public init(cid: ComponentID, sequence: UInt8, syncAddress: UInt16) {
        self.cid = cid
        self.sequence = sequence
        self.syncAddress = syncAddress
    }
}

/// Universe discovery packet (E1.31 §8): one page of the universes a source sends.
public struct SACNDiscoveryPacket: Equatable, Sendable {
    public var cid: ComponentID
    public var sourceName: String
    public var page: UInt8
    public var lastPage: UInt8
    /// Ascending, at most 512 per page.
    public var universes: [UInt16]

    public init(cid: ComponentID, sourceName: String, page: UInt8, lastPage: UInt8, universes: [UInt16]) {
        self.cid = cid
        self.sourceName = sourceName
        self.page = page
        self.lastPage = lastPage
        self.universes = universes
    }

    /// The pages announcing `universes` (sorted, duplicates removed), 512 to a page.
    public static func pages(cid: ComponentID, sourceName: String, universes: [UInt16]) -> [SACNDiscoveryPacket] {
        let sorted = Array(Set(universes)).sorted()
        let chunks = stride(from: 0, to: max(sorted.count, 1), by: SACN.universesPerDiscoveryPage).map {
            Array(sorted[min($0, sorted.count)..<min($0 + SACN.universesPerDiscoveryPage, sorted.count)])
        }
        return chunks.enumerated().map { index, chunk in
            SACNDiscoveryPacket(
                cid: cid, sourceName: sourceName, page: UInt8(truncatingIfNeeded: index),
                lastPage: UInt8(truncatingIfNeeded: chunks.count - 1), universes: chunk)
        }
    }
}

/// ANSI E1.31-2018 (streaming ACN) constants.
public enum SACN {
    public static let port = 5568
    public static let universes: ClosedRange<UInt16> = 1...63999
    public static let discoveryUniverse: UInt16 = 64214
    public static let priorities: ClosedRange<UInt8> = 0...200
    public static let defaultPriority: UInt8 = 100
    public static let universesPerDiscoveryPage = 512
    /// E131_NETWORK_DATA_LOSS_TIMEOUT.
    public static let sourceTimeout: Duration = .milliseconds(2500)
    /// E131_UNIVERSE_DISCOVERY_INTERVAL.
    public static let discoveryInterval: Duration = .seconds(10)

    /// 239.255.{hi}.{lo}: where a universe (or the discovery universe) is multicast.
    public static func multicastGroup(universe: UInt16) -> String {
        "239.255.\(universe >> 8).\(universe & 0xFF)"
    }

    static let acnPacketIdentifier: [UInt8] = [0x41, 0x53, 0x43, 0x2D, 0x45, 0x31, 0x2E, 0x31, 0x37, 0x00, 0x00, 0x00]
    static let vectorRootData: UInt32 = 0x0000_0004
    static let vectorRootExtended: UInt32 = 0x0000_0008
    static let vectorFramingData: UInt32 = 0x0000_0002
    static let vectorExtendedSync: UInt32 = 0x0000_0001
    static let vectorExtendedDiscovery: UInt32 = 0x0000_0002
    static let vectorDMPSetProperty: UInt8 = 0x02
    static let vectorDiscoveryUniverseList: UInt32 = 0x0000_0001
    static let dmpAddressAndDataType: UInt8 = 0xA1
}

/// Any E1.31 packet, with its byte layout (E1.31-2018 §4–§8).
public enum SACNPacket: Equatable, Sendable {
    case data(SACNDataPacket)
    case sync(SACNSyncPacket)
    case discovery(SACNDiscoveryPacket)

    // MARK: Encoding

    public func encoded() -> [UInt8] {
        switch self {
        case .data(let data): SACNPacket.encode(data)
        case .sync(let sync): SACNPacket.encode(sync)
        case .discovery(let discovery): SACNPacket.encode(discovery)
        }
    }

    private static func rootLayer(vector: UInt32, cid: ComponentID, into writer: inout PacketWriter) {
        writer.uint16BE(0x0010)  // preamble size
        writer.uint16BE(0x0000)  // postamble size
        writer.append(SACN.acnPacketIdentifier)
        writer.uint16BE(0)  // flags & length, patched
        writer.uint32BE(vector)
        writer.append(cid.bytes)
    }

    /// Sets the flags & length field of each PDU starting at `offsets` to reach the packet's end.
    private static func finish(_ writer: inout PacketWriter, pduOffsets offsets: [Int]) -> [UInt8] {
        let total = writer.bytes.count
        for offset in offsets {
            writer.patchUInt16BE(0x7000 | UInt16(total - offset), at: offset)
        }
        return writer.bytes
    }

    private static func encode(_ data: SACNDataPacket) -> [UInt8] {
        let slots = data.slots.prefix(512)
        var writer = PacketWriter(capacity: 126 + slots.count)
        rootLayer(vector: SACN.vectorRootData, cid: data.cid, into: &writer)
        writer.uint16BE(0)  // framing flags & length (offset 38)
        writer.uint32BE(SACN.vectorFramingData)
        writer.text(data.sourceName, count: 64)
        writer.byte(data.priority)
        writer.uint16BE(data.syncAddress)
        writer.byte(data.sequence)
        writer.byte(data.options.rawValue)
        writer.uint16BE(data.universe)
        writer.uint16BE(0)  // DMP flags & length (offset 115)
        writer.byte(SACN.vectorDMPSetProperty)
        writer.byte(SACN.dmpAddressAndDataType)
        writer.uint16BE(0x0000)  // first property address
        writer.uint16BE(0x0001)  // address increment
        writer.uint16BE(UInt16(slots.count + 1))  // property value count: start code + slots
        writer.byte(data.startCode)
        writer.append(slots)
        return finish(&writer, pduOffsets: [16, 38, 115])
    }

    private static func encode(_ sync: SACNSyncPacket) -> [UInt8] {
        var writer = PacketWriter(capacity: 49)
        rootLayer(vector: SACN.vectorRootExtended, cid: sync.cid, into: &writer)
        writer.uint16BE(0)
        writer.uint32BE(SACN.vectorExtendedSync)
        writer.byte(sync.sequence)
        writer.uint16BE(sync.syncAddress)
        writer.zeros(2)  // reserved
        return finish(&writer, pduOffsets: [16, 38])
    }

    private static func encode(_ discovery: SACNDiscoveryPacket) -> [UInt8] {
        let universes = discovery.universes.prefix(SACN.universesPerDiscoveryPage)
        var writer = PacketWriter(capacity: 120 + 2 * universes.count)
        rootLayer(vector: SACN.vectorRootExtended, cid: discovery.cid, into: &writer)
        writer.uint16BE(0)
        writer.uint32BE(SACN.vectorExtendedDiscovery)
        writer.text(discovery.sourceName, count: 64)
        writer.zeros(4)  // reserved
        writer.uint16BE(0)  // universe discovery layer flags & length (offset 112)
        writer.uint32BE(SACN.vectorDiscoveryUniverseList)
        writer.byte(discovery.page)
        writer.byte(discovery.lastPage)
        for universe in universes { writer.uint16BE(universe) }
        return finish(&writer, pduOffsets: [16, 38, 112])
    }

    // MARK: Decoding

    /// The packet in `bytes`, or why it is not a valid E1.31 packet.
    public static func decode(_ bytes: [UInt8]) throws(PacketError) -> SACNPacket {
        let reader = PacketReader(bytes)
        guard reader.count >= 38 else { throw PacketError("\(reader.count) bytes is shorter than an E1.31 root layer") }
        guard try reader.uint16BE(0) == 0x0010, try reader.uint16BE(2) == 0x0000 else {
            throw PacketError("preamble/postamble size is not 0x0010/0x0000")
        }
        guard try reader.slice(4, count: 12) == SACN.acnPacketIdentifier else { throw PacketError("no ACN packet identifier") }
        try checkPDU(reader, at: 16, layer: "root")
        guard let cid = ComponentID(try reader.slice(22, count: 16)) else { throw PacketError("bad CID") }
        try checkPDU(reader, at: 38, layer: "framing")
        let rootVector = try reader.uint32BE(18)
        let framingVector = try reader.uint32BE(40)
        switch (rootVector, framingVector) {
        case (SACN.vectorRootData, SACN.vectorFramingData):
            return .data(try decodeData(reader, cid: cid))
        case (SACN.vectorRootExtended, SACN.vectorExtendedSync):
            guard reader.count >= 49 else { throw PacketError("sync packet of \(reader.count) bytes, needs 49") }
            return .sync(SACNSyncPacket(cid: cid, sequence: try reader.byte(44), syncAddress: try reader.uint16BE(45)))
        case (SACN.vectorRootExtended, SACN.vectorExtendedDiscovery):
            return .discovery(try decodeDiscovery(reader, cid: cid))
        default:
            throw PacketError("unknown vectors root 0x\(String(rootVector, radix: 16)) framing 0x\(String(framingVector, radix: 16))")
        }
    }

    /// A PDU's flags must be 0x7 and its length must reach exactly the datagram's end.
    private static func checkPDU(_ reader: PacketReader, at offset: Int, layer: String) throws(PacketError) {
        let field = try reader.uint16BE(offset)
        guard field >> 12 == 0x7 else { throw PacketError("\(layer) layer flags are not 0x7") }
        guard Int(field & 0x0FFF) == reader.count - offset else {
            throw PacketError("\(layer) layer length \(field & 0x0FFF) does not match the \(reader.count - offset) bytes left")
        }
    }

    private static func decodeData(_ reader: PacketReader, cid: ComponentID) throws(PacketError) -> SACNDataPacket {
        guard reader.count >= 126 else { throw PacketError("data packet of \(reader.count) bytes, needs at least 126") }
        let priority = try reader.byte(108)
        guard SACN.priorities.contains(priority) else { throw PacketError("priority \(priority) is above 200") }
        let universe = try reader.uint16BE(113)
        guard SACN.universes.contains(universe) else { throw PacketError("universe \(universe) is outside 1–63999") }
        try checkPDU(reader, at: 115, layer: "DMP")
        guard try reader.byte(117) == SACN.vectorDMPSetProperty, try reader.byte(118) == SACN.dmpAddressAndDataType,
            try reader.uint16BE(119) == 0x0000, try reader.uint16BE(121) == 0x0001
        else { throw PacketError("DMP layer is not a set-property of one byte per slot from address 0") }
        let count = Int(try reader.uint16BE(123))
        guard (1...513).contains(count), count == reader.count - 125 else {
            throw PacketError("property value count \(count) does not match the \(reader.count - 125) values present")
        }
        return SACNDataPacket(
            cid: cid, sourceName: try reader.text(44, count: 64), priority: priority,
            syncAddress: try reader.uint16BE(109), sequence: try reader.byte(111),
            options: SACNOptions(rawValue: try reader.byte(112)), universe: universe,
            startCode: try reader.byte(125), slots: try reader.slice(126, count: count - 1))
    }

    private static func decodeDiscovery(_ reader: PacketReader, cid: ComponentID) throws(PacketError) -> SACNDiscoveryPacket {
        guard reader.count >= 120 else { throw PacketError("discovery packet of \(reader.count) bytes, needs at least 120") }
        try checkPDU(reader, at: 112, layer: "universe discovery")
        guard try reader.uint32BE(114) == SACN.vectorDiscoveryUniverseList else {
            throw PacketError("universe discovery layer vector is not a universe list")
        }
        let listBytes = reader.count - 120
        guard listBytes % 2 == 0, listBytes / 2 <= SACN.universesPerDiscoveryPage else {
            throw PacketError("universe list of \(listBytes) bytes")
        }
        var universes: [UInt16] = []
        for index in 0..<listBytes / 2 { universes.append(try reader.uint16BE(120 + 2 * index)) }
        return SACNDiscoveryPacket(
            cid: cid, sourceName: try reader.text(44, count: 64), page: try reader.byte(118),
            lastPage: try reader.byte(119), universes: universes)
    }
}

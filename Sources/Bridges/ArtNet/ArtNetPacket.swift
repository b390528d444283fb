/// Art-Net 4 constants.
public enum ArtNet {
    public static let port = 6454
    /// Protocol revision 14, the one Art-Net 4 packets carry.
    static let protocolVersion: UInt16 = 14
    static let id: [UInt8] = Array("Art-Net".utf8) + [0]
    static let opPoll: UInt16 = 0x2000
    static let opPollReply: UInt16 = 0x2100
    static let opDMX: UInt16 = 0x5000
    static let opSync: UInt16 = 0x5200
    public static let pollReplySize = 239
    /// 15-bit Port-Address: Net (7 bits), Sub-Net (4 bits), Universe (4 bits).
    public static let portAddresses: ClosedRange<UInt16> = 0...0x7FFF
}

/// ArtDmx: one universe of DMX data.
public struct ArtDMXPacket: Equatable, Sendable {
    /// 1–255 in order, wrapping to 1; 0 means the sender does not sequence.
    public var sequence: UInt8
    public var physical: UInt8
    public var portAddress: UInt16
    public var slots: [UInt8]

    public init(sequence: UInt8, physical: UInt8 = 0, portAddress: UInt16, slots: [UInt8]) {
        self.sequence = sequence
        self.physical = physical
        self.portAddress = portAddress
        self.slots = slots
    }
}

/// ArtPoll: a controller asking every node to describe itself with ArtPollReply.
public struct ArtPollPacket: Equatable, Sendable {
    public var flags: UInt8
    public var diagnosticsPriority: UInt8

    public init(flags: UInt8 = 0, diagnosticsPriority: UInt8 = 0) {
        self.flags = flags
        self.diagnosticsPriority = diagnosticsPriority
    }
}

/// ArtPollReply: a node's description. Up to four ports share the reply's Net and Sub-Net.
public struct ArtPollReplyPacket: Equatable, Sendable {
    public struct Port: Equatable, Sendable {
        /// Art-Net to DMX: the node outputs what it receives for this Port-Address.
        public var outputs: Bool
        /// DMX to Art-Net: the node sends this Port-Address.
        public var inputs: Bool
        /// The low 4 bits of the Port-Address.
        public var universe: UInt8

        public init(outputs: Bool, inputs: Bool, universe: UInt8) {
            self.outputs = outputs
            self.inputs = inputs
            self.universe = universe
        }
    }

    public var ip: [UInt8]
    public var net: UInt8
    public var subNet: UInt8
    public var shortName: String
    public var longName: String
    public var nodeReport: String
    public var ports: [Port]
    public var mac: [UInt8]
    public var bindIndex: UInt8

    public init(
        ip: [UInt8], net: UInt8, subNet: UInt8, shortName: String, longName: String, nodeReport: String,
        ports: [Port], mac: [UInt8] = [0, 0, 0, 0, 0, 0], bindIndex: UInt8 = 1
    ) {
        self.ip = ip
        self.net = net
        self.subNet = subNet
        self.shortName = shortName
        self.longName = longName
        self.nodeReport = nodeReport
        self.ports = ports
        self.mac = mac
        self.bindIndex = bindIndex
    }

    /// The Port-Addresses this node outputs (wants to receive).
    public var outputPortAddresses: [UInt16] {
        ports.filter(\.outputs).map { UInt16(net & 0x7F) << 8 | UInt16(subNet & 0x0F) << 4 | UInt16($0.universe & 0x0F) }
    }

    /// Replies describing `inputs` and `outputs` Port-Addresses: grouped by Net and Sub-Net, four
    /// ports to a reply, each reply with its own bind index.
    public static func replies(
        ip: [UInt8], shortName: String, longName: String, nodeReport: String, inputs: [UInt16], outputs: [UInt16]
    ) -> [ArtPollReplyPacket] {
        let all = Set(inputs).union(outputs).sorted()
        var groups: [(key: UInt16, ports: [Port])] = []
        for address in all {
            let port = Port(outputs: outputs.contains(address), inputs: inputs.contains(address), universe: UInt8(address & 0x0F))
            let key = address >> 4
            if let last = groups.last, last.key == key, last.ports.count < 4 {
                groups[groups.count - 1].ports.append(port)
            } else {
                groups.append((key, [port]))
            }
        }
        if groups.isEmpty { groups = [(0, [])] }
        return groups.enumerated().map { index, group in
            ArtPollReplyPacket(
                ip: ip, net: UInt8(group.key >> 4), subNet: UInt8(group.key & 0x0F), shortName: shortName,
                longName: longName, nodeReport: nodeReport, ports: group.ports,
                bindIndex: UInt8(truncatingIfNeeded: index + 1))
        }
    }
}

/// Any Art-Net packet the bridges use, with its byte layout (Art-Net 4, protocol 14).
public enum ArtNetPacket: Equatable, Sendable {
    case dmx(ArtDMXPacket)
    case poll(ArtPollPacket)
    case pollReply(ArtPollReplyPacket)
    case sync

    // MARK: Encoding

    public func encoded() -> [UInt8] {
        var writer = PacketWriter(capacity: 18 + 512)
        writer.append(ArtNet.id)
        switch self {
        case .dmx(let dmx):
            // Length is even, 2–512: zero slots pad an odd or too short frame.
            var slots = Array(dmx.slots.prefix(512))
            slots += repeatElement(0, count: max(2, slots.count + slots.count % 2) - slots.count)
            writer.uint16LE(ArtNet.opDMX)
            writer.uint16BE(ArtNet.protocolVersion)
            writer.byte(dmx.sequence)
            writer.byte(dmx.physical)
            writer.byte(UInt8(truncatingIfNeeded: dmx.portAddress))  // SubUni
            writer.byte(UInt8(dmx.portAddress >> 8) & 0x7F)  // Net
            writer.uint16BE(UInt16(slots.count))
            writer.append(slots)
        case .poll(let poll):
            writer.uint16LE(ArtNet.opPoll)
            writer.uint16BE(ArtNet.protocolVersion)
            writer.byte(poll.flags)
            writer.byte(poll.diagnosticsPriority)
        case .pollReply(let reply):
            ArtNetPacket.encode(reply, into: &writer)
        case .sync:
            writer.uint16LE(ArtNet.opSync)
            writer.uint16BE(ArtNet.protocolVersion)
            writer.zeros(2)  // Aux1, Aux2
        }
        return writer.bytes
    }

    private static func encode(_ reply: ArtPollReplyPacket, into writer: inout PacketWriter) {
        let ports = reply.ports.prefix(4)
        func perPort(_ value: (ArtPollReplyPacket.Port) -> UInt8) -> [UInt8] {
            ports.map(value) + repeatElement(0, count: 4 - ports.count)
        }
        writer.uint16LE(ArtNet.opPollReply)
        writer.append(reply.ip.prefix(4) + repeatElement(0, count: max(0, 4 - reply.ip.count)))
        writer.uint16LE(UInt16(ArtNet.port))
        writer.uint16BE(1)  // VersInfo: firmware revision
        writer.byte(reply.net & 0x7F)  // NetSwitch
        writer.byte(reply.subNet & 0x0F)  // SubSwitch
        writer.uint16BE(0x00FF)  // Oem: unknown
        writer.byte(0)  // Ubea version
        writer.byte(0xD0)  // Status1: indicators normal, Port-Address set by network
        writer.uint16LE(0x0000)  // EstaMan: none registered
        writer.text(reply.shortName, count: 18)
        writer.text(reply.longName, count: 64)
        writer.text(reply.nodeReport, count: 64)
        writer.uint16BE(UInt16(ports.count))  // NumPorts
        // PortTypes: bit 7 outputs from Art-Net, bit 6 inputs to Art-Net, protocol DMX512.
        writer.append(perPort { ($0.outputs ? 0x80 : 0) | ($0.inputs ? 0x40 : 0) })
        writer.append(perPort { $0.inputs ? 0x80 : 0 })  // GoodInput: data received
        writer.append(perPort { $0.outputs ? 0x80 : 0 })  // GoodOutputA: data transmitted
        writer.append(perPort { $0.universe & 0x0F })  // SwIn
        writer.append(perPort { $0.universe & 0x0F })  // SwOut
        writer.byte(SACN.defaultPriority)  // AcnPriority
        writer.byte(0)  // SwMacro
        writer.byte(0)  // SwRemote
        writer.zeros(3)  // spare
        writer.byte(0x00)  // Style: StNode
        writer.append(reply.mac.prefix(6) + repeatElement(0, count: max(0, 6 - reply.mac.count)))
        writer.append(reply.ip.prefix(4) + repeatElement(0, count: max(0, 4 - reply.ip.count)))  // BindIp
        writer.byte(reply.bindIndex)
        writer.byte(0x08)  // Status2: 15-bit Port-Addresses
        writer.append(perPort { _ in 0xC0 })  // GoodOutputB: RDM disabled, continuous output
        writer.byte(0x00)  // Status3
        writer.zeros(6)  // DefaultRespUID
        writer.zeros(2)  // User
        writer.uint16BE(44)  // RefreshRate, Hz
        writer.byte(0)  // BackgroundQueuePolicy
        writer.zeros(ArtNet.pollReplySize - writer.bytes.count)  // filler
    }

    // MARK: Decoding

    /// The packet in `bytes`, or why it is not one the bridges handle.
    public static func decode(_ bytes: [UInt8]) throws(PacketError) -> ArtNetPacket {
        let reader = PacketReader(bytes)
        guard reader.count >= 12, try reader.slice(0, count: 8) == ArtNet.id else { throw PacketError("no Art-Net header") }
        let opCode = try reader.uint16LE(8)
        switch opCode {
        case ArtNet.opPollReply:
            return .pollReply(try decodePollReply(reader))
        case ArtNet.opDMX, ArtNet.opPoll, ArtNet.opSync:
            let version = try reader.uint16BE(10)
            guard version >= ArtNet.protocolVersion else { throw PacketError("protocol version \(version) is below 14") }
        default:
            throw PacketError("op code 0x\(String(opCode, radix: 16)) is not handled")
        }
        switch opCode {
        case ArtNet.opDMX:
            let length = Int(try reader.uint16BE(16))
            guard (1...512).contains(length) else { throw PacketError("ArtDmx length \(length) is outside 1–512") }
            return .dmx(ArtDMXPacket(
                sequence: try reader.byte(12), physical: try reader.byte(13),
                portAddress: UInt16(try reader.byte(15) & 0x7F) << 8 | UInt16(try reader.byte(14)),
                slots: try reader.slice(18, count: length)))
        case ArtNet.opPoll:
            // Art-Net 3 polls end after the priority byte; later fields are optional.
            return .poll(ArtPollPacket(flags: try reader.byte(12), diagnosticsPriority: try reader.byte(13)))
        default:
            return .sync
        }
    }

    private static func decodePollReply(_ reader: PacketReader) throws(PacketError) -> ArtPollReplyPacket {
        // Older nodes send shorter replies; everything up to Style (byte 200) is required.
        guard reader.count >= 207 else { throw PacketError("ArtPollReply of \(reader.count) bytes, needs at least 207") }
        let count = min(Int(try reader.uint16BE(172)), 4)
        var ports: [ArtPollReplyPacket.Port] = []
        for index in 0..<count {
            let type = try reader.byte(174 + index)
            ports.append(.init(outputs: type & 0x80 != 0, inputs: type & 0x40 != 0, universe: try reader.byte(190 + index) & 0x0F))
        }
        return ArtPollReplyPacket(
            ip: try reader.slice(10, count: 4), net: try reader.byte(18) & 0x7F, subNet: try reader.byte(19) & 0x0F,
            shortName: try reader.text(26, count: 18), longName: try reader.text(44, count: 64),
            nodeReport: try reader.text(108, count: 64), ports: ports, mac: try reader.slice(201, count: 6),
            bindIndex: reader.count > 211 ? try reader.byte(211) : 0)
    }
}

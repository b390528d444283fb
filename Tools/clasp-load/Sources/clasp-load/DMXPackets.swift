/// The lighting packets the bridge probe sends and reads, written here from the published
/// layouts (E1.31-2018 §4–§6, Art-Net 4 ArtDmx, Enttec DMX USB Pro API 1.44) so the gateway's
/// own encoders are not the yardstick of themselves.
enum DMXPackets {
    // MARK: E1.31 (sACN) data packet

    private static let acnIdentifier: [UInt8] = Array("ASC-E1.17".utf8) + [0, 0, 0]

    /// A data packet with start code 0 and all of `slots` (1–512), priority 100, no sync.
    static func sacnData(universe: UInt16, sequence: UInt8, cid: [UInt8], slots: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(126 + slots.count)
        let total = 126 + slots.count
        func uint16(_ value: Int) { bytes += [UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
        func uint32(_ value: Int) { uint16(value >> 16); uint16(value & 0xFFFF) }
        // Root layer: preamble 0x10, postamble 0, identifier, flags+length from byte 16, vector, CID.
        uint16(0x0010)
        uint16(0)
        bytes += acnIdentifier
        uint16(0x7000 | (total - 16))
        uint32(0x04)  // VECTOR_ROOT_E131_DATA
        bytes += cid
        // Framing layer from byte 38.
        uint16(0x7000 | (total - 38))
        uint32(0x02)  // VECTOR_E131_DATA_PACKET
        let name = Array("clasp-load".utf8)
        bytes += name + Array(repeating: 0, count: 64 - name.count)
        bytes.append(100)  // priority
        uint16(0)  // synchronization address
        bytes.append(sequence)
        bytes.append(0)  // options
        uint16(Int(universe))
        // DMP layer from byte 115.
        uint16(0x7000 | (total - 115))
        bytes += [0x02, 0xA1]  // VECTOR_DMP_SET_PROPERTY, address and data type
        uint16(0)  // first property address
        uint16(1)  // address increment
        uint16(slots.count + 1)  // property value count, start code included
        bytes.append(0)  // start code
        bytes += slots
        return bytes
    }

    /// The universe and slots of an E1.31 data packet with start code 0, or nil for anything else.
    static func sacnFrame(_ bytes: [UInt8]) -> (universe: Int, slots: [UInt8])? {
        guard bytes.count >= 126, Array(bytes[4..<16]) == acnIdentifier,
            uint32(bytes, 18) == 0x04, uint32(bytes, 40) == 0x02, bytes[117] == 0x02, bytes[125] == 0
        else { return nil }
        let count = uint16(bytes, 123) - 1
        guard count >= 0, 126 + count == bytes.count else { return nil }
        return (uint16(bytes, 113), Array(bytes[126...]))
    }

    // MARK: Art-Net ArtDmx

    private static let artNetID: [UInt8] = Array("Art-Net".utf8) + [0]

    /// ArtDmx (OpDmx 0x5000, protocol 14) for a 15-bit Port-Address; `slots` of even length 2–512.
    static func artDmx(portAddress: UInt16, sequence: UInt8, slots: [UInt8]) -> [UInt8] {
        var bytes = artNetID
        bytes.reserveCapacity(18 + slots.count)
        bytes += [0x00, 0x50]  // OpCode, little-endian
        bytes += [0, 14]  // ProtVer
        bytes += [sequence, 0, UInt8(portAddress & 0xFF), UInt8(portAddress >> 8 & 0x7F)]
        bytes += [UInt8(slots.count >> 8), UInt8(slots.count & 0xFF)]
        bytes += slots
        return bytes
    }

    /// The Port-Address and slots of an ArtDmx, or nil for anything else (ArtPoll, ArtSync …).
    static func artDmxFrame(_ bytes: [UInt8]) -> (universe: Int, slots: [UInt8])? {
        guard bytes.count >= 18, Array(bytes[0..<8]) == artNetID, bytes[8] == 0x00, bytes[9] == 0x50 else { return nil }
        let length = uint16(bytes, 16)
        guard (1...512).contains(length), 18 + length <= bytes.count else { return nil }
        return (Int(bytes[15] & 0x7F) << 8 | Int(bytes[14]), Array(bytes[18..<18 + length]))
    }

    private static func uint16(_ bytes: [UInt8], _ offset: Int) -> Int {
        Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
    }

    private static func uint32(_ bytes: [UInt8], _ offset: Int) -> Int {
        uint16(bytes, offset) << 16 | uint16(bytes, offset + 2)
    }
}

/// Enttec DMX USB Pro messages: 0x7E, label, data length (LSB, MSB), data, 0xE7.
enum USBProMessages {
    static let getParameters: UInt8 = 3
    static let receivedDMX: UInt8 = 5
    static let sendDMX: UInt8 = 6
    static let getSerialNumber: UInt8 = 10

    static func message(label: UInt8, data: [UInt8]) -> [UInt8] {
        [0x7E, label, UInt8(data.count & 0xFF), UInt8(data.count >> 8)] + data + [0xE7]
    }

    /// What a widget answers to get-parameters: firmware 1.44, break 9 × 10.67 µs, MAB 1 × 10.67 µs, 40 frames/s.
    static let parametersReply = message(label: getParameters, data: [0x2C, 0x01, 9, 1, 40])
    /// … and to get-serial-number: 12345678 in BCD, least significant byte first.
    static let serialReply = message(label: getSerialNumber, data: [0x78, 0x56, 0x34, 0x12])
}

/// Splits the widget's input stream into (label, data) messages; bytes outside a message are
/// skipped and counted.
struct USBProDecoder {
    private var buffer: [UInt8] = []
    private(set) var discarded = 0

    mutating func push(_ bytes: [UInt8]) -> [(label: UInt8, data: [UInt8])] {
        buffer += bytes
        var messages: [(label: UInt8, data: [UInt8])] = []
        while !buffer.isEmpty {
            guard buffer[0] == 0x7E else {
                buffer.removeFirst()
                discarded += 1
                continue
            }
            guard buffer.count >= 4 else { break }
            let length = Int(buffer[2]) | Int(buffer[3]) << 8
            guard length <= 600 else {
                buffer.removeFirst()
                discarded += 1
                continue
            }
            guard buffer.count >= 5 + length else { break }
            if buffer[4 + length] == 0xE7 {
                messages.append((buffer[1], Array(buffer[4..<4 + length])))
                buffer.removeFirst(5 + length)
            } else {
                buffer.removeFirst()
                discarded += 1
            }
        }
        return messages
    }
}

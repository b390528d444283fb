@testable import Bridges
import Testing

@Suite("sACN packets (E1.31-2018 layouts)")
struct SACNPacketTests {
    let cid = ComponentID(Array(0x10..<0x20))!

    @Test func aDataPacketHasTheStandardLayout() throws {
        let slots = (0..<512).map { UInt8(truncatingIfNeeded: $0) }
        let packet = SACNDataPacket(
            cid: cid, sourceName: "desk", priority: 150, syncAddress: 7, sequence: 42, options: .preview, universe: 0x1234, slots: slots)
        let bytes = SACNPacket.data(packet).encoded()
        #expect(bytes.count == 638)
        #expect(Array(bytes[0..<4]) == [0x00, 0x10, 0x00, 0x00])
        #expect(Array(bytes[4..<16]) == Array("ASC-E1.17".utf8) + [0, 0, 0])
        #expect(Array(bytes[16..<18]) == [0x72, 0x6E])  // flags 0x7, length 622
        #expect(Array(bytes[18..<22]) == [0, 0, 0, 4])  // VECTOR_ROOT_E131_DATA
        #expect(Array(bytes[22..<38]) == cid.bytes)
        #expect(Array(bytes[38..<40]) == [0x72, 0x58])  // length 600
        #expect(Array(bytes[40..<44]) == [0, 0, 0, 2])  // VECTOR_E131_DATA_PACKET
        #expect(Array(bytes[44..<48]) == Array("desk".utf8) && bytes[48..<108].allSatisfy { $0 == 0 })
        #expect(bytes[108] == 150)
        #expect(Array(bytes[109..<111]) == [0, 7])
        #expect(bytes[111] == 42)
        #expect(bytes[112] == 0x80)
        #expect(Array(bytes[113..<115]) == [0x12, 0x34])
        #expect(Array(bytes[115..<117]) == [0x72, 0x0B])  // length 523
        #expect(Array(bytes[117..<125]) == [0x02, 0xA1, 0x00, 0x00, 0x00, 0x01, 0x02, 0x01])
        #expect(bytes[125] == 0)  // start code
        #expect(Array(bytes[126...]) == slots)
        #expect(try SACNPacket.decode(bytes) == .data(packet))
    }

    @Test func aShortUniverseCarriesOnlyItsSlots() throws {
        let packet = SACNDataPacket(cid: cid, sourceName: "x", sequence: 0, universe: 1, slots: [255, 0, 128])
        let bytes = SACNPacket.data(packet).encoded()
        #expect(bytes.count == 129)
        #expect(Array(bytes[123..<125]) == [0x00, 0x04])
        #expect(try SACNPacket.decode(bytes) == .data(packet))
    }

    @Test func aSyncPacketIs49Bytes() throws {
        let sync = SACNSyncPacket(cid: cid, sequence: 9, syncAddress: 0x0102)
        let bytes = SACNPacket.sync(sync).encoded()
        #expect(bytes.count == 49)
        #expect(Array(bytes[16..<22]) == [0x70, 0x21, 0, 0, 0, 8])  // length 33, VECTOR_ROOT_E131_EXTENDED
        #expect(Array(bytes[38..<49]) == [0x70, 0x0B, 0, 0, 0, 1, 9, 0x01, 0x02, 0, 0])
        #expect(try SACNPacket.decode(bytes) == .sync(sync))
    }

    @Test func discoveryListsUniversesInPagesOf512() throws {
        let universes = (1...600).map { UInt16($0) }.reversed()
        let pages = SACNDiscoveryPacket.pages(cid: cid, sourceName: "gw", universes: Array(universes))
        #expect(pages.map(\.universes.count) == [512, 88])
        #expect(pages.map(\.page) == [0, 1] && pages.allSatisfy { $0.lastPage == 1 })
        #expect(pages[0].universes.first == 1 && pages[1].universes.last == 600)
        let bytes = SACNPacket.discovery(pages[1]).encoded()
        #expect(bytes.count == 120 + 2 * 88)
        #expect(Array(bytes[40..<44]) == [0, 0, 0, 2])  // VECTOR_E131_EXTENDED_DISCOVERY
        #expect(Array(bytes[114..<120]) == [0, 0, 0, 1, 1, 1])  // universe list, page 1 of last page 1
        #expect(Array(bytes[120..<122]) == [0x02, 0x01])  // universe 513
        #expect(try SACNPacket.decode(bytes) == .discovery(pages[1]))
    }

    @Test func theMulticastGroupComesFromTheUniverse() {
        #expect(SACN.multicastGroup(universe: 1) == "239.255.0.1")
        #expect(SACN.multicastGroup(universe: 63999) == "239.255.249.255")
        #expect(SACN.multicastGroup(universe: SACN.discoveryUniverse) == "239.255.250.214")
    }

    @Test func malformedPacketsAreRejectedWithAReason() {
        let good = SACNPacket.data(SACNDataPacket(cid: cid, sourceName: "x", sequence: 0, universe: 1, slots: [1, 2])).encoded()
        func broken(_ change: (inout [UInt8]) -> Void) -> [UInt8] {
            var bytes = good
            change(&bytes)
            return bytes
        }
        let cases: [[UInt8]] = [
            [],
            Array(good.prefix(37)),
            Array(good.dropLast()),  // lengths no longer match
            good + [0],
            broken { $0[1] = 0x11 },  // preamble
            broken { $0[4] = 0x42 },  // ACN identifier
            broken { $0[16] = 0x60 },  // flags
            broken { $0[21] = 5 },  // root vector
            broken { $0[108] = 201 },  // priority
            broken { $0[113] = 0; $0[114] = 0 },  // universe 0
            broken { $0[113] = 0xFA; $0[114] = 0x00 },  // universe 64000
            broken { $0[118] = 0xA2 },  // address/data type
            broken { $0[124] = 9 },  // value count
        ]
        for bytes in cases {
            #expect(throws: PacketError.self) { try SACNPacket.decode(bytes) }
        }
    }

    @Test func randomBytesNeverCrashTheDecoder() {
        var generator = SystemRandomNumberGenerator()
        let good = SACNPacket.data(SACNDataPacket(cid: cid, sourceName: "x", sequence: 0, universe: 1, slots: Array(repeating: 7, count: 512))).encoded()
        for _ in 0..<2000 {
            var bytes = Array(good.prefix(Int.random(in: 0...good.count, using: &generator)))
            for _ in 0..<Int.random(in: 0...4, using: &generator) where !bytes.isEmpty {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            _ = try? SACNPacket.decode(bytes)
        }
    }

    @Test func sourceNamesAreCutOnACharacterBoundary() throws {
        let name = String(repeating: "é", count: 40)  // 80 bytes of UTF-8
        let bytes = SACNPacket.data(SACNDataPacket(cid: cid, sourceName: name, sequence: 0, universe: 1, slots: [])).encoded()
        guard case .data(let decoded) = try SACNPacket.decode(bytes) else { Issue.record("not data"); return }
        #expect(decoded.sourceName == String(repeating: "é", count: 31))
        #expect(bytes[107] == 0)
    }
}

@testable import Bridges
import Testing

@Suite("Art-Net packets (Art-Net 4 layouts)")
struct ArtNetPacketTests {
    @Test func artDmxHasTheStandardLayoutWith15BitPortAddresses() throws {
        let slots = (0..<512).map { UInt8(truncatingIfNeeded: $0 * 3) }
        let dmx = ArtDMXPacket(sequence: 17, physical: 2, portAddress: 0x7ABC & 0x7FFF, slots: slots)
        let bytes = ArtNetPacket.dmx(dmx).encoded()
        #expect(bytes.count == 530)
        #expect(Array(bytes[0..<8]) == Array("Art-Net".utf8) + [0])
        #expect(Array(bytes[8..<12]) == [0x00, 0x50, 0x00, 14])  // OpDmx little-endian, protocol 14
        #expect(Array(bytes[12..<18]) == [17, 2, 0xBC, 0x7A, 0x02, 0x00])  // SubUni, Net, length 512 big-endian
        #expect(try ArtNetPacket.decode(bytes) == .dmx(dmx))
    }

    @Test func anOddLengthIsPaddedToEven() {
        let bytes = ArtNetPacket.dmx(ArtDMXPacket(sequence: 1, portAddress: 1, slots: [9, 8, 7])).encoded()
        #expect(Array(bytes[16..<22]) == [0, 4, 9, 8, 7, 0])
        #expect(ArtNetPacket.dmx(ArtDMXPacket(sequence: 1, portAddress: 1, slots: [])).encoded().count == 20)
    }

    @Test func pollAndSyncLayouts() throws {
        #expect(ArtNetPacket.poll(ArtPollPacket(flags: 2)).encoded() == Array("Art-Net".utf8) + [0, 0x00, 0x20, 0, 14, 2, 0])
        #expect(ArtNetPacket.sync.encoded() == Array("Art-Net".utf8) + [0, 0x00, 0x52, 0, 14, 0, 0])
        #expect(try ArtNetPacket.decode(ArtNetPacket.sync.encoded()) == .sync)
        // An Art-Net 4 poll with the targeted-mode fields decodes the same.
        let long = ArtNetPacket.poll(ArtPollPacket(flags: 6, diagnosticsPriority: 0x10)).encoded() + [0, 0, 0x7F, 0xFF, 0, 0, 0, 0]
        #expect(try ArtNetPacket.decode(long) == .poll(ArtPollPacket(flags: 6, diagnosticsPriority: 0x10)))
    }

    @Test func artPollReplyIs239BytesWithPortsAtTheirOffsets() throws {
        let replies = ArtPollReplyPacket.replies(
            ip: [10, 0, 0, 5], shortName: "gw", longName: "gateway long", nodeReport: "#0001 [0] ok",
            inputs: [0x0123], outputs: [0x0121, 0x0122, 0x0456])
        #expect(replies.count == 2)  // Net/Sub-Net 0x12 and 0x45
        let bytes = ArtNetPacket.pollReply(replies[0]).encoded()
        #expect(bytes.count == ArtNet.pollReplySize)
        #expect(Array(bytes[8..<16]) == [0x00, 0x21, 10, 0, 0, 5, 0x36, 0x19])
        #expect(bytes[18] == 0x01 && bytes[19] == 0x02)  // NetSwitch, SubSwitch
        #expect(Array(bytes[26..<29]) == Array("gw".utf8) + [0])
        #expect(Array(bytes[44..<56]) == Array("gateway long".utf8))
        #expect(Array(bytes[172..<174]) == [0, 3])  // NumPorts
        #expect(Array(bytes[174..<178]) == [0x80, 0x80, 0x40, 0])  // PortTypes: output, output, input
        #expect(Array(bytes[190..<194]) == [1, 2, 3, 0])  // SwOut
        #expect(Array(bytes[207..<212]) == [10, 0, 0, 5, 1])  // BindIp, BindIndex 1
        #expect(bytes[212] & 0x08 != 0)  // 15-bit Port-Addresses
        let decoded = try ArtNetPacket.decode(bytes)
        guard case .pollReply(let reply) = decoded else { Issue.record("not a reply"); return }
        #expect(reply.outputPortAddresses == [0x0121, 0x0122])
        #expect(reply.shortName == "gw" && reply.ip == [10, 0, 0, 5])
        #expect(replies[1].bindIndex == 2 && replies[1].outputPortAddresses == [0x0456])
    }

    @Test func malformedPacketsAreRejectedWithAReason() {
        let dmx = ArtNetPacket.dmx(ArtDMXPacket(sequence: 1, portAddress: 1, slots: [1, 2])).encoded()
        var oldVersion = dmx
        oldVersion[11] = 13
        var tooLong = dmx
        tooLong[16] = 2  // 512 + claimed
        var zeroLength = dmx
        zeroLength[17] = 0
        let shortReply = Array(ArtNetPacket.pollReply(ArtPollReplyPacket.replies(
            ip: [1, 2, 3, 4], shortName: "", longName: "", nodeReport: "", inputs: [], outputs: [1])[0]).encoded().prefix(150))
        for bytes in [[], Array("Art-Net".utf8), Array(dmx.prefix(11)), Array(dmx.prefix(19)), oldVersion, tooLong, zeroLength,
                      shortReply, Array("Art-Net".utf8) + [0, 0x00, 0x99, 0, 14]] {
            #expect(throws: PacketError.self) { try ArtNetPacket.decode(bytes) }
        }
    }

    @Test func randomBytesNeverCrashTheDecoder() {
        var generator = SystemRandomNumberGenerator()
        let samples = [
            ArtNetPacket.dmx(ArtDMXPacket(sequence: 1, portAddress: 1, slots: Array(repeating: 1, count: 512))).encoded(),
            ArtNetPacket.pollReply(ArtPollReplyPacket.replies(ip: [1, 2, 3, 4], shortName: "a", longName: "b", nodeReport: "", inputs: [1], outputs: [2])[0]).encoded(),
        ]
        for _ in 0..<2000 {
            let sample = samples[Int.random(in: 0..<samples.count, using: &generator)]
            var bytes = Array(sample.prefix(Int.random(in: 0...sample.count, using: &generator)))
            for _ in 0..<Int.random(in: 0...4, using: &generator) where !bytes.isEmpty {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            _ = try? ArtNetPacket.decode(bytes)
        }
    }
}

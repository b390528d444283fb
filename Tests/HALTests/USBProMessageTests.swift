import HAL
import Testing

@Suite("USB Pro widget protocol")
struct USBProMessageTests {
    @Test func encodesSendDMX() {
        let slots = (1...512).map { UInt8($0 & 0xFF) }
        let bytes = USBProMessage.sendDMX(slots).encoded
        #expect(bytes.count == 4 + 513 + 1)
        #expect(Array(bytes[0..<5]) == [0x7E, 6, 0x01, 0x02, 0x00])  // 513 = 0x0201, start code 0
        #expect(Array(bytes[5..<517]) == slots)
        #expect(bytes.last == 0xE7)
    }

    @Test func shortFramesArePaddedToTheWidgetsMinimum() {
        let message = USBProMessage.sendDMX([255])
        #expect(message.data.count == 25)
        #expect(message.data[0] == 0 && message.data[1] == 255 && message.data[2...].allSatisfy { $0 == 0 })
    }

    @Test func decodesSplitMessagesInOrder() {
        var decoder = USBProDecoder()
        let first = USBProMessage(label: 3, data: [0x2C, 0x01, 9, 1, 40])
        let second = USBProMessage(label: 10, data: [0x78, 0x56, 0x34, 0x12])
        let stream = first.encoded + second.encoded
        var got: [USBProMessage] = []
        for byte in stream { got += decoder.push([byte]) }
        #expect(got == [first, second])
        #expect(decoder.discardedBytes == 0)
        #expect(got[1].serialNumber == "12345678")
        let parameters = USBProParameters(got[0])
        #expect(parameters?.firmware == 0x012C && parameters?.breakTime == 9 && parameters?.markAfterBreakTime == 1 && parameters?.outputRate == 40)
    }

    @Test func resynchronisesAfterGarbage() {
        var decoder = USBProDecoder()
        let good = USBProMessage(label: 5, data: [0, 0, 10, 20])
        // Garbage, a start byte with an impossible length, a message missing its end byte.
        let garbage: [UInt8] = [0x01, 0xE7, 0x7E, 5, 0xFF, 0xFF, 0x7E, 5, 1, 0, 9, 0x00]
        let messages = decoder.push(garbage + good.encoded)
        #expect(messages == [good])
        #expect(decoder.discardedBytes == garbage.count)
        #expect(messages[0].receivedSlots == [10, 20])
    }

    @Test func receivedDMXIsRefusedWhenFlaggedOrNotDMX() {
        #expect(USBProMessage(label: 5, data: [1, 0, 10]).receivedSlots == nil)  // overflow flagged
        #expect(USBProMessage(label: 5, data: [0, 0xCC, 10]).receivedSlots == nil)  // RDM start code
        #expect(USBProMessage(label: 6, data: [0, 0, 10]).receivedSlots == nil)
        #expect(USBProMessage(label: 10, data: [0x7A, 0, 0, 0]).serialNumber == nil)  // not BCD
    }
}

import CLASP
import Testing

@Suite struct ValueBytesTests {
    @Test func aValueIsItsTypeCodeThenItsData() throws {
        #expect(try Value.null.encodedBytes() == [0x00])
        #expect(try Value.bool(true).encodedBytes() == [0x01, 0x01])
        #expect(try Value.int(-2).encodedBytes() == [0x05, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE])
        #expect(try Value.string("hi").encodedBytes() == [0x08, 0x00, 0x02, 0x68, 0x69])
        #expect(try Value.array([.null]).encodedBytes() == [0x0A, 0x00, 0x01, 0x00])
    }

    @Test func decodingReadsWhatEncodingWrote() throws {
        let value = Value.map([(key: "a", value: .array([.float(Double(bitPattern: 0x7FF8_0000_0000_0001)), .bytes([9])])),
                               (key: "a", value: .string("dup"))])
        #expect(try Value(decoding: value.encodedBytes()) == value)
    }

    @Test func narrowWireTypesAreWidened() throws {
        #expect(try Value(decoding: [0x02, 0xFF]) == .int(-1))
        #expect(try Value(decoding: [0x06, 0x3F, 0xC0, 0x00, 0x00]) == .float(1.5))
    }

    @Test func bytesThatAreNotExactlyOneValueAreRefused() {
        #expect(throws: CodecError.trailingBytes(1, field: "encoded value")) { try Value(decoding: [0x00, 0x00]) }
        #expect(throws: CodecError.truncated(field: "encoded value")) { try Value(decoding: []) }
        #expect(throws: CodecError.truncated(field: "encoded value")) { try Value(decoding: [0x05, 0x01]) }
        #expect(throws: CodecError.unknownValueType(0x0C, field: "encoded value")) { try Value(decoding: [0x0C]) }
    }

    @Test func whatTheWireCannotCarryCannotBeEncoded() {
        #expect(throws: CodecError.fieldTooLong(field: "bytes value", length: 70_000)) {
            try Value.bytes([UInt8](repeating: 0, count: 70_000)).encodedBytes()
        }
    }
}

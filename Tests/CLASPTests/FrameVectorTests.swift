import CLASP
import Testing

@Suite("Reference test vectors")
struct FrameVectorTests {
    @Test("vector files are present and complete")
    func vectorFilesLoad() {
        #expect(ValidVector.all.count == 99)
        #expect(InvalidVector.all.count == 58)
        #expect(ValidVector.all.allSatisfy { $0.conversionError == nil })
    }

    @Test("binary vector decodes to its JSON message and re-encodes like the reference", arguments: ValidVector.binary)
    func binaryVectorDecodesAndReencodes(_ vector: ValidVector) throws {
        #expect(vector.conversionError == nil, "JSON message not understood: \(vector.conversionError ?? "")")
        let decoded = try FrameCodec.decode(vector.bytes)
        try checkHeader(decoded, vector)
        #expect(decoded.format == .binary)
        #expect(decoded.message == vector.expected)
        try checkReencode(decoded, vector)
    }

    @Test("legacy MessagePack vector decodes to the reference's binary re-encoding",
          .enabled(if: legacyDecoderAvailable, "LegacyMessagePack.decodeMessage still throws \"not supported yet\""),
          arguments: ValidVector.legacy)
    func legacyVectorDecodes(_ vector: ValidVector) throws {
        let decoded = try FrameCodec.decode(vector.bytes)
        try checkHeader(decoded, vector)
        #expect(decoded.format == .legacyMessagePack)
        let reference = try #require(vector.reencodedBytes)
        let expected = try FrameCodec.decode(reference)
        #expect(decoded.message == expected.message)
        try checkReencode(decoded, vector)
    }

    @Test("legacy MessagePack vectors are routed to the legacy decoder")
    func legacyVectorsReachLegacyDecoder() {
        for vector in ValidVector.legacy {
            switch decodeResult(vector.bytes) {
            case .success(let frame): #expect(frame.format == .legacyMessagePack, "\(vector.name)")
            case .failure(let error):
                // Only the placeholder's refusal is acceptable here.
                #expect(!legacyDecoderAvailable, "\(vector.name): \(error)")
                #expect(error == .legacy("not supported yet"), "\(vector.name): \(error)")
            }
        }
    }

    private func checkHeader(_ decoded: DecodedFrame, _ vector: ValidVector) throws {
        let header = decoded.header
        // QoS 3 is reserved and reads as fire.
        let expectedQoS: QoS = vector.flagsQoS == 3 ? .fire : try #require(QoS(rawValue: UInt8(vector.flagsQoS)))
        #expect(header.qos == expectedQoS)
        #expect(header.timestamp == vector.timestamp)
        #expect(header.encrypted == vector.encrypted)
        #expect(header.compressed == vector.compressed)
        #expect(header.version == vector.version)
        #expect(header.payloadLength == vector.payloadLength)
    }

    private func checkReencode(_ decoded: DecodedFrame, _ vector: ValidVector) throws {
        let reencoded = try decoded.message.encodedFrame(qos: decoded.header.qos, timestamp: decoded.header.timestamp)
        if vector.reencode == "identical" {
            #expect(Hex.encode(reencoded) == Hex.encode(vector.bytes))
        } else if let reference = vector.reencodedBytes {
            #expect(Hex.encode(reencoded) == Hex.encode(reference))
        } else {
            #expect(try FrameCodec.decode(reencoded).message == decoded.message)
        }
    }

    @Test("invalid vector is rejected by the decoder with a sensible error", arguments: InvalidVector.rejectedByDecoder)
    func invalidVectorIsRejected(_ vector: InvalidVector) {
        guard case .failure(let error) = decodeResult(vector.bytes) else {
            Issue.record("\(vector.name) decoded although it is invalid")
            return
        }
        #expect(error.isFrameLevel == (vector.category == "header"), "\(error)")
        switch (vector.category, error) {
        case ("header", _), ("legacy", _): break
        case ("message-type", .unknownMessageType), ("message-type", .unknownEnumValue), ("message-type", .legacy): break
        case ("value", .unknownValueType): break
        case ("utf8", .invalidUTF8): break
        case ("truncation", .truncated): break
        case ("nesting", .nestingTooDeep): break
        default: Issue.record("\(vector.name): unexpected error kind \(error)")
        }
        #expect(!error.description.isEmpty)
    }

    @Test("frames the router (not the decoder) must refuse decode fine", arguments: InvalidVector.rejectedLater)
    func routerLevelVectorDecodes(_ vector: InvalidVector) throws {
        if vector.category == "stream-transport" {
            // A raw TCP unit: the 4-byte length prefix is not a CLASP frame, the frame after it is.
            #expect(decodeResult(vector.bytes).failureValue == .badMagic(0x00))
            _ = try FrameCodec.decode(Array(vector.bytes.dropFirst(4)))
        } else {
            _ = try FrameCodec.decode(vector.bytes)
        }
    }
}

extension Result {
    var failureValue: Failure? {
        if case .failure(let e) = self { return e }
        return nil
    }
}

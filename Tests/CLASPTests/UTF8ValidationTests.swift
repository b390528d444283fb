import CLASP
import Testing

@Suite("UTF-8 validation of strings")
struct UTF8ValidationTests {
    /// A GET frame whose address is `bytes`.
    func getFrame(_ bytes: [UInt8]) -> [UInt8] {
        let payload: [UInt8] = [0x22, UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)] + bytes
        return [0x53, 0x01, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)] + payload
    }

    @Test("ill-formed sequences are refused: overlongs, surrogates, above U+10FFFF, truncated, stray continuations")
    func illFormedSequencesAreRefused() {
        let bad: [[UInt8]] = [[0xC0, 0xAF], [0xC1, 0xBF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
                              [0xF5, 0x80, 0x80, 0x80], [0xF0, 0x9F, 0x8E], [0x80], [0xBF], [0xFF], [0xE2, 0x98],
                              Array("/abcdefghijklmn".utf8) + [0xC3]]
        for bytes in bad {
            #expect(decodeResult(getFrame(bytes)).failureValue == .invalidUTF8(field: "GET address"), "\(Hex.encode(bytes))")
        }
    }

    @Test("the decoder accepts exactly what the standard library's validating initialiser accepts")
    func matchesStandardLibraryValidation() {
        var rng = SeededGenerator(seed: 0x07F8)
        let pieces: [[UInt8]] = [[0x41], [0x2F], [0xC3, 0xA9], [0xE2, 0x98, 0x83], [0xF0, 0x9F, 0x8E, 0xB9], [0x80], [0xC3], [0xED, 0xBF, 0xBF],
                                 [0xEE, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF], [0xE0, 0xA0, 0x80], [0xF0, 0x90, 0x80, 0x80], [0xFE]]
        for _ in 0 ..< 20_000 {
            var bytes: [UInt8] = []
            for _ in 0 ..< Int.random(in: 0 ... 12, using: &rng) {
                bytes += Bool.random(using: &rng) ? (pieces.randomElement(using: &rng) ?? []) : [UInt8.random(in: 0 ... 255, using: &rng)]
            }
            let expected = String(validating: bytes, as: UTF8.self)
            switch decodeResult(getFrame(bytes)) {
            case .success(let frame): #expect(frame.message == .get(Get(address: expected ?? "<invalid>")), "\(Hex.encode(bytes))")
            case .failure(let error): #expect(expected == nil, "\(Hex.encode(bytes)): \(error)")
            }
        }
    }
}

import Crypto
import _CryptoExtras

/// Random tokens, hashes and the password KDF.
enum Secrets {
    /// `count` random bytes from the system generator, as lowercase hex.
    static func randomHex(_ count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return hex((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    static func sha256Hex(_ text: String) -> String {
        hex(Array(SHA256.hash(data: Array(text.utf8))))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        var text = ""
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return text
    }

    static func bytes(hex text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case 0x30...0x39: digit - 0x30
        case 0x61...0x66: digit - 0x61 + 10
        default: nil
        }
    }

    /// Same length and same bytes, in time that does not depend on where they differ.
    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}

/// A password stored as scrypt(password, salt): N = 2^15, r = 8, p = 1 (32 MiB, about 0.1 s
/// per try on one core), 16-byte salt, 32-byte key.
struct PasswordHash: Equatable, Sendable {
    var rounds: Int
    var blockSize: Int
    var parallelism: Int
    var salt: [UInt8]
    var key: [UInt8]

    static let defaultRounds = 1 << 15

    static func make(_ password: String) -> PasswordHash? {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        var hash = PasswordHash(rounds: defaultRounds, blockSize: 8, parallelism: 1, salt: salt, key: [])
        guard let key = hash.derive(password) else { return nil }
        hash.key = key
        return hash
    }

    func matches(_ password: String) -> Bool {
        guard let derived = derive(password) else { return false }
        return Secrets.constantTimeEqual(derived, key)
    }

    private func derive(_ password: String) -> [UInt8]? {
        let bytes = Array(password.utf8)
        guard !bytes.isEmpty, !salt.isEmpty else { return nil }
        guard let key = try? KDF.Scrypt.deriveKey(
            from: bytes, salt: salt, outputByteCount: 32, rounds: rounds, blockSize: blockSize, parallelism: parallelism)
        else { return nil }
        return key.withUnsafeBytes { Array($0) }
    }
}

/// How the bridge probe writes change number k (1, 2, 3 … per universe) into a universe's
/// levels so that a frame seen later tells which changes it already shows.
///
/// - `channel`: change k sets one channel, k−1 mod 512 + 1, to ⌊(k−1) / 512⌋ mod 255 + 1. The
///   level never is 0 (the probe starts from an all-zero universe) and differs from what the
///   same channel had 512 changes before, so a frame shows k iff that channel holds that level.
/// - `whole`: change k is a whole frame of 512 levels, every one different from change k−1's:
///   slots 1–2 carry k (16 bits, big-endian), slot i > 2 is (k + i) mod 256.
///
/// Changes are applied in order (one session's SETs, one source's packets), so a frame that
/// shows change k also shows every change before it.
enum LevelSequence: String, CaseIterable, Sendable {
    case channel, whole

    static let slots = 512

    /// The channel (1–512) and level of change k in `channel` form.
    static func channelChange(_ k: Int) -> (channel: Int, level: UInt8) {
        ((k - 1) % slots + 1, UInt8((k - 1) / slots % 255 + 1))
    }

    /// Change k's frame in `whole` form.
    static func wholeFrame(_ k: Int) -> [UInt8] {
        (0..<slots).map { index in
            switch index {
            case 0: UInt8(k >> 8 & 0xFF)
            case 1: UInt8(k & 0xFF)
            default: UInt8((k + index + 1) & 0xFF)
            }
        }
    }

    /// Whether `frame` (slot 1 first) shows change k.
    func shows(_ k: Int, in frame: [UInt8]) -> Bool {
        switch self {
        case .channel:
            let change = Self.channelChange(k)
            return frame.count >= change.channel && frame[change.channel - 1] == change.level
        case .whole:
            return frame.count >= 2 && frame[0] == UInt8(k >> 8 & 0xFF) && frame[1] == UInt8(k & 0xFF)
        }
    }

    /// Applies change k to `frame` (512 slots), with `extra` more channels changing behind the
    /// sequence channel (`channel` form; at most 255, so a change never touches the channel a
    /// later change in flight will use).
    func apply(_ k: Int, extra: Int, to frame: inout [UInt8]) {
        switch self {
        case .channel:
            let change = Self.channelChange(k)
            frame[change.channel - 1] = change.level
            for offset in stride(from: 1, through: extra, by: 1) {
                frame[(change.channel - 1 - offset + Self.slots) % Self.slots] = UInt8(k & 0xFF)
            }
        case .whole:
            frame = Self.wholeFrame(k)
        }
    }
}

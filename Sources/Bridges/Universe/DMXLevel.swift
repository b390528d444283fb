public import CLASP

/// How a CLASP value becomes a DMX level, the same for every lighting bridge.
///
/// - an integer is the level itself: 0–255 for a channel, 0–65535 for a 16-bit pair;
/// - a float is a fraction of full: 0.0–1.0, scaled to 0–255 (or 0–65535) and rounded;
/// - `true` is full, `false` is 0.
///
/// Anything else is refused, not clamped, so a mistaken writer shows up in the counters and
/// log instead of silently driving a fixture to full: integers or floats out of range, NaN,
/// strings, bytes, null. Levels read from DMX go to CLASP as integers.
public enum DMXLevel {
    /// The 8-bit level for `value`, or why it is refused.
    public static func eightBit(_ value: Value) -> Result<UInt8, DMXMappingError> {
        level(value, full: 255).map { UInt8($0) }
    }

    /// The 16-bit level (coarse byte high, fine byte low) for `value`, or why it is refused.
    public static func sixteenBit(_ value: Value) -> Result<UInt16, DMXMappingError> {
        level(value, full: 65_535).map { UInt16($0) }
    }

    private static func level(_ value: Value, full: Int) -> Result<Int, DMXMappingError> {
        switch value {
        case .int(let number):
            guard number >= 0, number <= full else {
                return .failure(DMXMappingError("integer level \(number) is outside 0–\(full)"))
            }
            return .success(Int(number))
        case .float(let fraction):
            guard fraction >= 0, fraction <= 1 else {
                return .failure(DMXMappingError("float level \(fraction) is outside 0.0–1.0"))
            }
            return .success(Int((fraction * Double(full)).rounded()))
        case .bool(let on):
            return .success(on ? full : 0)
        default:
            return .failure(DMXMappingError("a level must be an integer 0–\(full), a float 0.0–1.0 or a bool, got \(value.typeCode)"))
        }
    }
}

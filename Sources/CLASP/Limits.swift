/// Hard limits of the codec. Inputs beyond them are rejected with a `CodecError`, never
/// allocated or recursed into.
public enum CodecLimits {
    /// Largest payload a frame header can declare (u16).
    public static let maxPayloadLength = 65_535
    /// Header without / with the 8-byte frame timestamp.
    public static let headerLength = 4
    public static let timestampedHeaderLength = 12
    /// Deepest nesting of arrays and maps inside one value. The reference's own encoders
    /// never need more than a handful of levels; 32 leaves room for any real document.
    public static let maxValueDepth = 32
    /// Deepest nesting of BUNDLE inside BUNDLE.
    public static let maxBundleDepth = 4
}

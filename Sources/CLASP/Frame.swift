/// The decoded 4- or 12-byte frame header (wire-format §1.1, §1.2).
public struct FrameHeader: Sendable, Equatable {
    public static let magic: UInt8 = 0x53

    public var qos: QoS
    /// Frame timestamp (flag 0x20), µs.
    public var timestamp: UInt64?
    public var encrypted: Bool
    public var compressed: Bool
    /// Version bits 2-0; informational only, the payload's first byte picks the decoder.
    public var version: UInt8
    public var payloadLength: Int

    public init(qos: QoS = .fire, timestamp: UInt64? = nil, encrypted: Bool = false, compressed: Bool = false, version: UInt8 = 1, payloadLength: Int = 0) {
        self.qos = qos
        self.timestamp = timestamp
        self.encrypted = encrypted
        self.compressed = compressed
        self.version = version
        self.payloadLength = payloadLength
    }

    /// Header bytes (4 or 12).
    public var headerLength: Int { timestamp == nil ? CodecLimits.headerLength : CodecLimits.timestampedHeaderLength }
    /// Header plus payload.
    public var frameLength: Int { headerLength + payloadLength }
}

/// How the payload was encoded.
public enum PayloadFormat: Sendable, Equatable {
    case binary
    /// A MessagePack map with named keys (wire-format §3.21).
    case legacyMessagePack
}

/// A frame as decoded from the wire.
public struct DecodedFrame: Sendable, Equatable {
    public var header: FrameHeader
    public var message: Message
    public var format: PayloadFormat

    public init(header: FrameHeader, message: Message, format: PayloadFormat) {
        self.header = header
        self.message = message
        self.format = format
    }
}

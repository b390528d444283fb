/// One message of the Enttec DMX USB Pro widget protocol (Enttec "DMX USB Pro API" 1.44):
/// `0x7E`, label, data length LSB, MSB (0–600), data, `0xE7`.
public struct USBProMessage: Sendable, Equatable {
    public static let start: UInt8 = 0x7E
    public static let end: UInt8 = 0xE7
    public static let maxDataLength = 600

    /// The labels this implementation uses.
    public enum Label {
        /// Request: 2 bytes user-config size (0); reply: firmware LSB, MSB, break time,
        /// mark-after-break time (both in 10.67 µs units), output rate (packets/s).
        public static let getParameters: UInt8 = 3
        /// From the widget: receive status, then the DMX frame from its start code.
        public static let receivedDMX: UInt8 = 5
        /// To the widget: start code and 24–512 slots, sent repeatedly until the next one.
        public static let sendDMX: UInt8 = 6
        /// To the widget: 0 sends every received frame (label 5), 1 only changes (label 9).
        public static let receiveDMXOnChange: UInt8 = 8
        /// Request: no data; reply: 4 bytes serial number, BCD, least significant first.
        public static let getSerialNumber: UInt8 = 10
    }

    public var label: UInt8
    public var data: [UInt8]

    public init(label: UInt8, data: [UInt8] = []) {
        self.label = label
        self.data = data
    }

    /// The bytes on the wire. Data longer than 600 bytes is not representable: callers
    /// build only the messages above, all shorter.
    public var encoded: [UInt8] {
        [Self.start, label, UInt8(data.count & 0xFF), UInt8(data.count >> 8)] + data + [Self.end]
    }

    /// Label 6 for one frame: start code 0, then the slots, padded to the 24 the widget
    /// needs at least and cut at 512.
    public static func sendDMX(_ slots: [UInt8]) -> USBProMessage {
        var data: [UInt8] = [0]
        data += slots.prefix(512)
        if data.count < 25 { data += [UInt8](repeating: 0, count: 25 - data.count) }
        return USBProMessage(label: Label.sendDMX, data: data)
    }
}

/// The widget's reply to "get widget parameters".
public struct USBProParameters: Sendable, Equatable {
    public let firmware: UInt16
    /// Break and mark-after-break in 10.67 µs units, output rate in packets per second.
    public let breakTime: UInt8
    public let markAfterBreakTime: UInt8
    public let outputRate: UInt8

    public init?(_ message: USBProMessage) {
        guard message.label == USBProMessage.Label.getParameters, message.data.count >= 5 else { return nil }
        firmware = UInt16(message.data[1]) << 8 | UInt16(message.data[0])
        breakTime = message.data[2]
        markAfterBreakTime = message.data[3]
        outputRate = message.data[4]
    }

    /// `1.44` style: major byte, minor byte.
    public var firmwareText: String { "\(firmware >> 8).\(firmware & 0xFF)" }
}

extension USBProMessage {
    /// The serial number in a label 10 reply: 4 BCD bytes, least significant first
    /// (`78 56 34 12` is `12345678`); nil for another message or bytes that are not BCD.
    public var serialNumber: String? {
        guard label == Label.getSerialNumber, data.count == 4 else { return nil }
        var text = ""
        for byte in data.reversed() {
            guard byte >> 4 < 10, byte & 0x0F < 10 else { return nil }
            text += "\(byte >> 4)\(byte & 0x0F)"
        }
        return text
    }

    /// The frame in a label 5 message: its slots after start code 0. Nil when the widget
    /// flagged an overrun or overflow, the start code is not 0 (RDM, text), or the message is
    /// another label.
    public var receivedSlots: [UInt8]? {
        guard label == Label.receivedDMX, data.count >= 2, data[0] == 0, data[1] == 0 else { return nil }
        return Array(data[2...].prefix(512))
    }
}

/// Splits the byte stream from a widget into messages. Garbage before a start byte, a
/// length over 600 or a missing end byte are skipped, and parsing resumes at the next
/// `0x7E`, so one damaged message never loses the ones after it.
public struct USBProDecoder: Sendable {
    private var buffer: [UInt8] = []
    /// Bytes thrown away while resynchronising, for the error counters.
    public private(set) var discardedBytes = 0

    public init() {}

    public mutating func push(_ bytes: [UInt8]) -> [USBProMessage] {
        buffer += bytes
        var messages: [USBProMessage] = []
        var index = 0
        while index < buffer.count {
            guard buffer[index] == USBProMessage.start else {
                index += 1
                discardedBytes += 1
                continue
            }
            guard buffer.count - index >= 4 else { break }
            let length = Int(buffer[index + 2]) | Int(buffer[index + 3]) << 8
            guard length <= USBProMessage.maxDataLength else {
                index += 1
                discardedBytes += 1
                continue
            }
            let endIndex = index + 4 + length
            guard endIndex < buffer.count else { break }
            guard buffer[endIndex] == USBProMessage.end else {
                index += 1
                discardedBytes += 1
                continue
            }
            messages.append(USBProMessage(label: buffer[index + 1], data: Array(buffer[(index + 4)..<endIndex])))
            index = endIndex + 1
        }
        buffer.removeFirst(index)
        return messages
    }
}

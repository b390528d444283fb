/// An Enttec DMX USB Pro (or a widget speaking its protocol) on a serial port. On opening
/// it asks the widget for its parameters and serial number, which also proves a widget is
/// there; with `input` it asks for every received frame (label 8, then label 5 messages).
public final class EnttecUSBPro: DMXInterface {
    public let path: String
    public let readsInput: Bool
    /// How long `open` waits for the widget's replies.
    private let replyTimeout: UInt64
    private var port: SerialPort?
    private var decoder = USBProDecoder()
    public private(set) var parameters: USBProParameters?
    public private(set) var serialNumber: String?

    public init(path: String, input: Bool, replyTimeoutNanoseconds: UInt64 = 1_000_000_000) {
        self.path = path
        readsInput = input
        replyTimeout = replyTimeoutNanoseconds
    }

    public var description: String {
        var text = "Enttec USB Pro on \(path)"
        if let serialNumber, let parameters { text += " (serial \(serialNumber), firmware \(parameters.firmwareText))" }
        return text
    }

    /// Bytes skipped while resynchronising on the widget's stream.
    public var discardedBytes: Int { decoder.discardedBytes }

    public func open() throws(DMXDeviceError) {
        close()
        let port: SerialPort
        do throws(SerialError) {
            // The widget's USB serial ignores the rate; 115200 8N1 is what its docs use.
            port = try SerialPort(path: path, settings: SerialSettings(baudRate: 115_200))
            self.port = port
            decoder = USBProDecoder()
            try askIdentity(port)
        } catch {
            close()
            throw DMXDeviceError(error)
        }
        guard parameters != nil, serialNumber != nil else {
            close()
            throw DMXDeviceError("no USB Pro widget answered on \(path) (no reply to get-parameters/serial number within \(replyTimeout / 1_000_000) ms)", unplugged: false)
        }
        guard readsInput else { return }
        do throws(SerialError) {
            try port.write(USBProMessage(label: USBProMessage.Label.receiveDMXOnChange, data: [0]).encoded, until: MonotonicClock.now() + replyTimeout)
        } catch {
            close()
            throw DMXDeviceError(error)
        }
    }

    /// Asks for parameters and serial number and waits for both replies (or the timeout).
    private func askIdentity(_ port: SerialPort) throws(SerialError) {
        let deadline = MonotonicClock.now() + replyTimeout
        try port.write(USBProMessage(label: USBProMessage.Label.getParameters, data: [0, 0]).encoded, until: deadline)
        try port.write(USBProMessage(label: USBProMessage.Label.getSerialNumber).encoded, until: deadline)
        while parameters == nil || serialNumber == nil {
            let bytes = try port.read(until: deadline)
            if bytes.isEmpty { return }
            for message in decoder.push(bytes) {
                if let reply = USBProParameters(message) { parameters = reply }
                if let serial = message.serialNumber { serialNumber = serial }
            }
        }
    }

    public func close() {
        port?.close()
        port = nil
        parameters = nil
        serialNumber = nil
    }

    public func send(_ slots: [UInt8]) throws(DMXDeviceError) {
        guard let port else { throw DMXDeviceError("\(path) is not open", unplugged: true) }
        do throws(SerialError) {
            // 100 ms: a frame is 518 bytes, far less than a healthy port takes in that time.
            try port.write(USBProMessage.sendDMX(slots).encoded, until: MonotonicClock.now() + 100_000_000)
        } catch {
            throw DMXDeviceError(error)
        }
    }

    public func receive(until deadline: UInt64) throws(DMXDeviceError) -> [[UInt8]] {
        guard let port else { throw DMXDeviceError("\(path) is not open", unplugged: true) }
        var frames: [[UInt8]] = []
        do throws(SerialError) {
            var bytes = try port.read(until: deadline)
            while !bytes.isEmpty {
                frames += decoder.push(bytes).compactMap(\.receivedSlots)
                // Drain what else is queued, without waiting.
                bytes = try port.read(until: 0)
            }
        } catch {
            throw DMXDeviceError(error)
        }
        return frames
    }
}

import CFTDI

/// An Enttec Open DMX (or any FTDI FT232R wired to an RS-485 driver) through libftdi1: the
/// host times every frame itself at 250 kbaud 8N2, with a break of at least 88 µs and a
/// mark-after-break of at least 8 µs before it. Output only: the adapter has no receiver.
public final class OpenDMX: DMXInterface {
    /// FTDI's FT232R, which Open DMX adapters use.
    public static let defaultVendorID: UInt16 = 0x0403
    public static let defaultProductID: UInt16 = 0x6001
    /// Longer than DMX512's minimums (88 µs, 8 µs); USB latency only lengthens them.
    static let breakNanoseconds: UInt64 = 110_000
    static let markAfterBreakNanoseconds: UInt64 = 16_000
    /// One slot on the wire: 11 bits (start, 8 data, 2 stop) at 250 kbaud.
    static let slotNanoseconds: UInt64 = 44_000
    /// The highest refresh rate that leaves room for break, mark-after-break, 513 slots
    /// (22.6 ms) and the USB transfers around them.
    public static let maxRefreshRate = 40.0

    public let vendorID: UInt16
    public let productID: UInt16
    public let serial: String?
    public let readsInput = false
    private var context: UnsafeMutablePointer<ftdi_context>?

    public init(vendorID: UInt16 = defaultVendorID, productID: UInt16 = defaultProductID, serial: String? = nil) {
        self.vendorID = vendorID
        self.productID = productID
        self.serial = serial
    }

    deinit {
        close()
    }

    public var description: String {
        let id = "\(Self.hex(vendorID)):\(Self.hex(productID))"
        return "Open DMX (FTDI \(id)\(serial.map { " serial \($0)" } ?? ""))"
    }

    public func open() throws(DMXDeviceError) {
        close()
        guard let context = ftdi_new() else { throw DMXDeviceError("libftdi: out of memory", unplugged: false) }
        self.context = context
        let opened: Int32 = if let serial {
            ftdi_usb_open_desc(context, Int32(vendorID), Int32(productID), nil, serial)
        } else {
            ftdi_usb_open_desc(context, Int32(vendorID), Int32(productID), nil, nil)
        }
        guard opened == 0 else {
            let reason = errorText()
            close()
            // -3: no such device; -4/-5/-6: found but could not be opened or claimed.
            throw DMXDeviceError("cannot open \(description): \(reason)", unplugged: opened == -3)
        }
        guard ftdi_set_baudrate(context, 250_000) == 0,
              ftdi_set_line_property(context, BITS_8, STOP_BIT_2, NONE) == 0,
              ftdi_setflowctrl(context, SIO_DISABLE_FLOW_CTRL) == 0,
              ftdi_setrts(context, 0) == 0,
              ftdi_tcioflush(context) == 0 else {
            let reason = errorText()
            close()
            throw DMXDeviceError("cannot set up \(description) for 250 kbaud 8N2: \(reason)", unplugged: false)
        }
    }

    public func close() {
        guard let context else { return }
        ftdi_usb_close(context)
        ftdi_free(context)
        self.context = nil
    }

    public func send(_ slots: [UInt8]) throws(DMXDeviceError) {
        guard let context else { throw DMXDeviceError("\(description) is not open", unplugged: true) }
        let frame: [UInt8] = [0] + slots.prefix(512)
        guard ftdi_set_line_property2(context, BITS_8, STOP_BIT_2, NONE, BREAK_ON) == 0 else { throw unplugged() }
        MonotonicClock.sleep(nanoseconds: Self.breakNanoseconds)
        guard ftdi_set_line_property2(context, BITS_8, STOP_BIT_2, NONE, BREAK_OFF) == 0 else { throw unplugged() }
        MonotonicClock.sleep(nanoseconds: Self.markAfterBreakNanoseconds)
        let started = MonotonicClock.now()
        let written = frame.withUnsafeBufferPointer { ftdi_write_data(context, $0.baseAddress, Int32($0.count)) }
        guard written == frame.count else { throw unplugged() }
        // The write returns once the chip has the bytes, not once they are on the wire: wait
        // for the last slot so the next break cannot cut this frame short.
        MonotonicClock.sleep(until: started + UInt64(frame.count) * Self.slotNanoseconds)
    }

    /// No input: waits until the deadline.
    public func receive(until deadline: UInt64) throws(DMXDeviceError) -> [[UInt8]] {
        MonotonicClock.sleep(until: deadline)
        return []
    }

    /// A failed USB transfer once open means the adapter went away.
    private func unplugged() -> DMXDeviceError {
        DMXDeviceError("\(description) disconnected: \(errorText())", unplugged: true)
    }

    private func errorText() -> String {
        ftdi_get_error_string(context).map { String(cString: $0) } ?? "unknown libftdi error"
    }

    private static func hex(_ value: UInt16) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }
}

import CLibSerialPort

/// A serial port the system knows, with its USB identity when it is a USB device.
public struct SerialPortInfo: Sendable, Equatable {
    public let path: String
    public let description: String
    public let usbVendorID: UInt16?
    public let usbProductID: UInt16?
    public let usbSerial: String?

    public init(path: String, description: String, usbVendorID: UInt16?, usbProductID: UInt16?, usbSerial: String?) {
        self.path = path
        self.description = description
        self.usbVendorID = usbVendorID
        self.usbProductID = usbProductID
        self.usbSerial = usbSerial
    }

    /// Whether this port is the USB device asked for; `nil` criteria match anything.
    public func matches(vendorID: UInt16?, productID: UInt16?, serial: String?) -> Bool {
        (vendorID == nil || vendorID == usbVendorID) && (productID == nil || productID == usbProductID)
            && (serial == nil || serial == usbSerial)
    }

    /// The system's serial ports, through libserialport (which lists them but cannot open
    /// ptys, so `SerialPort` opens them with termios). Empty when listing fails.
    public static func list() -> [SerialPortInfo] {
        var ports: UnsafeMutablePointer<OpaquePointer?>?
        guard sp_list_ports(&ports) == SP_OK, let ports else { return [] }
        defer { sp_free_port_list(ports) }
        var found: [SerialPortInfo] = []
        var index = 0
        while let port = ports[index] {
            index += 1
            guard let name = sp_get_port_name(port) else { continue }
            var vendor: Int32 = 0
            var product: Int32 = 0
            let isUSB = sp_get_port_transport(port) == SP_TRANSPORT_USB
                && sp_get_port_usb_vid_pid(port, &vendor, &product) == SP_OK
            found.append(SerialPortInfo(
                path: String(cString: name),
                description: sp_get_port_description(port).map { String(cString: $0) } ?? "",
                usbVendorID: isUSB ? UInt16(truncatingIfNeeded: vendor) : nil,
                usbProductID: isUSB ? UInt16(truncatingIfNeeded: product) : nil,
                usbSerial: isUSB ? sp_get_port_usb_serial(port).map { String(cString: $0) } : nil))
        }
        return found
    }
}

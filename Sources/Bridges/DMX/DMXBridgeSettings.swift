import HAL

/// A `dmx` bridge's options after validation and the checks across them.
public struct DMXBridgeSettings: Sendable {
    public enum Interface: String, Sendable, CaseIterable {
        case usbpro, opendmx, simulated
    }

    public enum Direction: String, Sendable, CaseIterable {
        case out, `in`, both

        var sends: Bool { self != .in }
        var reads: Bool { self != .out }
    }

    public var interface: Interface
    /// Serial device path (usbpro); empty: found by USB identity.
    public var device: String
    public var usbVendorID: UInt16?
    public var usbProductID: UInt16?
    public var usbSerial: String?
    public var mapping: DMXUniverseMapping
    public var direction: Direction
    /// Frames per second sent.
    public var refreshRate: Double
    public var failSafe: DMXFailSafe
    /// Input: also SET the whole frame as `bytes`.
    public var inputFrame: Bool
    /// Input: no frame for this long is source loss.
    public var inputTimeout: Double

    public init(
        interface: Interface, device: String = "", usbVendorID: UInt16? = nil, usbProductID: UInt16? = nil,
        usbSerial: String? = nil, mapping: DMXUniverseMapping, direction: Direction = .out, refreshRate: Double = 44,
        failSafe: DMXFailSafe = .hold, inputFrame: Bool = false, inputTimeout: Double = 2.5
    ) {
        self.interface = interface
        self.device = device
        self.usbVendorID = usbVendorID
        self.usbProductID = usbProductID
        self.usbSerial = usbSerial
        self.mapping = mapping
        self.direction = direction
        self.refreshRate = refreshRate
        self.failSafe = failSafe
        self.inputFrame = inputFrame
        self.inputTimeout = inputTimeout
    }

    init(_ options: BridgeOptions) throws(BridgeConfigProblem) {
        interface = Interface(rawValue: options.string("interface")) ?? .usbpro
        direction = Direction(rawValue: options.string("direction")) ?? .out
        device = options.string("device")
        let vendor = options.integer("usb_vid")
        let product = options.integer("usb_pid")
        let serial = options.string("usb_serial")
        usbVendorID = vendor == 0 ? nil : UInt16(vendor)
        usbProductID = product == 0 ? nil : UInt16(product)
        usbSerial = serial.isEmpty ? nil : serial
        refreshRate = options.number("refresh_rate")
        inputFrame = options.bool("input_frame")
        inputTimeout = options.number("input_timeout")
        switch interface {
        case .usbpro:
            guard !device.isEmpty || usbVendorID != nil || usbProductID != nil || usbSerial != nil else {
                throw BridgeConfigProblem(field: "device", reason: "interface \"usbpro\" needs device (a serial device path) or usb_vid/usb_pid/usb_serial to find it")
            }
        case .opendmx:
            guard device.isEmpty else {
                throw BridgeConfigProblem(field: "device", reason: "interface \"opendmx\" is found by usb_vid/usb_pid/usb_serial through libftdi, not by a device path")
            }
            guard !direction.reads else {
                throw BridgeConfigProblem(field: "direction", reason: "interface \"opendmx\" can only send: direction must be \"out\"")
            }
            guard refreshRate <= OpenDMX.maxRefreshRate else {
                throw BridgeConfigProblem(
                    field: "refresh_rate",
                    reason: "interface \"opendmx\" times each frame from the host: at most \(Int(OpenDMX.maxRefreshRate)) frames per second, got \(refreshRate)")
            }
        case .simulated:
            break
        }
        do throws(DMXMappingError) {
            // The universe is in range already: what can fail here is the patch.
            mapping = try DMXUniverseMapping(universe: options.integer("universe"), patch: DMXPatch(parsing: options.strings("patch")))
        } catch {
            throw BridgeConfigProblem(field: "patch", reason: error.description)
        }
        do throws(DMXMappingError) {
            failSafe = try DMXFailSafe.parse(policy: options.string("fail_safe"), scene: options.integers("fail_safe_scene"))
        } catch {
            throw BridgeConfigProblem(field: "fail_safe_scene", reason: error.description)
        }
    }

    /// Builds the interface for one open attempt: a usbpro found by USB identity is looked
    /// up again each time, so a replug on another path is found.
    func makeInterface(simulated: SimulatedDMXDevice) throws(DMXDeviceError) -> any DMXInterface {
        switch interface {
        case .usbpro:
            if !device.isEmpty { return EnttecUSBPro(path: device, input: direction.reads) }
            guard let port = SerialPortInfo.list().first(where: {
                $0.usbVendorID != nil && $0.matches(vendorID: usbVendorID, productID: usbProductID, serial: usbSerial)
            }) else {
                throw DMXDeviceError("no serial port matches \(usbIdentity)", unplugged: true)
            }
            return EnttecUSBPro(path: port.path, input: direction.reads)
        case .opendmx:
            return OpenDMX(
                vendorID: usbVendorID ?? OpenDMX.defaultVendorID, productID: usbProductID ?? OpenDMX.defaultProductID,
                serial: usbSerial)
        case .simulated:
            return SimulatedDMXInterface(device: simulated, input: direction.reads)
        }
    }

    private var usbIdentity: String {
        var parts: [String] = []
        if let usbVendorID { parts.append("usb_vid \(usbVendorID)") }
        if let usbProductID { parts.append("usb_pid \(usbProductID)") }
        if let usbSerial { parts.append("usb_serial \"\(usbSerial)\"") }
        return parts.joined(separator: ", ")
    }
}

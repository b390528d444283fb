extension BridgeKind {
    /// `kind = "dmx"`: one DMX512 universe on a USB interface.
    public static let dmx = BridgeKind(
        name: "dmx",
        summary: "one DMX512 universe on an Enttec USB Pro or Open DMX interface, out and in",
        fields: [
            BridgeField("interface", .choice(DMXBridgeSettings.Interface.allCases.map(\.rawValue)), default: .string("usbpro"),
                        help: "usbpro (Enttec DMX USB Pro widget), opendmx (FTDI through libftdi1, output only) or simulated (no hardware)"),
            BridgeField("device", .string, default: .string(""),
                        help: "usbpro: serial device path, e.g. /dev/serial/by-id/usb-ENTTEC_DMX_USB_PRO_EN123456-if00-port0"),
            BridgeField("usb_vid", .integer(0...0xFFFF), default: .integer(0), help: "USB vendor id to find the device by (0: any)"),
            BridgeField("usb_pid", .integer(0...0xFFFF), default: .integer(0), help: "USB product id to find the device by (0: any)"),
            BridgeField("usb_serial", .string, default: .string(""), help: "USB serial number to find the device by (empty: any)"),
            BridgeField("universe", .integer(Int64(DMXUniverseMapping.universes.lowerBound)...Int64(DMXUniverseMapping.universes.upperBound)),
                        default: .integer(1), help: "universe number in the params /dmx/{universe}/{channel}"),
            BridgeField("direction", .choice(DMXBridgeSettings.Direction.allCases.map(\.rawValue)), default: .string("out"),
                        help: "out: params to the cable; in: the cable to params; both"),
            BridgeField("refresh_rate", .number(1...44), default: .number(44), help: "frames sent per second"),
            BridgeField("patch", .stringList, default: .list([]),
                        help: "fixtures as \"<address> @ <start channel>: <param>[:16] …\", e.g. \"/fixtures/mover @ 20: pan:16 tilt:16 dimmer\""),
            BridgeField("fail_safe", .choice(DMXFailSafe.names), default: .string("hold"),
                        help: "on source loss (bridge stopping for output, no DMX input for input_timeout): hold, blackout or scene"),
            BridgeField("fail_safe_scene", .integerList(0...255), default: .list([]), help: "the scene's levels from channel 1 on, for fail_safe = \"scene\""),
            BridgeField("input_frame", .bool, default: .bool(false), help: "input: also SET /dmx/{universe} as 512 bytes on each change"),
            BridgeField("input_timeout", .number(0.1...60), default: .number(2.5), help: "input: seconds without a frame before the source counts as lost"),
        ],
        make: { options throws(BridgeConfigProblem) in
            DMXBridge(settings: try DMXBridgeSettings(options))
        })
}

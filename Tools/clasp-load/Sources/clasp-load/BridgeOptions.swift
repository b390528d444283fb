import ArgumentParser

/// What the bridge probe drives and where it watches (docs/benchmarks.md, "F. Bridge overhead").
enum BridgeMode: String, CaseIterable, Sendable {
    /// SETs over WebSocket → the gateway's sACN output, unicast to `--listen-port`.
    case sacnOut = "sacn-out"
    /// SETs → Art-Net output (ArtDmx) to `--listen-port`.
    case artnetOut = "artnet-out"
    /// SETs → the dmx bridge's Enttec USB Pro frames, read on `--usbpro` (a pty's far end).
    case dmxOut = "dmx-out"
    /// E1.31 packets to `--bridge-port` → SETs at a WebSocket subscriber of `/dmx/**`.
    case sacnIn = "sacn-in"
    /// ArtDmx packets to `--bridge-port` → SETs at the subscriber.
    case artnetIn = "artnet-in"
    /// E1.31 to `--bridge-port` → through the router → ArtDmx to `--listen-port`.
    case sacnToArtnet = "sacn-to-artnet"
    /// USB Pro received-DMX frames, written on `--usbpro` → SETs at the subscriber.
    case dmxIn = "dmx-in"

    /// The probe drives the bridge's input: it sends the lighting frames (packets or USB Pro).
    var sendsFrames: Bool { [.sacnIn, .artnetIn, .sacnToArtnet, .dmxIn].contains(self) }
    /// … as E1.31 or ArtDmx datagrams to `--bridge-port`.
    var sendsPackets: Bool { [.sacnIn, .artnetIn, .sacnToArtnet].contains(self) }
    /// The probe listens for the bridge's output datagrams on `--listen-port`.
    var receivesPackets: Bool { [.sacnOut, .artnetOut, .sacnToArtnet].contains(self) }
    /// The probe is the far end of an emulated Enttec USB Pro (`--usbpro`).
    var isWidget: Bool { [.dmxOut, .dmxIn].contains(self) }
    var seesSETs: Bool { [.sacnIn, .artnetIn, .dmxIn].contains(self) }
}

/// Input modes: which SETs of the bridge the subscriber times.
enum InputSets: String, CaseIterable, Sendable {
    /// `/dmx/U/C`, one per changed channel.
    case channel
    /// `/dmx/U`, the frame as 512 bytes (a bridge with `whole_frame`, or `input_frame` for dmx).
    case frame
}

struct BridgeOptions: ParsableArguments {
    @Option(name: .customLong("bridge"), help: ArgumentHelp(
        "Probe a bridge instead of broker load: \(BridgeMode.allCases.map(\.rawValue).joined(separator: ", ")). --rate is then changes per second over all universes.",
        valueName: "mode"))
    var mode: String?
    @Option(help: "Universes 1…N the probe changes, round-robin.") var universes = 1
    @Option(help: "channel (one /dmx/U/C SET or one channel per change) or whole (a /dmx/U bytes SET of 512 changed levels); whole is for the output modes.")
    var frames = "channel"
    @Option(help: "Input modes: channels changing per packet besides the sequence channel (0–255).") var extraChannels = 0
    @Option(help: "Input modes: the SETs timed: channel (/dmx/U/C) or frame (/dmx/U as 512 bytes; the bridge needs whole_frame, or input_frame for dmx).")
    var inputSets = "channel"
    @Option(help: "Output modes: UDP port where the bridge's packets arrive.") var listenPort: Int?
    @Option(help: "Output modes: address the probe listens on (0.0.0.0 for broadcast ArtDmx).") var listenHost = "127.0.0.1"
    @Option(help: "Input modes: UDP port of the bridge's input on --host.") var bridgePort: Int?
    @Option(help: "dmx-out, dmx-in: the widget's end of a pty pair (socat) whose other end the gateway opened as its USB Pro.") var usbpro: String?
    @Option(help: "Seconds to wait for the path to carry a first change before the run.") var primeTimeout = 20.0
    @Option(help: "Seconds of the gateway's (--watch-pid) CPU measured before the run, nothing changing.") var idleSeconds = 0.0
}

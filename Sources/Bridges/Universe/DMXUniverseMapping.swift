public import CLASP

/// One universe's params, shared by every lighting bridge so DMX, sACN and Art-Net all map
/// the same way:
///
/// - `/dmx/{universe}/{channel}` (channel 1–512, no leading zeros): one channel's level
///   (see `DMXLevel` for the value types taken);
/// - `/dmx/{universe}`: the whole frame as `bytes`, 1–512 of them from channel 1 on (a shorter
///   value leaves the channels after it as they are);
/// - the patch's named params (`DMXPatch`), 8- or 16-bit.
///
/// Writes to several of these address the same slots; the last one wins.
public struct DMXUniverseMapping: Sendable {
    /// The root of the channel params.
    public static let root = "/dmx"
    /// Universe numbers any lighting bridge may use (Art-Net starts at 0, sACN ends at 63999).
    public static let universes: ClosedRange<Int> = 0...63_999

    public let universe: Int
    public let patch: DMXPatch
    /// `/dmx/{universe}`.
    public let frameAddress: String
    private let channelPrefix: String

    public init(universe: Int, patch: DMXPatch = .empty) throws(DMXMappingError) {
        guard Self.universes.contains(universe) else {
            throw DMXMappingError("universe must be from \(Self.universes.lowerBound) to \(Self.universes.upperBound), got \(universe)")
        }
        let frameAddress = "\(Self.root)/\(universe)"
        if let clash = patch.entries.first(where: { $0.address == frameAddress || $0.address.hasPrefix(Self.root + "/") }) {
            throw DMXMappingError("patch address \(clash.address) is under \(Self.root)/, which the channel params use")
        }
        self.universe = universe
        self.patch = patch
        self.frameAddress = frameAddress
        channelPrefix = frameAddress + "/"
    }

    /// `/dmx/{universe}/{channel}`.
    public func channelAddress(_ channel: Int) -> String {
        channelPrefix + String(channel)
    }

    /// What the bridge subscribes to for output: the frame, its channels, the patched params.
    public var subscriptionPatterns: [String] {
        [frameAddress, channelPrefix + "*"] + patch.entries.map(\.address)
    }

    /// The result of applying router messages to a frame.
    public struct Update: Sendable, Equatable {
        /// Some slot got a new value.
        public var changed = false
        /// Values at this universe's addresses that were not applied: `address: reason`.
        public var refused: [String] = []

        public init(changed: Bool = false, refused: [String] = []) {
            self.changed = changed
            self.refused = refused
        }
    }

    /// Applies what the router sent (a SET, a PUBLISH with a value, a SNAPSHOT) to `frame`.
    /// Messages for other addresses and other kinds are ignored.
    public func apply(_ message: Message, to frame: inout DMXFrame) -> Update {
        var update = Update()
        switch message {
        case .set(let set):
            apply(set.value, at: set.address, to: &frame, into: &update)
        case .publish(let publish):
            if let value = publish.value { apply(value, at: publish.address, to: &frame, into: &update) }
        case .snapshot(let snapshot):
            for param in snapshot.params { apply(param.value, at: param.address, to: &frame, into: &update) }
        default:
            break
        }
        return update
    }

    private func apply(_ value: Value, at address: String, to frame: inout DMXFrame, into update: inout Update) {
        let before = frame
        if address == frameAddress {
            guard case .bytes(let bytes) = value, (1...DMXFrame.slotCount).contains(bytes.count) else {
                update.refused.append("\(address): a whole frame must be bytes, 1–512 of them")
                return
            }
            frame.replace(from: 1, with: bytes)
        } else if address.hasPrefix(channelPrefix) {
            let text = address.dropFirst(channelPrefix.count)
            guard let channel = Int(text), DMXFrame.channels.contains(channel), String(channel) == text else {
                update.refused.append("\(address): channel must be 1–512")
                return
            }
            switch DMXLevel.eightBit(value) {
            case .success(let level): frame[channel] = level
            case .failure(let error): update.refused.append("\(address): \(error)")
            }
        } else if let entry = patch.entry(for: address) {
            if entry.sixteenBit {
                switch DMXLevel.sixteenBit(value) {
                case .success(let level):
                    frame[entry.channel] = UInt8(level >> 8)
                    frame[entry.channel + 1] = UInt8(level & 0xFF)
                case .failure(let error):
                    update.refused.append("\(address): \(error)")
                }
            } else {
                switch DMXLevel.eightBit(value) {
                case .success(let level): frame[entry.channel] = level
                case .failure(let error): update.refused.append("\(address): \(error)")
                }
            }
        } else {
            return
        }
        if frame != before { update.changed = true }
    }

    /// SETs for DMX read in: one per changed channel (integer 0–255), one per patched param
    /// touching a changed channel (integer, 16-bit ones 0–65535), and when `wholeFrame` the
    /// frame as 512 bytes. Nothing when nothing changed.
    public func messages(for frame: DMXFrame, changedChannels: [Int], wholeFrame: Bool) -> [Message] {
        guard !changedChannels.isEmpty else { return [] }
        var messages: [Message] = []
        messages.reserveCapacity(changedChannels.count + (wholeFrame ? 1 : 0))
        if wholeFrame {
            messages.append(.set(SetMessage(address: frameAddress, value: .bytes(frame.slots))))
        }
        for channel in changedChannels {
            messages.append(.set(SetMessage(address: channelAddress(channel), value: .int(Int64(frame[channel])))))
        }
        if !patch.entries.isEmpty {
            let changed = Set(changedChannels)
            for entry in patch.entries where entry.channels.contains(where: changed.contains) {
                let level = entry.sixteenBit
                    ? Int64(frame[entry.channel]) << 8 | Int64(frame[entry.channel + 1])
                    : Int64(frame[entry.channel])
                messages.append(.set(SetMessage(address: entry.address, value: .int(level))))
            }
        }
        return messages
    }
}

/// DMX coming in, turned into SETs: remembers the last frame so only changes are sent. The
/// first frame after start (or after `reset`, on a new source) sends every channel.
public struct DMXInputTracker: Sendable {
    public let mapping: DMXUniverseMapping
    /// Also send the whole frame as one `bytes` SET whenever something changed.
    public let wholeFrame: Bool
    private var last: DMXFrame?

    public init(mapping: DMXUniverseMapping, wholeFrame: Bool) {
        self.mapping = mapping
        self.wholeFrame = wholeFrame
    }

    /// The SETs for a frame just read in (empty when it equals the last one).
    public mutating func messages(for frame: DMXFrame) -> [Message] {
        let changed = last.map { frame.changedChannels(since: $0) } ?? Array(DMXFrame.channels)
        last = frame
        return mapping.messages(for: frame, changedChannels: changed, wholeFrame: wholeFrame)
    }

    /// Forget the last frame: the next one is sent whole.
    public mutating func reset() {
        last = nil
    }
}

import CLASP

/// Named params for fixtures in one universe: `/fixtures/wash1/dimmer` → channel 10, a 16-bit
/// `/fixtures/mover/pan` → channels 20 (coarse) and 21 (fine).
///
/// In config, one string per fixture: its address prefix, `@`, its start channel, `:`, then
/// its params in channel order, each taking one channel, or two with `:16` (coarse first):
///
///     "/fixtures/mover @ 20: pan:16 tilt:16 dimmer"
///
/// gives `/fixtures/mover/pan` → 20/21, `/fixtures/mover/tilt` → 22/23,
/// `/fixtures/mover/dimmer` → 24. A channel belongs to one param at most.
public struct DMXPatch: Sendable, Equatable {
    /// One patched param.
    public struct Entry: Sendable, Equatable {
        public let address: String
        /// The (coarse) channel, 1–512.
        public let channel: Int
        /// Two channels, `channel` coarse and `channel + 1` fine.
        public let sixteenBit: Bool

        public init(address: String, channel: Int, sixteenBit: Bool) {
            self.address = address
            self.channel = channel
            self.sixteenBit = sixteenBit
        }

        var channels: ClosedRange<Int> { channel...(sixteenBit ? channel + 1 : channel) }
    }

    public let entries: [Entry]
    private let byAddress: [String: Int]

    public static let empty = DMXPatch(checked: [])

    private init(checked entries: [Entry]) {
        self.entries = entries
        byAddress = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.address, $0) })
    }

    /// Checks entries: valid addresses, none twice, channels inside 1–512, none shared.
    public init(_ entries: [Entry]) throws(DMXMappingError) {
        var owner = [String?](repeating: nil, count: DMXFrame.slotCount + 1)
        var seen = Set<String>()
        for entry in entries {
            guard Address.isValid(entry.address), !entry.address.contains("*") else {
                throw DMXMappingError("patch address \"\(entry.address)\" is not a valid param address")
            }
            guard seen.insert(entry.address).inserted else {
                throw DMXMappingError("patch address \(entry.address) is patched twice")
            }
            guard DMXFrame.channels.contains(entry.channels.lowerBound),
                  DMXFrame.channels.contains(entry.channels.upperBound) else {
                throw DMXMappingError("\(entry.address) needs channel\(entry.sixteenBit ? "s \(entry.channels.lowerBound)–\(entry.channels.upperBound)" : " \(entry.channel)"), outside 1–512")
            }
            for channel in entry.channels {
                if let other = owner[channel] {
                    throw DMXMappingError("channel \(channel) is patched to both \(other) and \(entry.address)")
                }
                owner[channel] = entry.address
            }
        }
        self.init(checked: entries)
    }

    /// Parses the config form, one fixture per string (see the type's description).
    public init(parsing fixtures: [String]) throws(DMXMappingError) {
        var entries: [Entry] = []
        for fixture in fixtures {
            entries += try Self.parse(fixture)
        }
        try self.init(entries)
    }

    public func entry(for address: String) -> Entry? {
        byAddress[address].map { entries[$0] }
    }

    private static func parse(_ fixture: String) throws(DMXMappingError) -> [Entry] {
        let form = "expected \"<address> @ <start channel>: <param>[:16] …\", got \"\(fixture)\""
        guard let at = fixture.firstIndex(of: "@") else { throw DMXMappingError(form) }
        let prefix = fixture[..<at].trimmingSpaces
        let rest = fixture[fixture.index(after: at)...]
        guard let colon = rest.firstIndex(of: ":"),
              let start = Int(rest[..<colon].trimmingSpaces) else {
            throw DMXMappingError(form)
        }
        let names = rest[rest.index(after: colon)...].split(separator: " ", omittingEmptySubsequences: true)
        guard prefix.hasPrefix("/"), !names.isEmpty else { throw DMXMappingError(form) }
        let base = prefix.hasSuffix("/") ? String(prefix.dropLast()) : String(prefix)
        var channel = start
        var entries: [Entry] = []
        for word in names {
            let parts = word.split(separator: ":", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), !parts[0].isEmpty, parts.count == 1 || parts[1] == "16" else {
                throw DMXMappingError("param \"\(word)\" in \"\(fixture)\" must be a name, or a name followed by :16")
            }
            let wide = parts.count == 2
            entries.append(Entry(address: "\(base)/\(parts[0])", channel: channel, sixteenBit: wide))
            channel += wide ? 2 : 1
        }
        return entries
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return text
    }
}

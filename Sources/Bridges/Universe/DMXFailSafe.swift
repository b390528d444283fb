/// What a universe's output shows when its source is lost (the device's or network's sender
/// stops, or the bridge's router session goes): the same rule for every lighting bridge.
public enum DMXFailSafe: Sendable, Equatable {
    /// Keep sending the last frame (hold last look).
    case hold
    /// Send all zeros.
    case blackout
    /// Send a stored scene.
    case scene(DMXFrame)

    /// The config choices, in the order the docs list them.
    public static let names = ["hold", "blackout", "scene"]

    /// The frame to send once the source is lost, given the last one sent.
    public func frame(after last: DMXFrame) -> DMXFrame {
        switch self {
        case .hold: last
        case .blackout: DMXFrame()
        case .scene(let scene): scene
        }
    }

    /// Builds the policy from config: `policy` is one of `names`; `scene` lists the stored
    /// scene's values from channel 1 on (only for `scene`; 1–512 values of 0–255).
    public static func parse(policy: String, scene: [Int]) throws(DMXMappingError) -> DMXFailSafe {
        switch policy {
        case "hold", "blackout":
            guard scene.isEmpty else {
                throw DMXMappingError("a fail-safe scene is only used with fail_safe = \"scene\", not \"\(policy)\"")
            }
            return policy == "hold" ? .hold : .blackout
        case "scene":
            guard (1...DMXFrame.slotCount).contains(scene.count) else {
                throw DMXMappingError("fail_safe = \"scene\" needs 1–512 scene values (channel 1 first), got \(scene.count)")
            }
            guard scene.allSatisfy({ (0...255).contains($0) }) else {
                throw DMXMappingError("scene values must be 0–255")
            }
            return .scene(DMXFrame(scene.map { UInt8($0) }))
        default:
            throw DMXMappingError("fail-safe must be one of \(names.joined(separator: ", ")), got \"\(policy)\"")
        }
    }
}

/// Why a patch, a fail-safe or a mapping setting is not usable, in words for the operator.
public struct DMXMappingError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

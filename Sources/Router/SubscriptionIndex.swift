import CLASP

/// One stored subscription.
struct Subscription {
    let connection: ConnectionID
    let id: UInt32
    let pattern: AddressPattern
    let types: SignalTypeMask
}

/// Finds the subscriptions whose pattern matches an address.
///
/// Patterns made of literal, `*` and `**` segments live in a segment trie; the rare
/// patterns with glob syntax inside a segment are checked one by one with
/// `AddressPattern.matches`. Either way the answer is the one `AddressPattern.matches`
/// gives. Lookups are cached per address until the next subscription change.
struct SubscriptionIndex {
    private final class Node {
        var literal: [ExactText: Node] = [:]
        var anySegment: Node?
        var anySegments: Node?
        var subscriptions: [SubscriptionKey: Subscription] = [:]

        var isEmpty: Bool { subscriptions.isEmpty && literal.isEmpty && anySegment == nil && anySegments == nil }

        func existingChild(_ segment: PatternSegment) -> Node? {
            switch segment {
            case .literal(let text): return literal[ExactText(text)]
            case .anySegment: return anySegment
            case .anySegments: return anySegments
            case .glob: return nil
            }
        }

        func child(_ segment: PatternSegment) -> Node {
            if let existing = existingChild(segment) { return existing }
            let created = Node()
            switch segment {
            case .literal(let text): literal[ExactText(text)] = created
            case .anySegment: anySegment = created
            case .anySegments: anySegments = created
            case .glob: break
            }
            return created
        }

        func removeChild(_ segment: PatternSegment) {
            switch segment {
            case .literal(let text): literal[ExactText(text)] = nil
            case .anySegment: anySegment = nil
            case .anySegments: anySegments = nil
            case .glob: break
            }
        }
    }

    struct SubscriptionKey: Hashable {
        let connection: ConnectionID
        let id: UInt32
    }

    private let root = Node()
    private var globbed: [SubscriptionKey: Subscription] = [:]
    private var cache: [ExactText: Matches] = [:]
    private let cacheLimit = 4_096

    /// True when no subscription is stored and the trie holds no node but its root.
    var isEmpty: Bool { root.isEmpty && globbed.isEmpty }

    mutating func insert(_ subscription: Subscription) {
        cache.removeAll(keepingCapacity: true)
        let key = SubscriptionKey(connection: subscription.connection, id: subscription.id)
        guard !Self.hasGlob(subscription.pattern) else {
            globbed[key] = subscription
            return
        }
        var node = root
        for segment in subscription.pattern.segments {
            node = node.child(segment)
        }
        node.subscriptions[key] = subscription
    }

    mutating func remove(_ subscription: Subscription) {
        cache.removeAll(keepingCapacity: true)
        let key = SubscriptionKey(connection: subscription.connection, id: subscription.id)
        guard !Self.hasGlob(subscription.pattern) else {
            globbed[key] = nil
            return
        }
        var path: [(parent: Node, segment: PatternSegment)] = []
        var node = root
        for segment in subscription.pattern.segments {
            guard let next = node.existingChild(segment) else { return }
            path.append((node, segment))
            node = next
        }
        node.subscriptions[key] = nil
        // Prune nodes left empty so churn of unique patterns cannot grow the trie forever.
        while node.isEmpty, let (parent, segment) = path.popLast() {
            parent.removeChild(segment)
            node = parent
        }
    }

    /// The subscriptions matching one address, and whether each belongs to a different
    /// connection: then a fan-out sends to each without checking for repeats.
    struct Matches {
        let subscriptions: [Subscription]
        let onePerConnection: Bool
    }

    /// Every subscription matching `address` (several per connection possible).
    mutating func matches(_ address: String) -> [Subscription] { lookup(address).subscriptions }

    /// The subscriptions matching `address`, worked out once per address until the next
    /// subscription change.
    mutating func lookup(_ address: String) -> Matches {
        let key = ExactText(address)
        if let hit = cache[key] { return hit }
        var found: [Subscription] = []
        guard let segments = Address.segments(of: address) else { return Matches(subscriptions: [], onePerConnection: true) }
        var visited: Swift.Set<Visit> = []
        collect(root, segments, 0, &found, &visited)
        for subscription in globbed.values where subscription.pattern.matches(address) {
            found.append(subscription)
        }
        var connections = Swift.Set<ConnectionID>(minimumCapacity: found.count)
        let matches = Matches(subscriptions: found, onePerConnection: found.allSatisfy { connections.insert($0.connection).inserted })
        if cache.count >= cacheLimit { cache.removeAll(keepingCapacity: true) }
        cache[key] = matches
        return matches
    }

    private struct Visit: Hashable {
        let node: ObjectIdentifier
        let index: Int
    }

    private func collect(_ node: Node, _ segments: [Substring], _ index: Int, _ found: inout [Subscription], _ visited: inout Swift.Set<Visit>) {
        // `**` can reach the same (node, index) along several paths; visit each once.
        guard visited.insert(Visit(node: ObjectIdentifier(node), index: index)).inserted else { return }
        if let many = node.anySegments {
            for next in index...segments.count {
                collect(many, segments, next, &found, &visited)
            }
        }
        guard index < segments.count else {
            found.append(contentsOf: node.subscriptions.values)
            return
        }
        if let child = node.literal[ExactText(segments[index])] {
            collect(child, segments, index + 1, &found, &visited)
        }
        if let any = node.anySegment {
            collect(any, segments, index + 1, &found, &visited)
        }
    }

    private static func hasGlob(_ pattern: AddressPattern) -> Bool {
        pattern.segments.contains { if case .glob = $0 { true } else { false } }
    }
}

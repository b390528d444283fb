import CLASP
@testable import Router
import Testing

@Suite struct SubscriptionIndexTests {
    /// The trie must give exactly the answer of `AddressPattern.matches`, the one matcher.
    @Test func theIndexAgreesWithThePatternMatcher() throws {
        let patterns = [
            "/a", "/a/b", "/a/*", "/a/**", "/**", "/*", "/a/*/c", "/**/c", "/a/**/c", "/*/b/**",
            "/a/b*", "/a/{b,c}", "/a/?", "/x/**/y/**", "/a/", "/**/**", "/a/*/**",
        ]
        let addresses = ["/a", "/a/b", "/a/c", "/a/b/c", "/a/x/c", "/x/y", "/x/q/y/z", "/c", "/b", "/a/bcd", "/ab", "/a/b/c/d"]
        var index = SubscriptionIndex()
        var compiled: [AddressPattern] = []
        for (number, text) in patterns.enumerated() {
            let pattern = try AddressPattern(text)
            compiled.append(pattern)
            index.insert(Subscription(connection: ConnectionID(rawValue: UInt64(number)), id: 1, pattern: pattern, types: .all))
        }
        for address in addresses {
            let found = Swift.Set(index.matches(address).map(\.pattern.text))
            let expected = Swift.Set(compiled.filter { $0.matches(address) }.map(\.text))
            #expect(found == expected, "address \(address)")
        }
    }

    @Test func removingEverySubscriptionLeavesNothingBehind() throws {
        var index = SubscriptionIndex()
        var all: [Subscription] = []
        for number in 0..<100 {
            let pattern = try AddressPattern("/p/\(number)/**")
            let subscription = Subscription(connection: ConnectionID(rawValue: 1), id: UInt32(number), pattern: pattern, types: .all)
            all.append(subscription)
            index.insert(subscription)
        }
        #expect(index.matches("/p/5/x").count == 1)
        for subscription in all { index.remove(subscription) }
        #expect(index.matches("/p/5/x").isEmpty)
        #expect(index.isEmpty)
    }

    @Test func aConnectionWithTwoMatchingSubscriptionsIsReported() throws {
        var index = SubscriptionIndex()
        let first = ConnectionID(rawValue: 1)
        index.insert(Subscription(connection: first, id: 1, pattern: try AddressPattern("/a/*"), types: .all))
        index.insert(Subscription(connection: ConnectionID(rawValue: 2), id: 1, pattern: try AddressPattern("/a/b"), types: .all))
        #expect(index.lookup("/a/b").onePerConnection)
        #expect(index.lookup("/a/b").subscriptions.count == 2)
        index.insert(Subscription(connection: first, id: 2, pattern: try AddressPattern("/**"), types: .all))
        #expect(!index.lookup("/a/b").onePerConnection)
        #expect(index.lookup("/a/b").subscriptions.count == 3)
        #expect(index.lookup("/c").onePerConnection)
    }
}

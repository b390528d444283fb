import Synchronization

/// The last log lines, for the admin page's log tail. Safe from any thread.
public final class LogRing: Sendable {
    public let capacity: Int
    private let lines: Mutex<(items: [String], next: Int)>

    public init(capacity: Int = 500) {
        self.capacity = max(1, capacity)
        lines = Mutex(([], 0))
    }

    public func append(_ line: String) {
        lines.withLock { state in
            if state.items.count < capacity {
                state.items.append(line)
            } else {
                state.items[state.next] = line
                state.next = (state.next + 1) % capacity
            }
        }
    }

    /// The newest `count` lines, oldest first.
    public func last(_ count: Int) -> [String] {
        lines.withLock { state in
            let ordered = Array(state.items[state.next...] + state.items[..<state.next])
            return Array(ordered.suffix(max(0, count)))
        }
    }
}

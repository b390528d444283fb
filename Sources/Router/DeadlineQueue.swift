/// Items ordered by a deadline (a binary min-heap). Items with equal deadlines come out in
/// the order they went in, so bundles due at one instant execute in arrival order.
struct DeadlineQueue<Element> {
    private struct Entry {
        let deadline: UInt64
        let order: UInt64
        let element: Element

        func precedes(_ other: Entry) -> Bool {
            deadline != other.deadline ? deadline < other.deadline : order < other.order
        }
    }

    private var heap: [Entry] = []
    private var nextOrder: UInt64 = 0

    var count: Int { heap.count }
    var isEmpty: Bool { heap.isEmpty }
    /// The earliest deadline, if any.
    var nextDeadline: UInt64? { heap.first?.deadline }
    /// The earliest item, left in place.
    var first: Element? { heap.first?.element }

    mutating func insert(_ element: Element, deadline: UInt64) {
        heap.append(Entry(deadline: deadline, order: nextOrder, element: element))
        nextOrder &+= 1
        siftUp(heap.count - 1)
    }

    /// Removes and returns the earliest item if its deadline is at or before `now`.
    mutating func popDue(at now: UInt64) -> Element? {
        guard let first = heap.first, first.deadline <= now else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
        return first.element
    }

    /// Drops the items for which `remove` is true.
    mutating func removeAll(where remove: (Element) -> Bool) {
        let before = heap.count
        heap.removeAll { remove($0.element) }
        guard heap.count != before else { return }
        for index in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            var smallest = left
            if left + 1 < heap.count, heap[left + 1].precedes(heap[left]) { smallest = left + 1 }
            guard heap[smallest].precedes(heap[parent]) else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}

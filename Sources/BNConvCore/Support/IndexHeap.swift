/// A binary min-heap of integers: the smallest first, `O(log n)` per insert and removal.
///
/// Topological orders that prefer the smallest file index among the ready nodes use it, so that
/// ordering a million-node graph costs `O(n log n)` instead of a sort per step.
package struct IndexHeap {
    private var items: [Int] = []

    /// An empty heap with room for `capacity` items.
    package init(capacity: Int = 0) { items.reserveCapacity(capacity) }

    /// Whether the heap holds nothing.
    package var isEmpty: Bool { items.isEmpty }

    /// Adds `value`.
    package mutating func insert(_ value: Int) {
        items.append(value)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the smallest value, or nil when empty.
    package mutating func popMin() -> Int? {
        guard let last = items.popLast() else { return nil }
        guard !items.isEmpty else { return last }
        let top = items[0]
        items[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count && items[left] < items[smallest] { smallest = left }
            if right < items.count && items[right] < items[smallest] { smallest = right }
            guard smallest != parent else { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}

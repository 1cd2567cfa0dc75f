/// Hands out names that collide with nothing already taken: the one rule every reader, pass and
/// writer uses when it must invent a name (a node, an initializer, a NodeDef, a Keras layer).
///
/// ``claim(_:)`` returns `base` when it is free, else the first free of `base_1`, `base_2`, ...
/// and takes the name it returns. Names are never given back, so a suffix found taken stays taken:
/// each base remembers where its search stopped, and 100,000 nodes of one name (ONNX allows
/// that) cost linear time instead of quadratic, with the same names as counting from 1 each time.
public struct NameAllocator: Sendable {
    /// Every name in use.
    public private(set) var taken: Set<String>
    /// Per base, the first suffix not yet known to be taken.
    private var nextSuffix: [String: Int] = [:]

    /// An allocator that avoids `taken`.
    public init<Names: Sequence>(taken: Names) where Names.Element == String {
        self.taken = Set(taken)
    }

    /// An allocator with no name taken yet.
    public init() {
        taken = []
    }

    /// `base`, or the first of `base_1`, `base_2`, ... that is free; the name is taken from now on.
    public mutating func claim(_ base: String) -> String {
        guard taken.contains(base) else {
            taken.insert(base)
            return base
        }
        var suffix = nextSuffix[base] ?? 1
        var name = "\(base)_\(suffix)"
        while taken.contains(name) {
            suffix += 1
            name = "\(base)_\(suffix)"
        }
        nextSuffix[base] = suffix + 1
        taken.insert(name)
        return name
    }

    /// Marks `name` as taken (a name chosen elsewhere that later claims must avoid).
    public mutating func reserve(_ name: String) {
        taken.insert(name)
    }

    /// Marks every name of `names` as taken.
    public mutating func reserve<Names: Sequence>(_ names: Names) where Names.Element == String {
        taken.formUnion(names)
    }

    /// Whether `name` is in use.
    public func isTaken(_ name: String) -> Bool {
        taken.contains(name)
    }
}

/// Hands out names that collide with nothing already taken: the one rule every reader, pass and
/// writer uses when it must invent a name (a node, an initializer, a NodeDef, a Keras layer).
///
/// ``claim(_:)`` returns `base` when it is free, else the first free of `base_1`, `base_2`, ...
/// (counting from 1 again for every claim), and takes the name it returns.
public struct NameAllocator: Sendable {
    /// Every name in use.
    public private(set) var taken: Set<String>

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
        var name = base
        var suffix = 1
        while taken.contains(name) {
            name = "\(base)_\(suffix)"
            suffix += 1
        }
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

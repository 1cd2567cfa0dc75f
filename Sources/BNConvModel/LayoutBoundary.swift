import BNConvCore

/// How each input and output of a layout-converted model relates to the source model's:
/// `permutation[i]` (numpy `transpose` order, batch axis included) turns the source tensor into the
/// converted one, `nil` when they are the same. Feed the converted model `x.transposed(p)`; its
/// output transposed by the inverse permutation is the source's output.
///
/// It infers nothing: it reads the layouts the readers declared (`InputLayout`,
/// ``LayoutPropagation``) or ``BoundaryLayouts`` filled in.
public struct LayoutBoundary: Equatable, Sendable {
    /// Per model input: source -> converted permutation, or `nil`.
    public var inputs: [[Int]?]
    /// Per model output: source -> converted permutation, or `nil`.
    public var outputs: [[Int]?]

    /// A boundary with explicit permutations.
    public init(inputs: [[Int]?], outputs: [[Int]?]) {
        self.inputs = inputs
        self.outputs = outputs
    }

    /// Compares the declared layouts of `source`'s and `converted`'s inputs and outputs (in order).
    /// A value of rank 3 or more without a declared layout counts as channels-last in either
    /// (the GraphDef reader declares channels-first inputs only).
    public init(source: Model, converted: Model) {
        // Ranks of boundary values whose sizes are unknown, from the ops that write them.
        var sourceRanks: [String: Int]?, convertedRanks: [String: Int]?
        func permutation(_ from: String, _ to: String) -> [Int]? {
            var known = converted.values[to]?.shape?.count ?? source.values[from]?.shape?.count
            if known == nil {
                if convertedRanks == nil { convertedRanks = LayoutPropagation.ranks(of: converted) }
                if sourceRanks == nil { sourceRanks = LayoutPropagation.ranks(of: source) }
                known = convertedRanks?[to] ?? sourceRanks?[from]
            }
            let rank = known ?? 0
            guard rank >= 3 else { return nil }
            let a = source.values[from]?.layout ?? .channelsLast
            let b = converted.values[to]?.layout ?? .channelsLast
            guard a != b else { return nil }
            let dims = LayoutPermutation.permuteDims(rank: rank, from: a, to: b)
            return [0] + dims
        }
        inputs = zip(source.inputs, converted.inputs).map(permutation)
        outputs = zip(source.outputs, converted.outputs).map(permutation)
    }

    /// Whether every input and output is unchanged.
    public var isIdentity: Bool { inputs.allSatisfy { $0 == nil } && outputs.allSatisfy { $0 == nil } }

    /// The inverse of a permutation: `inverse(p)[p[i]] = i`.
    public static func inverse(_ p: [Int]) -> [Int] {
        var inv = [Int](repeating: 0, count: p.count)
        for (i, axis) in p.enumerated() { inv[axis] = i }
        return inv
    }
}

@testable import BNConvCore
@testable import BNConvModel
@testable import BNConvVerify

/// Small hand-built models for the fold pass's structural tests, with seeded random weights and
/// non-trivial BN statistics (never mean 0 / variance 1).
enum FoldTestModels {
    /// A deterministic generator (SplitMix64) so the tests are repeatable.
    struct Random {
        var state: UInt64
        mutating func next() -> Double {
            state &+= 0x9E3779B97F4A7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
            z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            z ^= z >> 31
            return Double(z >> 11) / Double(1 << 53)
        }
        mutating func uniform(_ n: Int, _ lo: Double, _ hi: Double) -> [Double] {
            (0..<n).map { _ in lo + (hi - lo) * next() }
        }
    }

    static func weight(_ role: WeightRole, _ shape: [Int], _ layout: KernelLayout, _ rng: inout Random,
                       lo: Double = -1, hi: Double = 1, dtype: DType = .float32) -> Weight {
        let n = shape.reduce(1, *)
        return Weight(role: role, tensor: Tensor(shape: shape, doubles: rng.uniform(n, lo, hi), dtype: dtype),
                      layout: layout, storageKey: "\(role)")
    }

    static func bnWeights(_ channels: Int, _ rng: inout Random, center: Bool = true, scale: Bool = true) -> [Weight] {
        var w: [Weight] = []
        if scale { w.append(weight(.gamma, [channels], .vector, &rng, lo: 0.5, hi: 1.5)) }
        if center { w.append(weight(.beta, [channels], .vector, &rng, lo: -0.5, hi: 0.5)) }
        w.append(weight(.movingMean, [channels], .vector, &rng, lo: -0.5, hi: 0.5))
        w.append(weight(.movingVariance, [channels], .vector, &rng, lo: 0.5, hi: 2))
        return w
    }

    /// `input -> producer -> bn -> extra...`; `producer` gets the value "p", the BN writes "bn".
    static func chain(producer: Node, bn: BatchNorm = BatchNorm(epsilon: 1.001e-5, axis: -1),
                      bnWeights: [Weight], rank: Int, extraNodes: [Node] = [], outputs: [String] = ["bn"]) -> Model {
        let input = Node(name: "input", op: .input, inputs: [], outputs: ["input"])
        let bnNode = Node(name: "bn", op: .batchNorm(bn), inputs: ["p"], outputs: ["bn"], weights: bnWeights)
        var values: [String: ValueInfo] = [:]
        for v in ["input", "p", "bn"] + extraNodes.flatMap(\.outputs) {
            values[v] = ValueInfo(name: v, shape: Array(repeating: nil, count: rank), layout: .channelsLast)
        }
        return Model(name: "t", format: .keras2H5, inputs: ["input"], outputs: outputs,
                     nodes: [input, producer, bnNode] + extraNodes, values: values)
    }

    /// A channels-last 1x1 conv (`kernelInputChannels` in, 3 out) -> BN -> Flatten -> Dense(5) on a
    /// (4, 3, 2) input, weights drawn from `seed`: the layout tests' model with a Flatten before a Dense.
    static func convBNFlattenDense(seed: UInt64, kernelInputChannels: Int = 2) -> Model {
        var rng = Random(state: seed)
        let nodes = [
            Node(name: "input", op: .input, inputs: [], outputs: ["input"]),
            Node(name: "conv", op: .conv(Convolution(rank: 2, filters: 3, kernelSize: [1, 1])), inputs: ["input"], outputs: ["conv"],
                 weights: [weight(.kernel, [1, 1, kernelInputChannels, 3], .hwio, &rng), weight(.bias, [3], .vector, &rng)]),
            Node(name: "bn", op: .batchNorm(BatchNorm(epsilon: 1e-3, axis: 3)), inputs: ["conv"], outputs: ["bn"], weights: bnWeights(3, &rng)),
            Node(name: "flatten", op: .flatten, inputs: ["bn"], outputs: ["flatten"]),
            Node(name: "dense", op: .dense(Dense(units: 5)), inputs: ["flatten"], outputs: ["dense"],
                 weights: [weight(.kernel, [36, 5], .io, &rng), weight(.bias, [5], .vector, &rng)]),
        ]
        return Model(name: "t", format: .keras2H5, inputs: ["input"], outputs: ["dense"], nodes: nodes,
                     values: ["input": ValueInfo(name: "input", shape: [nil, 4, 3, 2], layout: .channelsLast)])
    }
}

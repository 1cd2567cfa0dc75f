import BNConvCore
import BNConvModel
import BNConvEngine

/// One folded BatchNorm checked on its own: the layers it touched (the conv or dense it folded
/// into, the BN, and any Identity/Dropout/Flatten between them) run on random inputs in the
/// original model and in the folded one, compared.
///
/// This works whatever else the graph holds: a model the engine cannot run as a whole still has
/// each of its folds checked, and a wrong fold (a dropped epsilon, a wrong axis) is named.
public struct FoldCheck: Codable, Sendable {
    /// The folded BatchNorm.
    public var batchNorm: String
    /// The layer it folded into.
    public var target: String
    /// The error of the folded layers against the original pair, when they could be run.
    public var error: ErrorStatistics?
    /// Why the check could not run (an input shape that stays unknown, a layer the engine lacks).
    public var skipped: String?
    /// Whether the error was measured inside the whole-model run (the folded layer's output
    /// against the BN's, on the verification's inputs) rather than on the layers alone.
    public var inModel = false

    /// Whether the folded layers agree with the original within `tolerance` (a skipped check
    /// neither passes nor fails: it is reported as skipped).
    public func agrees(tolerance: Double) -> Bool { error.map { $0.maxRel <= tolerance } ?? true }
}

/// A fold to check: the BatchNorm, the layer it went into, and the direction.
public struct FoldToCheck: Sendable {
    /// The BatchNorm's node name in the original model.
    public var batchNorm: String
    /// The conv or dense node it folded into (the same name in both models).
    public var target: String
    /// Whether it folded into the layer before it (else into the one after it).
    public var intoProducer: Bool

    /// Creates a fold to check.
    public init(batchNorm: String, target: String, intoProducer: Bool) {
        self.batchNorm = batchNorm
        self.target = target
        self.intoProducer = intoProducer
    }
}

/// Runs ``FoldCheck``s.
public enum FoldChecker {
    /// A check for each of `folds`: from the whole-model comparison in `report` when it compared the
    /// fold's value (the folded layer's output against the BN's: the same check, in context, at no
    /// cost), else on the layers alone.
    public static func check(_ folds: [FoldToCheck], reference: Model, candidate: Model, within report: VerificationReport,
                             foldMap: [String: String]?, seed: UInt64 = 0) -> [FoldCheck] {
        folds.map { fold in
            let value: String?
            if fold.intoProducer {
                value = reference.node(named: fold.batchNorm)?.outputs.first.map { foldMap?[$0] ?? $0 }
            } else {
                value = reference.node(named: fold.target)?.outputs.first
            }
            if let value, let layer = report.layers.first(where: { $0.value == value }) {
                return FoldCheck(batchNorm: fold.batchNorm, target: fold.target, error: layer.error, inModel: true)
            }
            return check([fold], reference: reference, candidate: candidate, seed: seed)[0]
        }
    }

    /// The size an input dimension the model leaves open takes in a check, and the most a spatial
    /// one keeps (any size the layers accept will do: the check compares two computations of the
    /// same layers, per channel, borders included; a window too large for it runs at full size).
    static let openDimension = 8

    /// Checks every fold of `folds` between `reference` (the model before the fold) and
    /// `candidate` (after it), on one seeded random sample.
    public static func check(_ folds: [FoldToCheck], reference: Model, candidate: Model, seed: UInt64 = 0) -> [FoldCheck] {
        folds.map { fold in
            func run(capped: Bool) throws -> ErrorStatistics {
                let (before, after) = try pair(fold, reference: reference, candidate: candidate, capsSpatialSizes: capped)
                let inputs = try RandomInputs.make(for: before, batch: 1, seed: seed)
                let options = RunOptions(streamsWeights: true)
                let expected = try ModelRunner(model: before, options: options).run(inputs)
                let actual = try ModelRunner(model: after, options: options).run(inputs)
                return try ErrorStatistics(reference: expected[0], candidate: actual[0])
            }
            do {
                // A window too large for the capped size (a 17x17 valid conv) runs at full size.
                let error = try (try? run(capped: true)) ?? run(capped: false)
                return FoldCheck(batchNorm: fold.batchNorm, target: fold.target, error: error)
            } catch {
                return FoldCheck(batchNorm: fold.batchNorm, target: fold.target, skipped: "\(error)")
            }
        }
    }

    /// The original layers of `fold` and their folded counterparts, each as a one-input model.
    static func pair(_ fold: FoldToCheck, reference: Model, candidate: Model, capsSpatialSizes: Bool = true) throws -> (Model, Model) {
        guard let bnIndex = reference.nodeIndex(named: fold.batchNorm) else { throw FoldCheckError("no node '\(fold.batchNorm)'") }
        var chain: [Node] = []
        if fold.intoProducer {
            // producer -> (Identity...) -> BN
            var i = bnIndex
            chain = [reference.nodes[i]]
            while reference.nodes[i].name != fold.target {
                guard let x = reference.nodes[i].inputs.first, let p = reference.producerIndex(of: x), chain.count < 64 else {
                    throw FoldCheckError("the layers between '\(fold.target)' and '\(fold.batchNorm)' are not a chain")
                }
                i = p
                chain.insert(reference.nodes[i], at: 0)
            }
        } else {
            // BN -> (Identity, Flatten...) -> consumer
            var i = bnIndex
            chain = [reference.nodes[i]]
            while reference.nodes[i].name != fold.target {
                let readers = reference.consumerIndices(of: reference.nodes[i].outputs[0])
                guard readers.count == 1, chain.count < 64 else {
                    throw FoldCheckError("the layers between '\(fold.batchNorm)' and '\(fold.target)' are not a chain")
                }
                i = readers[0]
                chain.append(reference.nodes[i])
            }
        }
        guard chain[0].inputs.count == 1 else { throw FoldCheckError("'\(chain[0].name)' reads \(chain[0].inputs.count) values") }
        let input = chain[0].inputs[0]
        let folded = try chain.filter { $0.name != fold.batchNorm }.map { node -> Node in
            guard let n = candidate.node(named: node.name) else { throw FoldCheckError("the folded model has no '\(node.name)'") }
            return n
        }
        var candidateChain = folded
        // The first folded layer reads the chain's input (into a consumer: the BN's input where it
        // read the BN's output; into a producer: what the layer before it reads after the other
        // folds, another value name for the same numbers).
        if !candidateChain.isEmpty {
            guard candidateChain[0].inputs.count == 1 else { throw FoldCheckError("'\(candidateChain[0].name)' reads \(candidateChain[0].inputs.count) values") }
            candidateChain[0].inputs = [input]
        }
        var info = reference.values[input] ?? ValueInfo(name: input)
        guard let shape = info.shape else { throw FoldCheckError("the shape of its input '\(input)' is not known") }
        // Spatial sizes are capped (a fold acts per channel: a 16x16 window of a 224x224 image
        // checks it as well, at a fiftieth of the cost); open ones take that size too.
        let channel = shape.count >= 3 ? (info.layout ?? .channelsLast).channelAxis(rank: shape.count) : shape.count - 1
        info.shape = shape.enumerated().map { axis, d -> Int? in
            if axis == 0 { return nil }
            if axis == channel || shape.count < 3 { return d ?? openDimension }
            return capsSpatialSizes ? min(d ?? openDimension, openDimension) : (d ?? openDimension)
        }
        func model(_ nodes: [Node], output: String) -> Model {
            var values: [String: ValueInfo] = [input: info]
            for n in nodes { for o in n.outputs { values[o] = ValueInfo(name: o, layout: reference.values[o]?.layout) } }
            return Model(name: "fold-check", format: reference.format, inputs: [input], outputs: [output],
                         nodes: [Node(name: "fold-check-input", op: .input, inputs: [], outputs: [input])] + nodes, values: values)
        }
        let before = model(chain, output: chain.last!.outputs[0])
        let after = model(candidateChain, output: candidateChain.last?.outputs[0] ?? input)
        return (before, after)
    }
}

/// Why a fold could not be checked on its own.
struct FoldCheckError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

import BNConvCore
import BNConvModel
import BNConvEngine

/// Runs a reference and a candidate model through the engine on the same inputs and compares
/// every output, and every intermediate value they share, to find where they diverge.
public struct Verifier {
    /// Options for a verification.
    public struct Options: Sendable {
        /// Seeded random batches to run (in addition to `inputs`).
        public var randomRuns: Int
        /// Batch size of the random inputs.
        public var batch: Int
        /// Seed of the first random batch (the next ones use seed + 1, ...).
        public var seed: UInt64
        /// Range-relative tolerance.
        public var tolerance: Double
        /// User-given input sets, one tensor per model input each.
        public var inputs: [[Tensor]]
        /// Whether to compare intermediate values too (needed for ``VerificationReport/firstDivergence``
        /// and the per-layer plot; costs memory for one run's intermediates).
        public var compareLayers: Bool
        /// Per model input, the axis permutation (numpy `transpose` order) that turns a reference
        /// input into the candidate's (`nil` or missing: fed as is); for a candidate whose layout
        /// was converted (NHWC -> NCHW is `[0, 3, 1, 2]`).
        public var inputPermutations: [[Int]?]
        /// Per model output, the permutation that turns a reference output into the candidate's;
        /// the candidate's output is transposed back by its inverse before the comparison.
        /// Intermediate values whose axes were permuted (same element count, other shape) are skipped.
        public var outputPermutations: [[Int]?]
        /// Whether the engine reads the large weights from the models at each use instead of
        /// preparing a copy of each once (``RunOptions/streamsWeights``): from their file for a
        /// model read with deferred weights, in place from the model's tensors otherwise. A
        /// verification runs each model once or twice, so the copies would cost more memory than
        /// they save time (ResNet-50 ONNX: 815 MB and 1.5 s prepared, 488 MB and 1.0 s streamed).
        public var streamsWeights = true
        /// Whether the reference runs on its own thread beside the candidate (each on half the
        /// cores) rather than the two taking turns on the caller's thread on every core.
        public var runsModelsAtOnce = true
        /// The most bytes of reference values a run beside the candidate keeps for their
        /// counterparts before it waits (it goes on anyway while the candidate waits for one).
        public var heldReferenceBytes = 16 << 20
        /// The most values one random input may hold (``RandomInputs/make(for:batch:seed:limit:like:)``).
        public var randomValueLimit = RandomInputs.maximumValues

        /// Default options: one random batch of 2, seed 0, tolerance 1e-5.
        public init(randomRuns: Int = 1, batch: Int = 2, seed: UInt64 = 0, tolerance: Double = 1e-5,
                    inputs: [[Tensor]] = [], compareLayers: Bool = true,
                    inputPermutations: [[Int]?] = [], outputPermutations: [[Int]?] = []) {
            self.inputPermutations = inputPermutations
            self.outputPermutations = outputPermutations
            self.randomRuns = randomRuns
            self.batch = batch
            self.seed = seed
            self.tolerance = tolerance
            self.inputs = inputs
            self.compareLayers = compareLayers
        }
    }

    /// The options in force.
    public var options: Options

    /// Creates a verifier.
    public init(options: Options = Options()) { self.options = options }

    /// Compares `candidate` with `reference`. `foldMap` is ``FoldBatchNorm/Result/valueMap`` when the
    /// candidate came from a fold; without it, the correspondence is derived from the structure.
    /// `progress` is called after each run with (runs done, runs total).
    public func compare(reference: Model, candidate: Model, foldMap: [String: String]? = nil,
                        progress: ((Int, Int) -> Void)? = nil) throws -> VerificationReport {
        guard reference.inputs.count == candidate.inputs.count, reference.outputs.count == candidate.outputs.count else {
            throw VerificationError.interfaceMismatch(
                "the models differ in interface: \(reference.inputs.count) -> \(reference.outputs.count) vs \(candidate.inputs.count) -> \(candidate.outputs.count) inputs -> outputs")
        }
        // Weights are read where the models hold them at each use (``RunOptions/streamsWeights``):
        // neither model is copied into memory.
        let streams = options.streamsWeights
        // With two cores or more each model runs on half of them, the two at once (``ReferenceRun``).
        let concurrent = options.runsModelsAtOnce && Parallel.cores >= 2
        let threads = concurrent ? max(1, Parallel.cores / 2) : nil
        let comparisonCores = Parallel(threads: threads)
        let referenceRunner = try ModelRunner(model: reference, options: RunOptions(threads: threads, streamsWeights: streams))
        let candidateRunner = try ModelRunner(model: candidate, options: RunOptions(threads: threads, streamsWeights: streams))
        let correspondence = ValueCorrespondence(reference: reference, candidate: candidate, foldMap: foldMap)
        // Random samples are made one run at a time (and the first one up front, so that an input
        // too large to make is refused before anything runs): a million samples hold one in memory.
        let runCount = options.inputs.count + max(options.randomRuns, 0)
        let example = options.inputs.first
        let firstRandom = options.randomRuns > 0 ? try RandomInputs.make(for: reference, batch: options.batch, seed: options.seed, limit: options.randomValueLimit, like: example) : nil
        func inputs(ofRun r: Int) throws -> [Tensor] {
            if r < options.inputs.count { return options.inputs[r] }
            let k = r - options.inputs.count
            if k == 0, let firstRandom { return firstRandom }
            return try RandomInputs.make(for: reference, batch: options.batch, seed: options.seed &+ UInt64(k), limit: options.randomValueLimit, like: example)
        }
        guard runCount > 0 else {
            throw VerificationError.inputMismatch("nothing to run: no --input given and no random samples asked for")
        }
        for (i, inputs) in options.inputs.enumerated() where inputs.count != reference.inputs.count {
            throw VerificationError.inputMismatch("input set \(i + 1) has \(inputs.count) tensors; the model takes \(reference.inputs.count)")
        }
        let producerOf = Dictionary(candidate.nodes.flatMap { n in n.outputs.map { ($0, n.name) } }, uniquingKeysWith: { a, _ in a })
        let wanted = Set(correspondence.referenceFor.values)

        var outputStats: [ErrorStatistics?] = Array(repeating: nil, count: reference.outputs.count)
        var outputShapes: [[Int]] = Array(repeating: [], count: reference.outputs.count)
        var layerStats: [String: ErrorStatistics] = [:]
        var layerOrder: [String] = []
        for runIndex in 0..<runCount {
            let inputs = try inputs(ofRun: runIndex)
            let candidateInputs = try inputs.enumerated().map { i, t in
                try permutation(options.inputPermutations, i).map { try t.transposed($0) } ?? t
            }
            let compareLayers = options.compareLayers
            // The reference runs on a core of its own beside the candidate's run, or, on one core,
            // takes turns with it on this thread. Either way each reference value is kept only until
            // its counterpart exists, so memory holds about one layer's values of each model.
            let referenceValues: ReferenceValues = concurrent
                ? ReferenceRun(runner: referenceRunner, inputs: inputs, observed: compareLayers,
                               wanted: wanted, heldLimit: options.heldReferenceBytes)
                : try ReferenceInTurns(runner: referenceRunner, inputs: inputs, observed: compareLayers, wanted: wanted)
            let actual: [Tensor]
            do {
                let candidateRun = try candidateRunner.start(candidateInputs, observed: compareLayers)
                var written: (name: String, tensor: Tensor)?
                while try candidateRun.step(observe: compareLayers ? { written = ($0, $1) } : nil,
                                            observes: { correspondence.referenceFor[$0] != nil }) {
                    guard let (name, tensor) = written else { continue }
                    written = nil
                    // A layout-converted intermediate (same elements, axes permuted) cannot be compared by position.
                    guard let refName = correspondence.referenceFor[name], let ref = try referenceValues.take(refName),
                          ref.shape == tensor.shape || ref.count != tensor.count else { continue }
                    let stats = try ErrorStatistics(reference: ref, candidate: tensor, cores: comparisonCores)
                    if layerStats[name] == nil { layerOrder.append(name) }
                    layerStats[name] = layerStats[name].map { $0.merged(with: stats) } ?? stats
                }
                actual = try candidateRun.outputs()
            } catch {
                referenceValues.cancel()
                throw error
            }
            let expected = try referenceValues.outputs()
            for i in expected.indices {
                let back = try permutation(options.outputPermutations, i).map { try actual[i].transposed(LayoutBoundary.inverse($0)) }
                let stats = try ErrorStatistics(reference: expected[i], candidate: back ?? actual[i])
                outputStats[i] = outputStats[i].map { $0.merged(with: stats) } ?? stats
                outputShapes[i] = expected[i].shape
            }
            progress?(runIndex + 1, runCount)
        }
        let outputs = reference.outputs.indices.map {
            VerificationReport.Output(name: reference.outputs[$0], shape: outputShapes[$0],
                                      error: outputStats[$0]!)  // every run sets every output
        }
        let layers = layerOrder.map { VerificationReport.Layer(node: producerOf[$0] ?? $0, value: $0, error: layerStats[$0]!) }
        var outputsJudged = outputs
        if outputs.contains(where: { !$0.agrees(tolerance: options.tolerance) && $0.error.maxAbs.isFinite }) {
            // The range says no: measure how much float32 rounding alone moves the original's
            // outputs (the first run's inputs, nudged by a few roundings) before saying so.
            let floors = try noiseFloors(referenceRunner, inputs: try inputs(ofRun: 0))
            for i in outputsJudged.indices where outputsJudged[i].error.maxRel > options.tolerance {
                outputsJudged[i].noiseFloor = floors[i]
            }
        }
        var report = VerificationReport(runs: runCount, tolerance: options.tolerance, outputs: outputsJudged, layers: layers, firstDivergence: nil)
        if !report.passed, let first = layers.first(where: { $0.error.maxRel > options.tolerance }) {
            report.firstDivergence = .init(node: first.node, value: first.value, error: first.error)
        }
        return report
    }

    /// How many times the original's own float32 noise an output may differ by when its range
    /// says it disagrees (``VerificationReport/Output/noiseFloor``). A correct fold changes the
    /// rounding of every folded layer (each by about one unit in the last place); a dropped or
    /// doubled epsilon moves a BatchNorm's output by epsilon / variance, thousands of times more.
    public static let noiseMultiple = 16.0

    /// Per output, the largest change of the reference's output when every float input element
    /// moves by four float32 roundings (relative 2^-22, sign alternating by position).
    private func noiseFloors(_ runner: ModelRunner, inputs: [Tensor]) throws -> [Double] {
        let nudged = inputs.map { t -> Tensor in
            guard t.dtype == .float32 else { return t }
            var values = t.floats()
            let step = Float(1.0 / Double(1 << 22))
            for k in values.indices { values[k] *= 1 + (k % 2 == 0 ? step : -step) }
            return Tensor(shape: t.shape, floats: values)
        }
        let plain = try runner.run(inputs)
        let moved = try runner.run(nudged)
        return zip(plain, moved).map { a, b in
            zip(a.floats(), b.floats()).reduce(0.0) { max($0, Double(abs($1.0 - $1.1))) }
        }
    }

    private func permutation(_ list: [[Int]?], _ i: Int) -> [Int]? {
        i < list.count ? list[i] : nil
    }
}
